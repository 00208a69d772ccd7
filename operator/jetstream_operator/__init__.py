"""The seam-jetstream kopf operator.

kopf is loaded here, before any submodule imports it, so the operator process never loads a
Kubernetes client library (see ``kopf_loading``).
"""

from jetstream_operator.kopf_loading import load_kopf_without_client_libraries

load_kopf_without_client_libraries()
