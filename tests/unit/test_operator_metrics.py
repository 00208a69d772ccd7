"""Operator metrics: label mapping, per-reconcile recording, the scrape-time view, settings."""

from __future__ import annotations

import pytest
from jetstream_operator.__main__ import parse_args
from jetstream_operator.config import OperatorSettings
from jetstream_operator.connections import ConnectionPool
from jetstream_operator.metrics import (
    ADVISORY_EVENTS,
    KINDS,
    METRIC_NAMES,
    READY_STATES,
    OperatorMetrics,
    drift_repairs,
    kind_of,
    resource_counts,
    result_of,
)
from jetstream_operator.registry import CONNECTION, CONSUMER, STREAM, Registry, ResourceKey
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.unit


def samples(metrics: OperatorMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.parametrize(
    ("plural", "kind"),
    [(STREAM, "Stream"), (CONSUMER, "Consumer"), (CONNECTION, "NatsConnection"), ("other", "other")],
)
def test_kind_label(plural: str, kind: str) -> None:
    assert kind_of(plural) == kind


@pytest.mark.parametrize(("ready", "result"), [(True, "ready"), (False, "not_ready"), (None, "error")])
def test_result_label(ready: bool | None, result: str) -> None:
    assert result_of(ready) == result


@pytest.mark.parametrize(
    ("events", "count"),
    [
        ([], 0),
        ([("Normal", "Created", "created stream S")], 0),
        ([("Warning", "DriftRepaired", "stream S was deleted out of band; recreated")], 1),
        (
            [
                ("Warning", "DriftRepaired", "a"),
                ("Normal", "Updated", "b"),
                ("Warning", "DriftRepaired", "c"),
            ],
            2,
        ),
    ],
)
def test_drift_repairs_are_counted_from_events(events: list[tuple[str, str, str]], count: int) -> None:
    assert drift_repairs(events) == count


def test_resource_counts_by_kind_and_ready_state() -> None:
    registry = Registry()
    a, b, c = (registry.track(STREAM, "ns", n) for n in ("a", "b", "c"))
    d = registry.track(CONSUMER, "ns", "d")
    counts = resource_counts(registry.items(), {a.key: True, b.key: False, d.key: True})
    assert counts[("Stream", "true")] == 1
    assert counts[("Stream", "false")] == 1
    assert counts[("Stream", "unknown")] == 1  # c: tracked, never reconciled
    assert counts[("Consumer", "true")] == 1
    assert counts[("NatsConnection", "true")] == 0  # every combination present, zeros included
    assert len(counts) == len(KINDS) * len(READY_STATES)
    assert c.key not in {a.key, b.key}


def test_reconciles_durations_and_repairs_are_recorded() -> None:
    metrics = OperatorMetrics()
    key = ResourceKey(STREAM, "ns", "s")
    metrics.reconciled(key, True, 0.02, "handler")
    metrics.reconciled(key, None, 0.5, "periodic")
    metrics.reconciled(key, True, 0.03, "event", repairs=1)
    got = samples(metrics)
    assert got[("seam_operator_reconcile_total", frozenset({("kind", "Stream"), ("result", "ready")}))] == 2
    assert got[("seam_operator_reconcile_total", frozenset({("kind", "Stream"), ("result", "error")}))] == 1
    assert got[("seam_operator_reconcile_total", frozenset({("kind", "Consumer"), ("result", "ready")}))] == 0
    count = ("seam_operator_reconcile_duration_seconds_count", frozenset({("kind", "Stream")}))
    total = ("seam_operator_reconcile_duration_seconds_sum", frozenset({("kind", "Stream")}))
    assert got[count] == 3 and got[total] == pytest.approx(0.55)
    repairs = "seam_operator_drift_repairs_total"
    assert got[(repairs, frozenset({("kind", "Stream"), ("trigger", "event")}))] == 1
    assert got[(repairs, frozenset({("kind", "Stream"), ("trigger", "periodic")}))] == 0
    assert metrics.ready[key] is True


def test_scrape_reads_registry_pool_and_advisories() -> None:
    metrics, registry, pool = OperatorMetrics(), Registry(), ConnectionPool()
    metrics.track_state(registry, pool)
    ok, failing = registry.track(STREAM, "ns", "ok"), registry.track(CONSUMER, "ns", "bad")
    metrics.reconciled(ok.key, True, 0.01, "handler")
    metrics.reconciled(failing.key, None, 0.01, "handler")
    pool.advisory_counts["stream.deleted"] += 3
    got = samples(metrics)
    resources = "seam_operator_resources"
    assert got[(resources, frozenset({("kind", "Stream"), ("ready", "true")}))] == 1
    assert got[(resources, frozenset({("kind", "Consumer"), ("ready", "false")}))] == 1
    assert got[(resources, frozenset({("kind", "Consumer"), ("ready", "true")}))] == 0
    assert got[("seam_operator_nats_connections", frozenset())] == 0
    advisories = "seam_operator_advisories_total"
    assert got[(advisories, frozenset({("event", "stream.deleted")}))] == 3
    assert all((advisories, frozenset({("event", e)})) in got for e in ADVISORY_EVENTS)


def test_every_documented_metric_is_exposed() -> None:
    metrics = OperatorMetrics()
    metrics.track_state(Registry(), ConnectionPool())
    names = {name for name, _ in samples(metrics)}
    for metric in METRIC_NAMES:
        assert any(n == metric or n.startswith(f"{metric}_") for n in names), metric


def test_deleted_resources_leave_the_ready_view() -> None:
    metrics, registry = OperatorMetrics(), Registry()
    metrics.track_state(registry, ConnectionPool())
    for i in range(200):  # resources created and deleted again
        item = registry.track(STREAM, "ns", f"s{i}")
        metrics.reconciled(item.key, True, 0.01, "handler")
        registry.forget(STREAM, "ns", f"s{i}")
    assert len(metrics.ready) < 100  # of 200: pruned while recording, with no scrape at all
    samples(metrics)
    assert metrics.ready == {}


def test_registries_are_private() -> None:
    one, two = OperatorMetrics(), OperatorMetrics()
    one.reconciled(ResourceKey(STREAM, "ns", "s"), True, 0.01, "handler")
    ready = ("seam_operator_reconcile_total", frozenset({("kind", "Stream"), ("result", "ready")}))
    assert samples(one)[ready] == 1 and samples(two)[ready] == 0


def test_metrics_port_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert OperatorSettings().metrics_port == 8081
    assert parse_args(["-n", "x", "--metrics-port", "0"]).metrics_port == 0
    monkeypatch.setenv("SEAM_OPERATOR_METRICS_PORT", "9100")
    assert OperatorSettings().metrics_port == 9100


def test_bad_metrics_port_names_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["-n", "x", "--metrics-port", "70000"])
    assert "metrics_port" in capsys.readouterr().err
