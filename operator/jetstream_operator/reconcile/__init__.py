"""Reconcilers: the I/O edge between validated specs, the JetStream API and resource status."""
