"""The operator's /metrics: reconciles, tracked resources, NATS connections and drift repairs."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsProcess
from seam_harness.process import free_port
from tests.e2e.nats_probe import js, stream_config
from tests.e2e.operator_process import (
    OperatorProcess,
    StartOperator,
    apply,
    consumer_doc,
    install_crds,
    poll,
    stream_doc,
    wait_ready,
)

pytestmark = pytest.mark.e2e

# Far longer than the test: a drift repair within it can only come from an advisory ("event").
RESYNC = 120.0

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def operator_resync() -> float:
    return RESYNC


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_reconciles_resources_connections_and_drift_repairs(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, operator: OperatorProcess
) -> None:
    ns, port = kube_namespace, operator.metrics_port
    before = scrape(port)
    assert value(before, "seam_operator_nats_connections") == 0
    assert value(before, "seam_operator_resources", kind="Stream", ready="true") == 0

    apply(kube, ns, stream_doc("metered", name="METERED", subjects=["metered.>"]))
    apply(kube, ns, consumer_doc("meter", streamRef={"name": "metered"}))
    wait_ready(kube, ns, "streams", "metered")
    wait_ready(kube, ns, "consumers", "meter")

    def settled(s: Samples) -> bool:
        return (
            value(s, "seam_operator_resources", kind="Stream", ready="true") == 1
            and value(s, "seam_operator_resources", kind="Consumer", ready="true") == 1
        )

    after = poll(lambda: scrape(port), settled, timeout=30, what="Stream and Consumer Ready in /metrics")
    for kind in ("Stream", "Consumer"):
        ready_runs = value(after, "seam_operator_reconcile_total", kind=kind, result="ready")
        assert ready_runs >= 1, kind
        runs = sum(
            value(after, "seam_operator_reconcile_total", kind=kind, result=r)
            for r in ("ready", "not_ready", "error")
        )
        assert value(after, "seam_operator_reconcile_duration_seconds_count", kind=kind) == runs
        assert value(after, "seam_operator_reconcile_duration_seconds_sum", kind=kind) > 0
        assert value(after, "seam_operator_resources", kind=kind, ready="false") == 0
        assert value(after, "seam_operator_resources", kind=kind, ready="unknown") == 0
    assert value(after, "seam_operator_reconcile_total", kind="NatsConnection", result="ready") == 0
    assert value(after, "seam_operator_nats_connections") == 1  # one pooled connection for both
    # The operator's own creation comes back as an advisory.
    assert value(after, "seam_operator_advisories_total", event="stream.created") >= 1
    assert value(after, "seam_operator_drift_repairs_total", kind="Stream", trigger="event") == 0

    assert "error" not in js(nats_server.url, "STREAM.DELETE.METERED")
    poll(lambda: stream_config(nats_server.url, "METERED"), lambda c: c is not None, timeout=30)

    def repaired(s: Samples) -> bool:
        # The advisories arrive on separate subscriptions in no fixed order, and nats-server 2.15
        # sometimes sends no stream.deleted at all: the Stream is then repaired on its Consumer's
        # nudge (reconcile/consumer.py), still trigger "event". Either way a deletion was seen.
        deleted = sum(
            value(s, "seam_operator_advisories_total", event=e)
            for e in ("stream.deleted", "consumer.deleted")
        )
        return (
            value(s, "seam_operator_drift_repairs_total", kind="Stream", trigger="event") == 1
            and value(s, "seam_operator_drift_repairs_total", kind="Consumer", trigger="event") >= 1
            and deleted >= 1
        )

    repaired_view = poll(lambda: scrape(port), repaired, timeout=30, what="drift repairs in /metrics")
    assert value(repaired_view, "seam_operator_drift_repairs_total", kind="Stream", trigger="periodic") == 0
    assert value(repaired_view, "seam_operator_drift_repairs_total", kind="Stream", trigger="handler") == 0
    assert value(repaired_view, "seam_operator_reconcile_total", kind="Stream", result="ready") > value(
        after, "seam_operator_reconcile_total", kind="Stream", result="ready"
    )


def test_metrics_port_zero_serves_nothing(
    kube: ControlPlane, nats_server: NatsProcess, start_operator: StartOperator
) -> None:
    op = start_operator(nats_server.url, extra_args=("--metrics-port", "0"))
    with pytest.raises(OSError):
        scrape(op.metrics_port)
    assert "metrics on http" not in op.log()


def test_failing_reconciles_count_as_errors_and_not_ready(
    kube: ControlPlane, kube_namespace: str, start_operator: StartOperator
) -> None:
    dead = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    op = start_operator(dead)
    apply(kube, kube_namespace, stream_doc("unreachable", name="UNREACHABLE", subjects=["unreachable.>"]))
    wait_ready(kube, kube_namespace, "streams", "unreachable", status="False", reason="NatsUnavailable")

    def failed(s: Samples) -> bool:
        return (
            value(s, "seam_operator_reconcile_total", kind="Stream", result="error") >= 1
            and value(s, "seam_operator_resources", kind="Stream", ready="false") == 1
        )

    seen = poll(lambda: scrape(op.metrics_port), failed, timeout=30, what="failed reconcile in /metrics")
    assert value(seen, "seam_operator_reconcile_total", kind="Stream", result="ready") == 0
    assert value(seen, "seam_operator_resources", kind="Stream", ready="true") == 0
    assert value(seen, "seam_operator_nats_connections") == 0


def test_a_taken_metrics_port_stops_the_operator_with_a_clear_error(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess
) -> None:
    install_crds(kube)
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        op = OperatorProcess(
            kube, kube_namespace, nats_server.url, name="taken", extra_args=("--metrics-port", str(port))
        )
        op.process.start()
        try:
            poll(lambda: op.process.running, lambda running: not running, timeout=60, what="operator exit")
        finally:
            op.stop()
    assert f"metrics_port: cannot listen on 0.0.0.0:{port}" in op.log()
