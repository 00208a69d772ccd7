"""The seam-jetstream kopf operator. Importing the package has no side effects; the entry point
(``__main__``) loads kopf without the Kubernetes client libraries (see ``kopf_loading``)."""
