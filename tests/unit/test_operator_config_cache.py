"""Resolved NatsConnection configs are reused until they expire or are invalidated."""

import pytest
from jetstream_operator.connections import ConnectionConfig
from jetstream_operator.reconcile.connection_config import ConfigCache, secret_names
from jetstream_operator.spec.connection import NatsConnectionSpec

pytestmark = pytest.mark.unit

CONFIG = ConnectionConfig(servers=("nats://127.0.0.1:4222",))


def test_hit_expiry_and_invalidation(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("time.monotonic", lambda: now[0])
    cache = ConfigCache(ttl=10)
    cache.put("ns", "a", CONFIG)
    cache.put("ns", "b", CONFIG)
    cache.put("other", "a", CONFIG)
    assert cache.get("ns", "a") is CONFIG
    cache.invalidate("ns", "a")
    assert cache.get("ns", "a") is None and cache.get("ns", "b") is CONFIG
    cache.invalidate("ns")
    assert cache.get("ns", "b") is None and cache.get("other", "a") is CONFIG
    now[0] = 111.0
    assert cache.get("other", "a") is None


def test_secret_names_lists_every_referenced_secret() -> None:
    spec = NatsConnectionSpec.model_validate(
        {
            "servers": ["nats://127.0.0.1:4222"],
            "auth": {"userPasswordSecretRef": {"name": "creds"}},
            "tls": {
                "caSecretRef": {"name": "ca", "key": "ca.crt"},
                "certSecretRef": {"name": "client", "key": "tls.crt"},
                "keySecretRef": {"name": "client", "key": "tls.key"},
            },
        }
    )
    assert secret_names(spec) == {"creds", "ca", "client"}
