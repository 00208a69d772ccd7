"""Resilience suite: the design note's scenario matrix run against a real nats-server (and Toxiproxy)."""
