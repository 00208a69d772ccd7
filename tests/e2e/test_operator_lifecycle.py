"""Deletion policies, finalizers with NATS down, NATS outages and operator restarts."""

from __future__ import annotations

import threading

import pytest

from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsProcess
from tests.e2e.nats_probe import consumer_config, stream_config, stream_names
from tests.e2e.operator_process import (
    OperatorProcess,
    StartOperator,
    apply,
    consumer_doc,
    get,
    poll,
    ready,
    stream_doc,
    wait_ready,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def operator_resync() -> float:
    return 2.0


def test_deletion_policies(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    apply(
        kube,
        ns,
        stream_doc("kept", subjects=["kept.>"]),  # default deletionPolicy: Retain
        stream_doc("dropped", subjects=["dropped.>"], deletionPolicy="Delete"),
        consumer_doc("c-default", streamRef={"name": "kept"}),  # default for consumers: Delete
        consumer_doc("c-retained", streamRef={"name": "kept"}, deletionPolicy="Retain"),
    )
    for kind, name in (
        ("streams", "kept"),
        ("streams", "dropped"),
        ("consumers", "c-default"),
        ("consumers", "c-retained"),
    ):
        wait_ready(kube, ns, kind, name)

    kube.kubectl("delete", "-n", ns, "consumer", "c-default", "c-retained", "--timeout=60s")
    assert consumer_config(nats_server.url, "kept", "c-default") is None
    assert consumer_config(nats_server.url, "kept", "c-retained") is not None

    kube.kubectl("delete", "-n", ns, "stream", "kept", "dropped", "--timeout=60s")
    assert stream_config(nats_server.url, "kept") is not None
    assert stream_config(nats_server.url, "dropped") is None


def test_finalizer_waits_for_nats_and_says_why(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    apply(kube, ns, stream_doc("doomed", subjects=["doomed.>"], deletionPolicy="Delete"))
    wait_ready(kube, ns, "streams", "doomed")
    nats_server.stop()
    kube.kubectl("delete", "-n", ns, "stream", "doomed", "--wait=false")
    pending = wait_ready(kube, ns, "streams", "doomed", status="False", reason="DeletionPending", timeout=60)
    assert "retrying" in ready(pending)[2]
    assert pending["metadata"].get("deletionTimestamp")
    nats_server.start()
    poll(
        lambda: get(kube, ns, "streams", "doomed"),
        lambda obj: obj is None,
        timeout=60,
        what="finalizer released",
    )
    assert "doomed" not in stream_names(nats_server.url)


def test_nats_down_sets_ready_false_then_recovers(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    apply(kube, ns, stream_doc("resilient", subjects=["resilient.>"]))
    apply(kube, ns, consumer_doc("patient", streamRef={"name": "resilient"}))
    wait_ready(kube, ns, "consumers", "patient")
    nats_server.stop()
    down = wait_ready(kube, ns, "streams", "resilient", status="False", reason="NatsUnavailable", timeout=60)
    assert ready(down)[2]  # a message saying what failed
    wait_ready(kube, ns, "consumers", "patient", status="False", timeout=60)
    nats_server.start()
    wait_ready(kube, ns, "streams", "resilient", timeout=60)
    wait_ready(kube, ns, "consumers", "patient", timeout=60)


def test_operator_killed_midway_converges_after_restart(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, start_operator: StartOperator
) -> None:
    ns = kube_namespace
    first = start_operator(nats_server.url, resync_seconds=2.0, name="first")
    names = [f"s{i}" for i in range(40)]
    docs = [
        *[consumer_doc(f"c-{n}", streamRef={"name": n}) for n in names],
        *[stream_doc(n, subjects=[f"{n}.>"]) for n in names],
    ]
    # Kill it while the resources are still arriving and being worked on.
    applying = threading.Thread(target=apply, args=(kube, ns, *docs))
    applying.start()
    poll(lambda: len(stream_names(nats_server.url)), lambda count: count >= 3, timeout=60)
    first.kill()
    applying.join()
    partial = len(stream_names(nats_server.url))
    half_done = [get(kube, ns, "consumers", f"c-{n}") for n in names]
    consumers_ready = sum(1 for obj in half_done if ready(obj)[0] == "True")
    start_operator(nats_server.url, resync_seconds=2.0, name="second")
    for n in names:
        wait_ready(kube, ns, "streams", n, timeout=120)
        wait_ready(kube, ns, "consumers", f"c-{n}", timeout=120)
    assert sorted(stream_names(nats_server.url)) == sorted(names)
    print(
        f"\nbefore the kill: {partial}/{len(names)} streams, {consumers_ready}/{len(names)} consumers Ready"
    )
