"""Metrics with the design note's names, aggregated locally so the hot path stays cheap.

Measured on the 2-core dev box, one OpenTelemetry SDK ``Counter.add`` costs ~13-25 us and one
``Histogram.record`` ~14-20 us, several times the adapter's own per-message cost. So the hot path
only bumps plain integers and fixed histogram buckets (well under 1 us), and the values leave the
process through the OpenTelemetry metrics API at collection time:

* counters -> OTel ``ObservableCounter`` callbacks reading the local totals;
* ``nats.consumer.backlog`` -> OTel ``ObservableGauge`` fed by the consumer-info poll;
* histograms -> a prometheus_client collector on the same private registry (same names the OTel
  Prometheus exporter would give them); with ``ENABLE_OTEL=1`` the same buckets also go out over
  OTLP, added to each periodic export (:mod:`adapter_runtime.otlp_histograms`), so OTLP costs
  nothing per message either.

Nothing happens at import: the process-wide providers are created by the first enabled
:class:`Metrics`. Attributes are bounded: namespace, pod, stream, consumer, client_id.
With metrics_port=0 and ENABLE_OTEL off, :func:`make_metrics` returns :class:`NoopMetrics`.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from adapter_runtime.otlp_histograms import HistSnapshot
    from adapter_runtime.settings import AdapterSettings

# ms buckets for latency histograms: sub-millisecond to 10 s.
LATENCY_BUCKETS_MS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)

BacklogSource = Callable[[], Iterable[tuple[int, dict[str, str]]]]

COUNTERS = {
    "published": "nats.messages.published",
    "duplicates": "nats.messages.duplicates",
    "redelivered": "nats.messages.redelivered",
    "consumed": "nats.messages.consumed",
    "acked": "nats.messages.acked",
    "nak": "nats.messages.nak",
    "term": "nats.messages.term",
    "dead_lettered": "nats.messages.dead_lettered",
    "reconnects": "nats.client.reconnects",
    "publish_errors": "nats.publish.errors",
}
HISTOGRAMS = {
    "publish_latency": "nats.publish.latency",
    "write_latency": "nats.persistence.write.latency",
    "e2e_latency": "nats.e2e.latency",
    "handler_duration": "nats.handler.duration",
}


class _Hist:
    """Cumulative fixed-bucket histogram (bucket i counts values <= LATENCY_BUCKETS_MS[i])."""

    __slots__ = ("counts", "max", "min", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS_MS) + 1)
        self.sum = 0.0
        self.min = float("inf")
        self.max = float("-inf")

    def record(self, value: float) -> None:
        self.counts[bisect.bisect_left(LATENCY_BUCKETS_MS, value)] += 1
        self.sum += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value


class _Series:
    """Counters and histograms of one attribute set (one client, or one client x consumer)."""

    __slots__ = ("attrs", "counts", "hists")

    def __init__(self, attrs: dict[str, str]) -> None:
        self.attrs = attrs
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.hists: dict[str, _Hist] = {}

    def hist(self, name: str) -> _Hist:
        h = self.hists.get(name)
        if h is None:
            h = self.hists[name] = _Hist()
        return h


class _Provider:
    """Process-wide: the private Prometheus registry, the OTel providers, every live series."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.providers: list[Any] = []
        self.series: list[_Series] = []
        self.backlog_sources: list[BacklogSource] = []
        self.otlp = False
        self.lock = threading.Lock()

    def histogram_snapshots(self) -> Iterator[HistSnapshot]:
        """Copies of every local histogram, for the OTLP exporter (runs in its thread)."""
        from adapter_runtime.otlp_histograms import HistSnapshot

        for s in list(self.series):
            for key, h in list(s.hists.items()):
                counts = list(h.counts)  # snapshot: the hot path keeps counting meanwhile
                yield HistSnapshot(
                    HISTOGRAMS[key], dict(s.attrs), LATENCY_BUCKETS_MS, counts, h.sum, h.min, h.max
                )

    def counter_totals(self, key: str) -> Iterator[tuple[int, dict[str, str]]]:
        totals: dict[tuple[tuple[str, str], ...], tuple[int, dict[str, str]]] = {}
        for s in list(self.series):
            k = tuple(sorted(s.attrs.items()))
            prev = totals.get(k, (0, s.attrs))[0]
            totals[k] = (prev + s.counts[key], s.attrs)
        yield from totals.values()


