"""Two operator replicas with kopf peering: exactly one acts; the standby takes over when it dies."""

from __future__ import annotations

import pytest

from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsProcess
from tests.e2e.nats_probe import stream_config
from tests.e2e.operator_process import StartOperator, apply, poll, stream_doc, wait_ready

pytestmark = pytest.mark.e2e


def test_two_replicas_only_one_acts(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, start_operator: StartOperator
) -> None:
    ns = kube_namespace
    env = {"SEAM_OPERATOR_PEERING_LIFETIME": "6"}
    first = start_operator(nats_server.url, name="first", standalone=False, env=env)
    second = start_operator(nats_server.url, name="second", standalone=False, env=env)
    # The younger replica sees the older one and keeps its watches paused.
    poll(
        second.log,
        lambda text: "Keep-alive in 'seam-jetstream'" in text,
        timeout=60,
        what="standby peering",
    )
    assert "(blockers: seam-jetstream@" in second.log()
    assert "Resuming operations" not in second.log()

    apply(kube, ns, stream_doc("solo", subjects=["solo.>"]))
    wait_ready(kube, ns, "streams", "solo")
    marker = f"[{ns}/solo]"
    assert marker in first.log()
    assert marker not in second.log()
    assert (
        len(
            kube.kubectl_json(
                "get", "events", "-n", ns, "--field-selector", "involvedObject.name=solo,reason=Created"
            )["items"]
        )
        == 1
    )

    # The active replica dies without a goodbye; the standby takes over after the peer lifetime.
    first.kill()
    poll(
        second.log,
        lambda text: "Resuming operations after the pause" in text,
        timeout=90,
        what="standby resumes",
    )
    apply(kube, ns, stream_doc("after", subjects=["after.>"]))
    wait_ready(kube, ns, "streams", "after", timeout=60)
    assert f"[{ns}/after]" in second.log()
    assert stream_config(nats_server.url, "after") is not None
