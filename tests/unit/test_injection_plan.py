"""Injection: annotations -> plan (resolution through a dict lookup) -> denial messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from jetstream_operator.injection import InjectionDenied, build_plan, parse_request
from jetstream_operator.injection.plan import publisher_env

from adapter_runtime.settings import AdapterSettings

pytestmark = pytest.mark.unit

NS = "shop"
DEFAULT = ["nats://nats.default.svc:4222"]


class DictLookup:
    """The pod's namespace as plain data: (kind, name) -> body, secret name -> keys."""

    def __init__(
        self, resources: dict[tuple[str, str], dict[str, Any]], secrets: dict[str, set[str]]
    ) -> None:
        self.resources = resources
        self.secrets = secrets
        self.reads: list[tuple[str, str]] = []

    async def resource(self, kind: str, name: str) -> Mapping[str, Any] | None:
        self.reads.append((kind, name))
        return self.resources.get((kind, name))

    async def secret_keys(self, name: str) -> set[str] | None:
        self.reads.append(("Secret", name))
        return self.secrets.get(name)


def body(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "namespace": NS}, "spec": spec}


def pod(annotations: dict[str, str], containers: tuple[str, ...] = ("app",)) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": NS, "annotations": annotations},
        "spec": {"containers": [{"name": c, "image": "x"} for c in containers]},
    }


def world(**overrides: Any) -> DictLookup:
    resources = {
        ("Stream", "orders"): body("Stream", "orders", {"name": "ORDERS", "subjects": ["orders.>"]}),
        ("Consumer", "orders-worker"): body(
            "Consumer",
            "orders-worker",
            {"streamRef": {"name": "orders"}, "maxAckPending": 500, "adapter": {"batchSize": 50}},
        ),
        ("Stream", "audit"): body(
            "Stream", "audit", {"subjects": ["audit.>"], "connectionRef": {"name": "hub"}}
        ),
        ("Consumer", "audit-reader"): body("Consumer", "audit-reader", {"streamRef": {"name": "audit"}}),
        ("NatsConnection", "hub"): body(
            "NatsConnection",
            "hub",
            {
                "servers": ["nats://hub:4222"],
                "auth": {"userPasswordSecretRef": {"name": "hub-user"}},
                "tls": {"caSecretRef": {"name": "hub-ca", "key": "ca.crt"}},
                "jsDomain": "hub",
            },
        ),
        ("Consumer", "raw"): body(
            "Consumer", "raw", {"streamName": "RAW", "connectionRef": {"name": "tok"}, "durableName": "R"}
        ),
        ("NatsConnection", "tok"): body(
            "NatsConnection",
            "tok",
            {"servers": ["nats://t:4222"], "auth": {"tokenSecretRef": {"name": "t", "key": "token"}}},
        ),
    }
    resources.update(overrides.pop("resources", {}))
    secrets = {"hub-user": {"username", "password"}, "hub-ca": {"ca.crt"}, "t": {"token"}}
    secrets.update(overrides.pop("secrets", {}))
    return DictLookup(resources, secrets)


async def plan_for(annotations: dict[str, str], lookup: DictLookup | None = None) -> Any:
    return await build_plan(parse_request(pod(annotations)), NS, lookup or world(), DEFAULT)


async def test_consumer_side_resolves_stream_and_default_servers() -> None:
    plan = await plan_for({"jetstream.oppie.xyz/consumer": "orders-worker"})
    assert plan.source == "Consumer/orders-worker"
    settings = AdapterSettings.from_env(plan.env)
    assert settings.stream_name == "ORDERS"  # spec.name of the Stream, not the resource name
    assert settings.consumer_name == "orders-worker"
    assert settings.server_urls == DEFAULT
    assert (settings.batch_size, settings.max_ack_pending) == (50, 500)
    assert settings.create_stream is False
    assert plan.secret_env == {} and plan.mounts == []


async def test_consumer_on_a_connection_gets_its_servers_and_secrets() -> None:
    plan = await plan_for({"jetstream.oppie.xyz/consumer": "audit-reader"})
    assert plan.env["SEAM_NATS_SERVER_URLS"] == "nats://hub:4222"
    assert plan.env["SEAM_NATS_STREAM_NAME"] == "audit"
    assert plan.env["SEAM_NATS_JS_DOMAIN"] == "hub"
    assert plan.env["SEAM_NATS_PASSWORD_FILE"] == "/var/run/seam-nats/password/password"
    assert plan.env["SEAM_NATS_TLS_CA_FILE"] == "/var/run/seam-nats/tls-ca/ca.crt"
    assert plan.secret_env == {"SEAM_NATS_USER": {"name": "hub-user", "key": "username"}}
    assert sorted((m.secret, m.key) for m in plan.mounts) == [("hub-ca", "ca.crt"), ("hub-user", "password")]


async def test_stream_name_consumer_uses_its_own_connection() -> None:
    plan = await plan_for({"jetstream.oppie.xyz/consumer": "raw"})
    assert plan.env["SEAM_NATS_STREAM_NAME"] == "RAW"
    assert plan.env["SEAM_NATS_CONSUMER_NAME"] == "R"
    assert plan.env["SEAM_NATS_TOKEN_FILE"] == "/var/run/seam-nats/token/token"


