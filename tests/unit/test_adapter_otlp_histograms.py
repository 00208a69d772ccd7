"""OTLP histograms built from local buckets (pure): data points, empty ones left out, scope merge."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from adapter_runtime.otlp_histograms import HistogramExporter, HistSnapshot, histogram_metrics

pytestmark = pytest.mark.unit

BOUNDS = (1.0, 10.0)
ATTRS = {"client_id": "c", "consumer": "k"}


def snap(name: str, counts: list[int], total: float = 0.0) -> HistSnapshot:
    return HistSnapshot(name, ATTRS, BOUNDS, counts, total, 0.5, 20.0)


def test_points_carry_buckets_count_and_bounds_and_skip_empty() -> None:
    metrics = histogram_metrics(
        [snap("nats.e2e.latency", [1, 2, 3], 42.0), snap("nats.handler.duration", [0, 0, 0])], 1, 2
    )
    assert [m.name for m in metrics] == ["nats.e2e.latency"]
    (point,) = metrics[0].data.data_points
    assert (point.count, point.sum, list(point.bucket_counts)) == (6, 42.0, [1, 2, 3])
    assert list(point.explicit_bounds) == [1.0, 10.0] and (point.min, point.max) == (0.5, 20.0)
    assert dict(point.attributes) == ATTRS
    assert metrics[0].data.aggregation_temporality is AggregationTemporality.CUMULATIVE


class _Capture(MetricExporter):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[MetricsData] = []

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kw: object
    ) -> MetricExportResult:
        self.sent.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kw: object) -> None:
        return None


def test_histograms_join_the_sdk_scope_so_the_otlp_encoder_keeps_both() -> None:
    inner = _Capture()
    resource = Resource.create({"service.name": "t"})
    exporter = HistogramExporter(inner, resource, lambda: [snap("nats.e2e.latency", [1, 0, 0], 0.7)])
    sdk_data = MetricsData(
        [ResourceMetrics(resource, [ScopeMetrics(InstrumentationScope("adapter_runtime"), [], "")], "")]
    )
    assert exporter.export(sdk_data) is MetricExportResult.SUCCESS
    req = encode_metrics(inner.sent[0])
    (scope,) = req.resource_metrics[0].scope_metrics
    assert [m.name for m in scope.metrics] == ["nats.e2e.latency"]
    assert scope.metrics[0].histogram.data_points[0].count == 1


def test_histograms_go_out_even_when_the_sdk_collected_nothing() -> None:
    inner = _Capture()
    resource = Resource.create({"service.name": "t"})
    exporter = HistogramExporter(inner, resource, lambda: [snap("nats.publish.latency", [0, 1, 0], 3.0)])
    exporter.export(MetricsData([]))
    (rm,) = inner.sent[0].resource_metrics
    assert rm.resource is resource
    assert rm.scope_metrics[0].metrics[0].name == "nats.publish.latency"
