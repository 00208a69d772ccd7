"""OTLP export of the locally aggregated histograms, with no OTel SDK call per message.

Recording a value through an SDK ``Histogram`` costs ~15-20 us on the 2-core dev box (about the
adapter's whole per-message budget), so the hot path only appends to local histograms that are
folded into fixed buckets in batches (:mod:`adapter_runtime.metrics`). :class:`HistogramExporter`
wraps the real OTLP exporter: every periodic export (``OTEL_METRIC_EXPORT_INTERVAL``) carries,
next to what the SDK collected (the observable counters and the backlog gauge), one OTel histogram
metric per local histogram, built from a snapshot of its buckets. opentelemetry-sdk 1.45 has no
``MetricProducer`` hook, so the exporter is the public seam for adding data. Histograms are
cumulative since the exporter started, like their Prometheus exposition.

Imported only when ``ENABLE_OTEL=1`` (the SDK import is not free).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope


class HistSnapshot(NamedTuple):
    """One local histogram at export time (bucket_counts has one more entry than bounds)."""

    name: str
    attrs: dict[str, str]
    bounds: Sequence[float]
    bucket_counts: list[int]
    sum: float
    min: float
    max: float


def histogram_metrics(snaps: Iterable[HistSnapshot], start_ns: int, now_ns: int) -> list[Metric]:
    """Group snapshots by metric name into cumulative OTel histogram metrics (empty ones left out)."""
    points: dict[str, list[HistogramDataPoint]] = {}
    for snap in snaps:
        count = sum(snap.bucket_counts)
        if not count:
            continue
        points.setdefault(snap.name, []).append(
            HistogramDataPoint(
                attributes=snap.attrs,
                start_time_unix_nano=start_ns,
                time_unix_nano=now_ns,
                count=count,
                sum=snap.sum,
                bucket_counts=snap.bucket_counts,
                explicit_bounds=list(snap.bounds),
                min=snap.min,
                max=snap.max,
            )
        )
    return [
        Metric(
            name=name,
            description=f"{name} (ms)",
            unit="ms",
            data=Histogram(data_points=pts, aggregation_temporality=AggregationTemporality.CUMULATIVE),
        )
        for name, pts in points.items()
    ]


class HistogramExporter(MetricExporter):
    """Delegates to ``inner`` after adding the local histograms to each export."""

    def __init__(
        self, inner: MetricExporter, resource: Resource, snapshots: Callable[[], Iterable[HistSnapshot]]
    ) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self._inner = inner
        self._resource = resource
        self._snapshots = snapshots
        self._scope = InstrumentationScope("adapter_runtime")
        self._start_ns = time.time_ns()

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        return self._inner.export(self.with_histograms(metrics_data), timeout_millis=timeout_millis, **kwargs)

    def with_histograms(self, metrics_data: MetricsData) -> MetricsData:
        hists = histogram_metrics(self._snapshots(), self._start_ns, time.time_ns())
        if not hists:
            return metrics_data
        rms = list(metrics_data.resource_metrics)
        if not rms:
            scope = ScopeMetrics(scope=self._scope, metrics=hists, schema_url="")
            return MetricsData(resource_metrics=[ResourceMetrics(self._resource, [scope], "")])
        # the OTLP encoder keys scopes by identity of name/version: merge into the SDK's own
        # "adapter_runtime" scope (the counters' meter) instead of adding a second one
        first = rms[0]
        scopes = list(first.scope_metrics)
        for i, sm in enumerate(scopes):
            if sm.scope.name == self._scope.name:
                scopes[i] = ScopeMetrics(
                    scope=sm.scope, metrics=[*sm.metrics, *hists], schema_url=sm.schema_url
                )
                break
        else:
            scopes.append(ScopeMetrics(scope=self._scope, metrics=hists, schema_url=""))
        rms[0] = ResourceMetrics(resource=first.resource, scope_metrics=scopes, schema_url=first.schema_url)
        return MetricsData(resource_metrics=rms)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return bool(self._inner.force_flush(timeout_millis=timeout_millis))

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._inner.shutdown(timeout_millis=timeout_millis, **kwargs)
