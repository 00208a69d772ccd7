"""OpenTelemetry metrics with the design note's names, cheap on the hot path.

One process-wide MeterProvider is created explicitly (on the first enabled :class:`Metrics`), never
at import. Prometheus text comes from a private prometheus_client registry served on ``/metrics``;
OTLP export is added when ``ENABLE_OTEL=1`` (endpoint and protocol from the standard ``OTEL_*``
variables, read by the SDK). Attributes are bounded: namespace, pod, stream, consumer, client_id.
With metrics_port=0 and ENABLE_OTEL off, :func:`make_metrics` returns :class:`NoopMetrics`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from adapter_runtime.settings import AdapterSettings

# ms buckets for latency histograms: sub-millisecond to 10 s.
LATENCY_BUCKETS_MS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)

BacklogSource = Callable[[], Iterable[tuple[int, dict[str, str]]]]


@dataclass
class _Provider:
    """The process-wide provider and its instruments (created once, on demand)."""

    registry: CollectorRegistry
    provider: Any
    instruments: dict[str, Any]
    backlog_sources: list[BacklogSource] = field(default_factory=list)
    otlp: bool = False


_lock = threading.Lock()
_provider: _Provider | None = None


def _setup(enable_otel: bool) -> _Provider:
    global _provider
    with _lock:
        if _provider is not None:
            return _provider
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from opentelemetry.metrics import CallbackOptions, Observation
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
        from opentelemetry.sdk.resources import Resource
        from prometheus_client import CollectorRegistry

        registry = CollectorRegistry(auto_describe=False)
        readers: list[Any] = [
            PrometheusMetricReader(disable_target_info=True, scope_info_enabled=False, registry=registry)
        ]
        if enable_otel:
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
        views = [
            View(
                instrument_name="*.latency",
                aggregation=ExplicitBucketHistogramAggregation(LATENCY_BUCKETS_MS),
            ),
            View(
                instrument_name="nats.handler.duration",
                aggregation=ExplicitBucketHistogramAggregation(LATENCY_BUCKETS_MS),
            ),
        ]
        provider = MeterProvider(
            metric_readers=readers, resource=Resource.create({"service.name": "seam-adapter"}), views=views
        )
        meter = provider.get_meter("adapter_runtime")
        holder = _Provider(registry=registry, provider=provider, instruments={}, otlp=enable_otel)

        def observe_backlog(_options: CallbackOptions) -> Iterable[Observation]:
            for source in list(holder.backlog_sources):
                try:
                    for value, attrs in source():
                        yield Observation(value, attrs)
                except Exception:  # a broken source must not break the scrape
                    continue

        ins = holder.instruments
        ins["publish_latency"] = meter.create_histogram("nats.publish.latency", unit="ms")
        ins["e2e_latency"] = meter.create_histogram("nats.e2e.latency", unit="ms")
        ins["write_latency"] = meter.create_histogram("nats.persistence.write.latency", unit="ms")
        ins["handler_duration"] = meter.create_histogram("nats.handler.duration", unit="ms")
        for name in (
            "published",
            "duplicates",
            "redelivered",
            "consumed",
            "acked",
            "nak",
            "term",
            "dead_lettered",
        ):
            ins[name] = meter.create_counter(f"nats.messages.{name}")
        ins["reconnects"] = meter.create_counter("nats.client.reconnects")
        ins["publish_errors"] = meter.create_counter("nats.publish.errors")
        meter.create_observable_gauge("nats.consumer.backlog", callbacks=[observe_backlog])
        _provider = holder
        return holder


def prometheus_text() -> bytes:
    """The current Prometheus exposition of this process's adapter metrics (empty when off)."""
    if _provider is None:
        return b""
    from prometheus_client import generate_latest

    return generate_latest(_provider.registry)


class NoopMetrics:
    """Metrics switched off: every call is a cheap no-op (for benchmarks and metrics-less pods)."""

    enabled = False

    def published(self, latency_ms: float, write_ms: float, duplicate: bool) -> None: ...
    def publish_error(self) -> None: ...
    def consumed(self, consumer: str, redelivered: bool) -> None: ...
    def outcome(self, consumer: str, kind: str) -> None: ...
    def handler_duration(self, consumer: str, ms: float) -> None: ...
    def e2e_latency(self, consumer: str, ms: float) -> None: ...
    def reconnect(self) -> None: ...
    def add_backlog_source(self, source: BacklogSource) -> None: ...
    def remove_backlog_source(self, source: BacklogSource) -> None: ...


class Metrics(NoopMetrics):
    """Instruments bound to one client/server's attributes (attribute dicts cached per consumer)."""

    enabled = True

    def __init__(self, settings: AdapterSettings) -> None:
        self._p = _setup(settings.enable_otel)
        self._ins = self._p.instruments
        self.base: dict[str, str] = {
            "namespace": settings.namespace or "",
            "pod": settings.pod_name or "",
            "stream": settings.stream_name,
            "client_id": settings.effective_client_id,
        }
        self._by_consumer: dict[str, dict[str, str]] = {}

    def attrs(self, consumer: str) -> dict[str, str]:
        a = self._by_consumer.get(consumer)
        if a is None:
            a = self._by_consumer[consumer] = {**self.base, "consumer": consumer}
        return a

    def published(self, latency_ms: float, write_ms: float, duplicate: bool) -> None:
        ins, base = self._ins, self.base
        ins["published"].add(1, base)
        ins["publish_latency"].record(latency_ms, base)
        ins["write_latency"].record(write_ms, base)
        if duplicate:
            ins["duplicates"].add(1, base)

    def publish_error(self) -> None:
        self._ins["publish_errors"].add(1, self.base)

    def consumed(self, consumer: str, redelivered: bool) -> None:
        a = self.attrs(consumer)
        self._ins["consumed"].add(1, a)
        if redelivered:
            self._ins["redelivered"].add(1, a)

    def outcome(self, consumer: str, kind: str) -> None:
        """kind is one of acked, nak, term, dead_lettered."""
        self._ins[kind].add(1, self.attrs(consumer))

    def handler_duration(self, consumer: str, ms: float) -> None:
        self._ins["handler_duration"].record(ms, self.attrs(consumer))

    def e2e_latency(self, consumer: str, ms: float) -> None:
        self._ins["e2e_latency"].record(ms, self.attrs(consumer))

    def reconnect(self) -> None:
        self._ins["reconnects"].add(1, self.base)

    def add_backlog_source(self, source: BacklogSource) -> None:
        self._p.backlog_sources.append(source)

    def remove_backlog_source(self, source: BacklogSource) -> None:
        if source in self._p.backlog_sources:
            self._p.backlog_sources.remove(source)


def make_metrics(settings: AdapterSettings) -> NoopMetrics:
    """Metrics for one client/server: real when exported somewhere, else the no-op."""
    if settings.metrics_port == 0 and not settings.enable_otel:
        return NoopMetrics()
    return Metrics(settings)
