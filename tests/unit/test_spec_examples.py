"""The example manifests (used by the demo and e2e tests) are valid specs and map as documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jetstream_operator.mapping.adapter_env import adapter_env
from jetstream_operator.mapping.consumer import consumer_config
from jetstream_operator.mapping.stream import stream_config
from jetstream_operator.spec import ConsumerSpec, NatsConnectionSpec, StreamSpec

from adapter_runtime.settings import AdapterSettings

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "examples"


def docs() -> list[dict[str, Any]]:
    return [d for f in sorted(EXAMPLES.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


def by_name(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def test_every_custom_resource_example_validates() -> None:
    models = {"Stream": StreamSpec, "Consumer": ConsumerSpec, "NatsConnection": NatsConnectionSpec}
    seen = []
    for doc in docs():
        if doc["apiVersion"].startswith("jetstream.oppie.xyz/"):
            models[doc["kind"]].from_resource(doc)
            seen.append(doc["kind"])
    assert sorted(set(seen)) == ["Consumer", "NatsConnection", "Stream"]


def test_orders_stream() -> None:
    cfg = stream_config(StreamSpec.from_resource(by_name("Stream", "orders")))
    assert cfg["name"] == "orders" and cfg["subjects"] == ["orders.>"]
    assert cfg["max_age"] == 168 * 3600 * 10**9 and cfg["max_bytes"] == 2**30


def test_orders_worker_consumer_and_its_pod_env() -> None:
    spec = ConsumerSpec.from_resource(by_name("Consumer", "orders-worker"))
    cfg = consumer_config(spec)
    assert cfg["durable_name"] == "orders-worker" and cfg["filter_subject"] == "orders.created"
    settings = AdapterSettings.from_env(adapter_env(spec, "orders", ["nats://127.0.0.1:4222"]))
    assert (settings.batch_size, settings.max_inflight, settings.dead_letter_subject) == (
        100,
        1000,
        "dlq.orders",
    )
    assert settings.enable_compression and settings.min_compress_size == 1024


def test_connection_example_uses_a_basic_auth_secret_of_its_namespace() -> None:
    secret = by_name("Secret", "nats-app-user")
    conn = NatsConnectionSpec.from_resource(by_name("NatsConnection", "nats-main"))
    ref = conn.auth.user_password_secret_ref  # type: ignore[union-attr]
    assert ref is not None and ref.name == secret["metadata"]["name"]
    assert {ref.username_key, ref.password_key} <= set(secret["stringData"])
    assert "namespace" not in secret["metadata"]
