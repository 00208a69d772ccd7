"""Pure mappings from validated spec models to NATS JetStream API configs, drift and pod env."""
