"""Out-of-band changes made with a plain NATS client are repaired; Observe mode never writes."""

from __future__ import annotations

import time

import pytest

from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsProcess
from tests.e2e.nats_probe import consumer_config, js, stream_config
from tests.e2e.operator_process import (
    OperatorProcess,
    StartOperator,
    apply,
    consumer_doc,
    event_reasons,
    get,
    poll,
    ready,
    stream_doc,
    wait_ready,
)

pytestmark = pytest.mark.e2e

# A resync period far longer than the waits below: only advisory-driven repair can pass them.
RESYNC = 120.0


@pytest.fixture
def operator_resync() -> float:
    return RESYNC


def _timed(fetch, done, timeout: float = 20.0) -> float:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    poll(fetch, done, timeout=timeout)
    return time.monotonic() - began


def test_deleted_stream_and_consumer_are_restored_from_advisories(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    apply(kube, ns, stream_doc("drift", name="DRIFT", subjects=["drift.>"], maxMsgs=100))
    apply(kube, ns, consumer_doc("drifter", streamRef={"name": "drift"}, maxDeliver=4))
    wait_ready(kube, ns, "consumers", "drifter")

    assert "error" not in js(nats_server.url, "CONSUMER.DELETE.DRIFT.drifter")
    consumer_took = _timed(
        lambda: consumer_config(nats_server.url, "DRIFT", "drifter"), lambda c: c is not None
    )

    assert "error" not in js(nats_server.url, "STREAM.DELETE.DRIFT")
    stream_took = _timed(lambda: stream_config(nats_server.url, "DRIFT"), lambda c: c is not None)
    # The stream's consumers come back with it (deleting a stream deletes its consumers).
    both_took = stream_took + _timed(
        lambda: consumer_config(nats_server.url, "DRIFT", "drifter"), lambda c: c is not None
    )
    print(
        f"\nrepair after out-of-band delete: consumer {consumer_took:.2f}s, stream {stream_took:.2f}s, "
        f"stream+consumer {both_took:.2f}s (resync period {RESYNC:.0f}s)"
    )
    assert stream_config(nats_server.url, "DRIFT")["max_msgs"] == 100
    assert consumer_config(nats_server.url, "DRIFT", "drifter")["max_deliver"] == 4
    assert "DriftRepaired" in event_reasons(kube, ns, "drift")
    assert "DriftRepaired" in event_reasons(kube, ns, "drifter")
    wait_ready(kube, ns, "streams", "drift")
    wait_ready(kube, ns, "consumers", "drifter")


def test_altered_stream_is_restored(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    apply(kube, ns, stream_doc("altered", subjects=["altered.>"], maxMsgs=100, maxAge="1h"))
    wait_ready(kube, ns, "streams", "altered")
    current = stream_config(nats_server.url, "altered")
    assert current is not None
    changed = {**current, "max_msgs": 5, "subjects": ["altered.>", "sneaky.>"]}
    assert "error" not in js(nats_server.url, "STREAM.UPDATE.altered", changed)
    took = _timed(
        lambda: stream_config(nats_server.url, "altered"),
        lambda c: c["max_msgs"] == 100 and c["subjects"] == ["altered.>"],
    )
    print(f"\nrepair after out-of-band update: {took:.2f}s (resync period {RESYNC:.0f}s)")
    assert "DriftRepaired" in event_reasons(kube, ns, "altered")


def test_observe_mode_reports_and_never_writes(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, start_operator: StartOperator
) -> None:
    ns = kube_namespace
    start_operator(nats_server.url, resync_seconds=1.0)
    apply(
        kube,
        ns,
        stream_doc("watched", name="WATCHED", subjects=["watched.>"], maxMsgs=10, managementPolicy="Observe"),
    )
    missing = wait_ready(kube, ns, "streams", "watched", status="False", reason="NotFound")
    assert "Observe" in missing["status"]["conditions"][0]["message"]
    assert stream_config(nats_server.url, "WATCHED") is None

    # Someone else creates it with other settings: reported, not changed.
    assert "error" not in js(
        nats_server.url,
        "STREAM.CREATE.WATCHED",
        {"name": "WATCHED", "subjects": ["watched.>"], "max_msgs": 99},
    )
    observed = wait_ready(kube, ns, "streams", "watched", reason="Observed", timeout=30)
    assert "max_msgs" in observed["status"]["conditions"][0]["message"]
    time.sleep(3)  # several resyncs at 1 s
    assert stream_config(nats_server.url, "WATCHED")["max_msgs"] == 99

    # Deleting an observed resource never deletes the server object.
    kube.kubectl("delete", "-n", ns, "stream", "watched", "--timeout=30s")
    assert stream_config(nats_server.url, "WATCHED") is not None
    assert get(kube, ns, "streams", "watched") is None
    assert ready(observed)[0] == "True"


def test_consumer_by_stream_name_and_observed_consumer(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns = kube_namespace
    assert "error" not in js(nats_server.url, "STREAM.CREATE.RAW", {"name": "RAW", "subjects": ["raw.>"]})
    apply(
        kube,
        ns,
        {
            "apiVersion": "jetstream.oppie.xyz/v1alpha1",
            "kind": "NatsConnection",
            "metadata": {"name": "raw"},
            "spec": {"servers": [nats_server.url]},
        },
        consumer_doc("by-name", streamName="RAW", connectionRef={"name": "raw"}, maxDeliver=3),
        consumer_doc("watcher", streamName="RAW", durableName="external", managementPolicy="Observe"),
    )
    wait_ready(kube, ns, "consumers", "by-name")
    assert consumer_config(nats_server.url, "RAW", "by-name")["max_deliver"] == 3
    wait_ready(kube, ns, "consumers", "watcher", status="False", reason="NotFound")
    assert consumer_config(nats_server.url, "RAW", "external") is None

    # Created by someone else: the creation advisory makes it Observed well before the resync.
    created = {"stream_name": "RAW", "config": {"durable_name": "external", "ack_policy": "explicit"}}
    assert "error" not in js(nats_server.url, "CONSUMER.CREATE.RAW.external", created)
    wait_ready(kube, ns, "consumers", "watcher", reason="Observed", timeout=20)
    kube.kubectl("delete", "-n", ns, "consumer", "watcher", "--timeout=30s")
    assert consumer_config(nats_server.url, "RAW", "external") is not None
