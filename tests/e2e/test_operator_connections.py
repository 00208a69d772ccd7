"""NatsConnection: credentials from same-namespace Secrets, prompt reaction to Secret changes, pooling."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from seam_harness.kube import ControlPlane, KubectlError
from seam_harness.nats import NatsProcess
from tests.e2e.operator_process import (
    StartOperator,
    apply,
    event_reasons,
    events,
    poll,
    ready,
    stream_doc,
    wait_ready,
)

pytestmark = pytest.mark.e2e

PASSWORD = "s3cret-Right-Pa55"
WRONG = "wrong-Pa55-value"


def connection_doc(name: str, servers: list[str], auth: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"servers": servers}
    if auth:
        spec["auth"] = auth
    return {
        "apiVersion": "jetstream.oppie.xyz/v1alpha1",
        "kind": "NatsConnection",
        "metadata": {"name": name},
        "spec": spec,
    }


def secret_yaml(name: str, password: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name},
            "type": "kubernetes.io/basic-auth",
            "stringData": {"username": "app", "password": password},
        }
    )


@pytest.fixture
def auth_server() -> Iterator[NatsProcess]:
    server = NatsProcess(name="auth", extra_config=f'authorization {{ user: app, password: "{PASSWORD}" }}')
    server.start()
    try:
        yield server
    finally:
        server.close()


def test_wrong_credentials_give_a_clear_reason_and_a_fixed_secret_recovers_promptly(
    kube: ControlPlane, kube_namespace: str, auth_server: NatsProcess, start_operator: StartOperator
) -> None:
    ns = kube_namespace
    kube.kubectl("apply", "-n", ns, "-f", "-", input=secret_yaml("nats-auth", WRONG))
    op = start_operator("nats://127.0.0.1:1", resync_seconds=120)
    apply(
        kube,
        ns,
        connection_doc("main", [auth_server.url], {"userPasswordSecretRef": {"name": "nats-auth"}}),
    )
    apply(kube, ns, stream_doc("secured", subjects=["secured.>"], connectionRef={"name": "main"}))
    conn = wait_ready(kube, ns, "natsconnections", "main", status="False", reason="CredentialsRejected")
    message = ready(conn)[2] or ""
    assert "credentials rejected" in message and "Authorization Violation" in message
    wait_ready(kube, ns, "streams", "secured", status="False", reason="CredentialsRejected")

    # Fixing the Secret reconciles the connection and its Stream now, not at the 120 s resync.
    kube.kubectl("apply", "-n", ns, "-f", "-", input=secret_yaml("nats-auth", PASSWORD))
    wait_ready(kube, ns, "natsconnections", "main", timeout=30)
    wait_ready(kube, ns, "streams", "secured", timeout=30)

    # Secrets never leak into status, events or logs.
    everything = json.dumps(kube.kubectl_json("get", "natsconnections,streams", "-n", ns))
    everything += json.dumps(events(kube, ns, "main")) + json.dumps(events(kube, ns, "secured"))
    everything += op.log()
    assert PASSWORD not in everything and WRONG not in everything
    assert "CredentialsRejected" in event_reasons(kube, ns, "main")


def test_cross_namespace_secret_reference_is_refused(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, start_operator: StartOperator
) -> None:
    ns = kube_namespace
    other = kube.create_namespace("other")
    try:
        kube.kubectl("apply", "-n", other, "-f", "-", input=secret_yaml("elsewhere", PASSWORD))
        doc = connection_doc(
            "sneaky", [nats_server.url], {"userPasswordSecretRef": {"name": "elsewhere", "namespace": other}}
        )
        with pytest.raises(KubectlError) as info:
            apply(kube, ns, doc)
        assert "namespace" in info.value.stderr

        # Even by name alone, the operator looks only in the resource's own namespace.
        start_operator(nats_server.url)
        apply(
            kube,
            ns,
            connection_doc("plain", [nats_server.url], {"userPasswordSecretRef": {"name": "elsewhere"}}),
        )
        refused = wait_ready(kube, ns, "natsconnections", "plain", status="False", reason="SecretNotFound")
        assert f"{ns}/elsewhere" in (ready(refused)[2] or "")
    finally:
        kube.delete_namespace(other)


def _operator_connections(server: NatsProcess) -> list[str]:
    with urllib.request.urlopen(f"{server.monitor_url}/connz", timeout=5) as resp:
        connz = json.load(resp)
    return [
        str(c.get("name"))
        for c in connz.get("connections") or []
        if str(c.get("name", "")).startswith("seam-jetstream-operator")
    ]


def test_two_hundred_streams_share_one_connection(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, start_operator: StartOperator
) -> None:
    ns = kube_namespace
    op = start_operator(nats_server.url, resync_seconds=60)
    apply(kube, ns, connection_doc("shared", [nats_server.url]))
    wait_ready(kube, ns, "natsconnections", "shared")
    count = 200
    apply(
        kube,
        ns,
        *[stream_doc(f"p{i}", subjects=[f"p{i}.>"], connectionRef={"name": "shared"}) for i in range(count)],
    )

    def ready_count() -> int:
        items = kube.kubectl_json("get", "streams", "-n", ns)["items"]
        return sum(1 for item in items if ready(item)[0] == "True")

    began = time.monotonic()
    poll(ready_count, lambda n: n == count, timeout=300, what=f"{count} streams Ready")
    print(f"\n{count} streams Ready {time.monotonic() - began:.1f}s after kubectl apply returned")
    names = _operator_connections(nats_server)
    print(f"\noperator connections for {count} streams: {len(names)} {names}")
    assert 1 <= len(names) <= 2
    assert all("NatsConnection" in name for name in names)
    op.stop()
    # A stopped operator leaves no connection behind.
    poll(lambda: _operator_connections(nats_server), lambda names: names == [], timeout=15)


def test_connection_change_reaches_dependents_promptly_and_deletion_never_hangs(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, start_operator: StartOperator
) -> None:
    ns = kube_namespace
    start_operator("nats://127.0.0.1:1", resync_seconds=120)
    apply(kube, ns, connection_doc("moving", ["nats://127.0.0.1:1"]))
    apply(
        kube,
        ns,
        stream_doc(
            "follower", subjects=["follower.>"], connectionRef={"name": "moving"}, deletionPolicy="Delete"
        ),
    )
    wait_ready(kube, ns, "streams", "follower", status="False", reason="NatsUnavailable")
    # Pointing the NatsConnection at the real server fixes the Stream now, not at the resync.
    apply(kube, ns, connection_doc("moving", [nats_server.url]))
    wait_ready(kube, ns, "natsconnections", "moving", timeout=30)
    wait_ready(kube, ns, "streams", "follower", timeout=30)

    # With its NatsConnection gone the stream cannot be deleted; the finalizer still lets go.
    kube.kubectl("delete", "-n", ns, "natsconnection", "moving", "--timeout=30s")
    kube.kubectl("delete", "-n", ns, "stream", "follower", "--timeout=60s")
    assert any(
        e["reason"] == "Deleted" and "NOT deleted" in e["message"] for e in events(kube, ns, "follower")
    )