_lock = threading.Lock()
_provider: _Provider | None = None


def _setup(enable_otel: bool) -> _Provider:
    """The process-wide provider; OTLP export is added the first time a client asks for it."""
    global _provider
    with _lock:
        if _provider is None:
            _provider = _prometheus_provider()
        if enable_otel and not _provider.otlp:
            _add_otlp(_provider)
        return _provider


def _instruments(provider: Any, holder: _Provider) -> None:
    """Observable counters and the backlog gauge on one MeterProvider, read from local totals."""
    from opentelemetry.metrics import CallbackOptions, Observation

    def counter_cb(key: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def cb(_options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(v, a) for v, a in holder.counter_totals(key) if v]

        return cb

    def backlog_cb(_options: CallbackOptions) -> Iterable[Observation]:
        out: list[Observation] = []
        for source in list(holder.backlog_sources):
            try:
                out.extend(Observation(v, a) for v, a in source())
            except Exception:  # a broken source must not break the scrape
                continue
        return out

    meter = provider.get_meter("adapter_runtime")
    for key, name in COUNTERS.items():
        meter.create_observable_counter(name, callbacks=[counter_cb(key)])
    meter.create_observable_gauge("nats.consumer.backlog", callbacks=[backlog_cb])


def _resource() -> Any:
    from opentelemetry.sdk.resources import Resource

    return Resource.create({"service.name": "seam-adapter"})  # OTEL_RESOURCE_ATTRIBUTES merge in


def _prometheus_provider() -> _Provider:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    holder = _Provider(registry)
    prom = PrometheusMetricReader(disable_target_info=True, scope_info_enabled=False, registry=registry)
    provider = MeterProvider(metric_readers=[prom], resource=_resource())
    _instruments(provider, holder)
    holder.providers.append(provider)
    registry.register(_HistogramCollector(holder))  # type: ignore[arg-type]
    return holder


def _otlp_exporter() -> Any:
    """gRPC or HTTP exporter as OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL says (default grpc)."""
    import os

    protocol = os.environ.get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"
    )
    if protocol.startswith("http"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as Http

        return Http()
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as Grpc

    return Grpc()


def _add_otlp(holder: _Provider) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from adapter_runtime.otlp_histograms import HistogramExporter

    resource = _resource()
    exporter = HistogramExporter(_otlp_exporter(), resource, lambda: holder.histogram_snapshots())
    provider = MeterProvider(
        metric_readers=[PeriodicExportingMetricReader(exporter)],  # OTEL_METRIC_EXPORT_INTERVAL
        resource=resource,
    )
    _instruments(provider, holder)
    holder.otlp = True
    holder.providers.append(provider)


def shutdown() -> None:
    """Flush and stop the exporters (the SDK also does this at interpreter exit)."""
    if _provider is not None:
        for provider in _provider.providers:
            provider.shutdown()


class _HistogramCollector:
    """Exposes the local histograms in Prometheus format (``<name>_milliseconds``)."""

    def __init__(self, holder: _Provider) -> None:
        self.holder = holder

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import HistogramMetricFamily

        bounds = [str(float(b)) for b in LATENCY_BUCKETS_MS] + ["+Inf"]
        for key, name in HISTOGRAMS.items():
            prom_name = name.replace(".", "_") + "_milliseconds"
            fam: HistogramMetricFamily | None = None
            for s in list(self.holder.series):
                h = s.hists.get(key)
                if h is None:
                    continue
                if fam is None:
                    fam = HistogramMetricFamily(prom_name, f"{name} (ms)", labels=list(s.attrs))
                cumulative, acc = [], 0
                for bound, c in zip(bounds, h.counts, strict=True):
                    acc += c
                    cumulative.append((bound, acc))
                fam.add_metric(list(s.attrs.values()), cumulative, h.sum)
            if fam is not None:
                yield fam


def prometheus_text() -> bytes:
    """The current Prometheus exposition of this process's adapter metrics (empty when off)."""
    if _provider is None:
        return b""
    from prometheus_client import generate_latest

    return generate_latest(_provider.registry)


class NoopRecorder:
    """Per-subscription recorder with metrics off (see :class:`ConsumerRecorder`)."""

    __slots__ = ()

    def received(self, redelivered: bool) -> None: ...
    def handled(self, handler_ms: float, e2e_ms: float | None, acked: bool) -> None: ...


_NOOP_RECORDER = NoopRecorder()


class ConsumerRecorder(NoopRecorder):
    """The consumer's series and histograms looked up once (at subscribe), so a handled message
    costs two plain calls instead of four name lookups and calls (1.8 -> 0.8 us/msg measured)."""

    __slots__ = ("_counts", "_e2e", "_handler")

    def __init__(self, series: _Series) -> None:
        self._counts = series.counts
        self._handler = series.hist("handler_duration")
        self._e2e = series.hist("e2e_latency")

    def received(self, redelivered: bool) -> None:
        counts = self._counts
        counts["consumed"] += 1
        if redelivered:
            counts["redelivered"] += 1

    def handled(self, handler_ms: float, e2e_ms: float | None, acked: bool) -> None:
        """A handler returned: its duration, the e2e latency (None: no publish time) and the ack."""
        self._handler.record(handler_ms)
        if e2e_ms is not None:
            self._e2e.record(e2e_ms)
        if acked:
            self._counts["acked"] += 1


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
    def recorder(self, consumer: str) -> NoopRecorder:
        return _NOOP_RECORDER

    def add_backlog_source(self, source: BacklogSource) -> None: ...
    def remove_backlog_source(self, source: BacklogSource) -> None: ...


class Metrics(NoopMetrics):
    """Local counters/histograms for one client/server; series cached per consumer."""

    enabled = True

    def __init__(self, settings: AdapterSettings) -> None:
        self._p = _setup(settings.enable_otel)
        self.base: dict[str, str] = {
            "namespace": settings.namespace or "",
            "pod": settings.pod_name or "",
            "stream": settings.stream_name,
            "client_id": settings.effective_client_id,
        }
        self._own = self._new_series(self.base)
        self._by_consumer: dict[str, _Series] = {}
        self._pub_lat = self._own.hist("publish_latency")
        self._write_lat = self._own.hist("write_latency")

    def _new_series(self, attrs: dict[str, str]) -> _Series:
        s = _Series(attrs)
        with self._p.lock:
            self._p.series.append(s)
        return s

    def _consumer(self, consumer: str) -> _Series:
        s = self._by_consumer.get(consumer)
        if s is None:
            s = self._by_consumer[consumer] = self._new_series({**self.base, "consumer": consumer})
        return s

    def attrs(self, consumer: str) -> dict[str, str]:
        return self._consumer(consumer).attrs

    def published(self, latency_ms: float, write_ms: float, duplicate: bool) -> None:
        counts = self._own.counts
        counts["published"] += 1
        if duplicate:
            counts["duplicates"] += 1
        self._pub_lat.record(latency_ms)
        self._write_lat.record(write_ms)

    def publish_error(self) -> None:
        self._own.counts["publish_errors"] += 1

    def consumed(self, consumer: str, redelivered: bool) -> None:
        counts = self._consumer(consumer).counts
        counts["consumed"] += 1
        if redelivered:
            counts["redelivered"] += 1

    def outcome(self, consumer: str, kind: str) -> None:
        """kind is one of acked, nak, term, dead_lettered."""
        self._consumer(consumer).counts[kind] += 1

    def handler_duration(self, consumer: str, ms: float) -> None:
        self._consumer(consumer).hist("handler_duration").record(ms)

    def e2e_latency(self, consumer: str, ms: float) -> None:
        self._consumer(consumer).hist("e2e_latency").record(ms)

    def recorder(self, consumer: str) -> ConsumerRecorder:
        return ConsumerRecorder(self._consumer(consumer))

    def reconnect(self) -> None:
        self._own.counts["reconnects"] += 1

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
