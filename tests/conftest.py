"""Tests, tiered by pytest marker: unit, integration (real nats-server), e2e (real control plane)."""