async def test_publisher_side() -> None:
    plan = await plan_for({"jetstream.oppie.xyz/stream": "audit"})
    assert plan.source == "Stream/audit"
    assert plan.env["SEAM_NATS_STREAM_NAME"] == "audit"
    assert plan.env["SEAM_NATS_CREATE_STREAM"] == "false"
    assert "SEAM_NATS_CONSUMER_NAME" not in plan.env
    assert plan.secret_env == {"SEAM_NATS_USER": {"name": "hub-user", "key": "username"}}


def test_publisher_env_without_connection_round_trips() -> None:
    env = publisher_env("ORDERS", DEFAULT)
    settings = AdapterSettings.from_env(env)
    assert (settings.stream_name, settings.server_urls, settings.consumer_name) == ("ORDERS", DEFAULT, None)


DENIALS: list[tuple[str, dict[str, str], dict[str, Any], str]] = [
    (
        "consumer missing",
        {"jetstream.oppie.xyz/consumer": "orders-wrker"},
        {},
        'jetstream.oppie.xyz/consumer: Consumer "orders-wrker" not found in namespace "shop"',
    ),
    (
        "stream missing",
        {"jetstream.oppie.xyz/stream": "nope"},
        {},
        'jetstream.oppie.xyz/stream: Stream "nope" not found in namespace "shop"',
    ),
    (
        "consumer's stream missing",
        {"jetstream.oppie.xyz/consumer": "c"},
        {"resources": {("Consumer", "c"): body("Consumer", "c", {"streamRef": {"name": "gone"}})}},
        'jetstream.oppie.xyz/consumer: Consumer "c" reads Stream "gone", '
        'which is not found in namespace "shop"',
    ),
    (
        "invalid consumer",
        {"jetstream.oppie.xyz/consumer": "c"},
        {
            "resources": {
                ("Consumer", "c"): body("Consumer", "c", {"streamRef": {"name": "orders"}, "ackWait": "5x"})
            }
        },
        'jetstream.oppie.xyz/consumer: Consumer "c" is invalid: spec.ackWait:',
    ),
    (
        "push consumer",
        {"jetstream.oppie.xyz/consumer": "c"},
        {
            "resources": {
                ("Consumer", "c"): body("Consumer", "c", {"streamName": "X", "deliverSubject": "d.x"})
            }
        },
        'Consumer "c" is a push consumer (spec.deliverSubject); the adapter pulls',
    ),
    (
        "connection missing",
        {"jetstream.oppie.xyz/stream": "s"},
        {"resources": {("Stream", "s"): body("Stream", "s", {"connectionRef": {"name": "nc"}})}},
        'jetstream.oppie.xyz/stream: NatsConnection "nc" not found in namespace "shop"',
    ),
    (
        "secret missing",
        {"jetstream.oppie.xyz/consumer": "audit-reader"},
        {"secrets": {"hub-ca": None}},
        'Secret "hub-ca" (used by NatsConnection "hub") not found in namespace "shop"',
    ),
    (
        "secret key missing",
        {"jetstream.oppie.xyz/consumer": "audit-reader"},
        {"secrets": {"hub-user": {"user", "password"}}},
        'Secret "hub-user" (used by NatsConnection "hub") has no key "username"',
    ),
    (
        "both annotations",
        {"jetstream.oppie.xyz/consumer": "a", "jetstream.oppie.xyz/stream": "b"},
        {},
        "jetstream.oppie.xyz/consumer and jetstream.oppie.xyz/stream: set one of them, not both",
    ),
    (
        "no annotation",
        {},
        {},
        'jetstream.oppie.xyz/inject: "true" needs the annotation jetstream.oppie.xyz/consumer',
    ),
    (
        "unknown container",
        {"jetstream.oppie.xyz/stream": "orders", "jetstream.oppie.xyz/container": "web"},
        {},
        "jetstream.oppie.xyz/container: no container named 'web' in the pod (containers: app)",
    ),
]


@pytest.mark.parametrize(
    ("annotations", "overrides", "message"), [d[1:] for d in DENIALS], ids=[d[0] for d in DENIALS]
)
async def test_denials_name_the_annotation_and_reason(
    annotations: dict[str, str], overrides: dict[str, Any], message: str
) -> None:
    lookup = world(**overrides)
    lookup.secrets = {k: v for k, v in lookup.secrets.items() if v is not None}
    with pytest.raises(InjectionDenied) as caught:
        await plan_for(annotations, lookup)
    assert message in str(caught.value)


async def test_lookups_stay_in_the_chain() -> None:
    lookup = world()
    await plan_for({"jetstream.oppie.xyz/consumer": "audit-reader"}, lookup)
    assert lookup.reads == [
        ("Consumer", "audit-reader"),
        ("Stream", "audit"),
        ("NatsConnection", "hub"),
        ("Secret", "hub-user"),
        ("Secret", "hub-ca"),
    ]
