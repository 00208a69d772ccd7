"""kubectl apply of Streams and Consumers -> exactly that config in NATS; updates; status; events."""

from __future__ import annotations

import pytest

from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsProcess
from tests.e2e.nats_probe import consumer_config, js, publish, stream_config
from tests.e2e.operator_process import (
    OperatorProcess,
    apply,
    consumer_doc,
    event_reasons,
    get,
    poll,
    stream_doc,
    wait_ready,
)

pytestmark = pytest.mark.e2e

NS_PER_S = 1_000_000_000


def test_stream_and_consumer_exist_with_exactly_the_configured_settings(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    apply(
        kube,
        ns,
        stream_doc(
            "orders",
            name="ORDERS",
            subjects=["orders.>"],
            retention="limits",
            maxAge="1h30m",
            maxMsgs=1000,
            maxBytes="10Mi",
            storage="file",
            replicas=1,
            discard="new",
            duplicateWindow="30s",
        ),
        consumer_doc(
            "worker",
            streamRef={"name": "orders"},
            ackWait="10s",
            maxDeliver=5,
            filterSubject="orders.created",
            deliverPolicy="all",
            maxAckPending=50,
        ),
    )
    stream = wait_ready(kube, ns, "streams", "orders")
    consumer = wait_ready(kube, ns, "consumers", "worker")

    config = stream_config(nats_server.url, "ORDERS")
    assert config is not None
    assert config["subjects"] == ["orders.>"]
    assert config["max_age"] == 5400 * NS_PER_S
    assert config["max_msgs"] == 1000
    assert config["max_bytes"] == 10 * 1024 * 1024
    assert config["storage"] == "file" and config["num_replicas"] == 1
    assert config["discard"] == "new" and config["retention"] == "limits"
    assert config["duplicate_window"] == 30 * NS_PER_S

    cconfig = consumer_config(nats_server.url, "ORDERS", "worker")
    assert cconfig is not None
    assert cconfig["durable_name"] == "worker"
    assert cconfig["ack_wait"] == 10 * NS_PER_S
    assert cconfig["max_deliver"] == 5
    assert cconfig["filter_subject"] == "orders.created"
    assert cconfig["deliver_policy"] == "all" and cconfig["ack_policy"] == "explicit"
    assert cconfig["max_ack_pending"] == 50

    status = stream["status"]
    assert status["observedGeneration"] == stream["metadata"]["generation"]
    assert status["streamName"] == "ORDERS"
    assert {"messages", "bytes", "firstSeq", "lastSeq", "consumerCount", "replicas"} <= set(status["state"])
    assert consumer["status"]["state"]["numPending"] == 0
    assert "Created" in event_reasons(kube, ns, "orders")
    assert "Created" in event_reasons(kube, ns, "worker")

    # The server state is refreshed periodically: messages and pending counts appear in status.
    publish(nats_server.url, "orders.created", b"{}", count=3)
    poll(
        lambda: get(kube, ns, "streams", "orders"),
        lambda obj: obj["status"]["state"]["messages"] == 3 and obj["status"]["state"]["consumerCount"] == 1,
        timeout=30,
        what="stream state refresh",
    )
    poll(
        lambda: get(kube, ns, "consumers", "worker"),
        lambda obj: obj["status"]["state"]["numPending"] == 3,
        timeout=30,
        what="consumer state refresh",
    )

    # Printer columns, short names and the jetstream category read the same status.
    table = kube.kubectl("get", "jetstream", "-n", ns).stdout
    assert "orders" in table and "worker" in table and "True" in table


def test_updates_are_applied(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    apply(kube, ns, stream_doc("events", subjects=["events.>"], maxMsgs=10))
    apply(kube, ns, consumer_doc("reader", streamRef={"name": "events"}, maxDeliver=3))
    wait_ready(kube, ns, "consumers", "reader")
    first = get(kube, ns, "streams", "events")
    assert first is not None

    apply(kube, ns, stream_doc("events", subjects=["events.>", "audit.>"], maxMsgs=20, maxAge="2h"))
    poll(
        lambda: stream_config(nats_server.url, "events"),
        lambda c: c["max_msgs"] == 20 and sorted(c["subjects"]) == ["audit.>", "events.>"],
        timeout=30,
        what="stream update",
    )
    assert stream_config(nats_server.url, "events")["max_age"] == 7200 * NS_PER_S
    updated = poll(
        lambda: get(kube, ns, "streams", "events"),
        lambda obj: obj["status"].get("observedGeneration") == obj["metadata"]["generation"] > 1,
        timeout=30,
    )
    assert updated["status"]["conditions"][0]["status"] == "True"
    assert "Updated" in event_reasons(kube, ns, "events")

    # An updatable consumer field is changed in place (immutable ones are refused by the CRD rules).
    apply(kube, ns, consumer_doc("reader", streamRef={"name": "events"}, maxDeliver=7))
    poll(lambda: consumer_config(nats_server.url, "events", "reader"), lambda c: c["max_deliver"] == 7, 30)
    wait_ready(kube, ns, "consumers", "reader")
    assert "Updated" in event_reasons(kube, ns, "reader")


def test_consumer_waits_for_its_stream(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    apply(kube, ns, consumer_doc("early", streamRef={"name": "later"}))
    waiting = wait_ready(kube, ns, "consumers", "early", status="False", reason="StreamNotFound")
    assert "later" in waiting["status"]["conditions"][0]["message"]
    apply(kube, ns, stream_doc("later", subjects=["later.>"]))
    wait_ready(kube, ns, "streams", "later")
    # Woken by the Stream becoming Ready, not by a resync or a long backoff.
    wait_ready(kube, ns, "consumers", "early", timeout=15)
    assert consumer_config(nats_server.url, "later", "early") is not None


def test_invalid_spec_reports_the_field(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    # Accepted by the schema, refused by the server: the reason and the server's words reach status.
    apply(kube, ns, stream_doc("clash-a", name="CLASH_A", subjects=["clash.>"], deletionPolicy="Delete"))
    wait_ready(kube, ns, "streams", "clash-a")
    apply(kube, ns, stream_doc("clash-b", name="CLASH_B", subjects=["clash.>"]))
    failed = wait_ready(kube, ns, "streams", "clash-b", status="False", reason="CreateFailed")
    assert "overlap" in failed["status"]["conditions"][0]["message"]
    assert "CreateFailed" in event_reasons(kube, ns, "clash-b")
    # Errors never stick: once the cause is gone, the retry succeeds.
    kube.kubectl("delete", "-n", ns, "stream", "clash-a")
    wait_ready(kube, ns, "streams", "clash-b", timeout=30)


def test_existing_stream_and_consumer_are_adopted(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    assert "error" not in js(
        nats_server.url, "STREAM.CREATE.LEGACY", {"name": "LEGACY", "subjects": ["legacy.>"], "max_msgs": 5}
    )
    publish(nats_server.url, "legacy.x", b"kept", count=2)
    assert "error" not in js(
        nats_server.url,
        "CONSUMER.CREATE.LEGACY.old-worker",
        {
            "stream_name": "LEGACY",
            "config": {"durable_name": "old-worker", "ack_policy": "explicit", "max_deliver": 2},
        },
    )
    apply(kube, ns, stream_doc("legacy", name="LEGACY", subjects=["legacy.>"], maxMsgs=500))
    apply(kube, ns, consumer_doc("old-worker", streamRef={"name": "legacy"}, maxDeliver=9))
    stream = wait_ready(kube, ns, "streams", "legacy")
    wait_ready(kube, ns, "consumers", "old-worker")
    assert stream_config(nats_server.url, "LEGACY")["max_msgs"] == 500
    assert consumer_config(nats_server.url, "LEGACY", "old-worker")["max_deliver"] == 9
    assert "Adopted" in event_reasons(kube, ns, "legacy")
    assert "Adopted" in event_reasons(kube, ns, "old-worker")
    # Adoption keeps the data.
    assert stream["status"]["state"]["messages"] == 2
