"""On a 3-node JetStream cluster, status shows the stream leader and each replica's health."""

from __future__ import annotations

import pytest

from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsCluster
from tests.e2e.operator_process import (
    StartOperator,
    apply,
    consumer_doc,
    get,
    poll,
    stream_doc,
    wait_ready,
)

pytestmark = pytest.mark.e2e


def test_replicated_stream_reports_leader_and_replica_health(
    kube: ControlPlane, kube_namespace: str, nats_cluster: NatsCluster, start_operator: StartOperator
) -> None:
    ns = kube_namespace
    start_operator(",".join(nats_cluster.urls), resync_seconds=2.0)
    apply(kube, ns, stream_doc("replicated", subjects=["replicated.>"], replicas=3))
    apply(kube, ns, consumer_doc("replicated-worker", streamRef={"name": "replicated"}))
    wait_ready(kube, ns, "consumers", "replicated-worker", timeout=90)
    names = {node.name for node in nats_cluster.nodes}

    def healthy(obj: dict | None) -> bool:
        state = ((obj or {}).get("status") or {}).get("state") or {}
        replicas = state.get("replicas") or []
        return state.get("leader") in names and len(replicas) == 2 and all(r["current"] for r in replicas)

    stream = poll(lambda: get(kube, ns, "streams", "replicated"), healthy, timeout=60, what="replica health")
    state = stream["status"]["state"]
    assert state["cluster"] == "seam"
    assert {r["name"] for r in state["replicas"]} | {state["leader"]} == names
    consumer = get(kube, ns, "consumers", "replicated-worker")
    assert consumer is not None and consumer["status"]["state"]["leader"] in names

    # A follower goes down: status says so, and the stream stays Ready (quorum holds).
    follower = next(n for n in nats_cluster.nodes if n.name != state["leader"])
    follower.stop()
    degraded = poll(
        lambda: get(kube, ns, "streams", "replicated"),
        lambda obj: any(
            r["name"] == follower.name and (not r["current"] or r.get("offline"))
            for r in obj["status"]["state"]["replicas"]
        ),
        timeout=60,
        what="replica reported unhealthy",
    )
    assert degraded["status"]["conditions"][0]["status"] == "True"
