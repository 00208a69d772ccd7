"""Metrics with the design note's names, aggregated locally so the hot path stays cheap.

Measured on the 2-core dev box, one OpenTelemetry SDK ``Counter.add`` costs ~13-25 us and one
``Histogram.record`` ~14-20 us, several times the adapter's own per-message cost. So nothing on the
hot path touches the SDK, and metrics on costs next to nothing over metrics off:

* counters are the client's and server's own ``stats`` dicts, which they keep either way; a
  series holds a reference to them and OTel ``ObservableCounter`` callbacks read them at
  collection time, so a counter costs nothing extra per message;
* a histogram value is one ``list.append``; every :data:`FOLD_EVERY` values (and at each scrape or
  export) the batch is folded into fixed buckets by C-level sort/bisect (:meth:`_Hist.flush`);
* ``nats.consumer.backlog`` -> OTel ``ObservableGauge`` fed by the consumer-info poll;
* histograms leave through a prometheus_client collector on the same private registry (same names
  the OTel Prometheus exporter would give them); with ``ENABLE_OTEL=1`` the same buckets also go
  out over OTLP, added to each periodic export (:mod:`adapter_runtime.otlp_histograms`).

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

# stats key (in the client's / server's own counters) -> metric name
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
    "errors": "nats.publish.errors",
}
HISTOGRAMS = {
    "publish_latency": "nats.publish.latency",
    "write_latency": "nats.persistence.write.latency",
    "e2e_latency": "nats.e2e.latency",
    "handler_duration": "nats.handler.duration",
}

# Values a histogram holds unfolded: bounds memory (~32 B each) and amortises the fold.
FOLD_EVERY = 1024


def fold(
    counts: list[int], total: float, low: float, high: float, values: list[float]
) -> tuple[list[int], float, float, float]:
    """Buckets, sum, min and max after adding ``values``; pure, and C-level work per value.

    Bucket i counts values <= LATENCY_BUCKETS_MS[i] (Prometheus ``le``), the last one the rest.
    Sorting once and bisecting per bound replaces one Python-level bisect per value.
    """
    if not values:
        return list(counts), total, low, high
    ordered = sorted(values)
    out = list(counts)
    below = 0
    for i, bound in enumerate(LATENCY_BUCKETS_MS):
        upto = bisect.bisect_right(ordered, bound)
        out[i] += upto - below
        below = upto
    out[-1] += len(ordered) - below
    return out, total + sum(ordered), min(low, ordered[0]), max(high, ordered[-1])


class _Hist:
    """Fixed-bucket histogram fed by ``pending.append`` on the hot path.

    Only the thread that records calls :meth:`flush` (the event loop); :meth:`snapshot` may run in
    any thread (the OTLP exporter's): it copies the pending values (atomic under the GIL) and
    never mutates, so a value is counted exactly once whichever runs first.
    """

    __slots__ = ("counts", "lock", "max", "min", "pending", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS_MS) + 1)
        self.sum = 0.0
        self.min = float("inf")
        self.max = float("-inf")
        self.pending: list[float] = []
        self.lock = threading.Lock()

    def record(self, value: float) -> None:
        """One value off the hot path (the hot path appends to ``pending`` itself)."""
        self.pending.append(value)
        if len(self.pending) >= FOLD_EVERY:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            pending = self.pending
            if pending:
                self.counts, self.sum, self.min, self.max = fold(
                    self.counts, self.sum, self.min, self.max, pending
                )
                pending.clear()

    def snapshot(self) -> tuple[list[int], float, float, float]:
        with self.lock:
            return fold(self.counts, self.sum, self.min, self.max, list(self.pending))


class _Series:
    """One attribute set: a live reference to its owner's counters, and its histograms."""

    __slots__ = ("attrs", "counts", "hists")

    def __init__(self, attrs: dict[str, str], counts: dict[str, int]) -> None:
        self.attrs = attrs
        self.counts = counts
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
                counts, total, low, high = h.snapshot()  # the hot path keeps recording meanwhile
                yield HistSnapshot(
                    HISTOGRAMS[key], dict(s.attrs), LATENCY_BUCKETS_MS, counts, total, low, high
                )

    def counter_totals(self, key: str) -> Iterator[tuple[int, dict[str, str]]]:
        totals: dict[tuple[tuple[str, str], ...], tuple[int, dict[str, str]]] = {}
        for s in list(self.series):
            k = tuple(sorted(s.attrs.items()))
            prev = totals.get(k, (0, s.attrs))[0]
            totals[k] = (prev + s.counts.get(key, 0), s.attrs)
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
                counts, total, _low, _high = h.snapshot()
                cumulative, acc = [], 0
                for bound, c in zip(bounds, counts, strict=True):
                    acc += c
                    cumulative.append((bound, acc))
                fam.add_metric(list(s.attrs.values()), cumulative, total)
            if fam is not None:
                yield fam


def prometheus_text() -> bytes:
    """The current Prometheus exposition of this process's adapter metrics (empty when off)."""
    if _provider is None:
        return b""
    from prometheus_client import generate_latest

    return generate_latest(_provider.registry)


class NoopRecorder:
    """Per-subscription histograms with metrics off (see :class:`ConsumerRecorder`)."""

    __slots__ = ()

    def handled(self, handler_ms: float, e2e_ms: float | None) -> None: ...
    def failed(self, handler_ms: float) -> None: ...


_NOOP_RECORDER = NoopRecorder()


class ConsumerRecorder(NoopRecorder):
    """A consumer's two histograms, bound once at subscribe: a handled message costs two appends
    and a length check (its counters are the server's own, see the module docstring)."""

    __slots__ = ("_e2e", "_e2e_values", "_handler", "_handler_values")

    def __init__(self, series: _Series) -> None:
        self._handler = series.hist("handler_duration")
        self._e2e = series.hist("e2e_latency")
        self._handler_values = self._handler.pending
        self._e2e_values = self._e2e.pending

    def handled(self, handler_ms: float, e2e_ms: float | None) -> None:
        """A handler returned: its duration and the e2e latency (None: no publish time)."""
        values = self._handler_values
        values.append(handler_ms)
        if e2e_ms is not None:
            self._e2e_values.append(e2e_ms)
        if len(values) >= FOLD_EVERY:
            self._handler.flush()
            self._e2e.flush()

    def failed(self, handler_ms: float) -> None:
        self._handler.record(handler_ms)


class NoopMetrics:
    """Metrics switched off: every call is a cheap no-op (for benchmarks and metrics-less pods)."""

    enabled = False

    def published(self, latency_ms: float, write_ms: float) -> None: ...
    def consumer(self, consumer: str, counts: dict[str, int]) -> NoopRecorder:
        return _NOOP_RECORDER

    def attrs(self, consumer: str) -> dict[str, str] | None:
        return None

    def add_backlog_source(self, source: BacklogSource) -> None: ...
    def remove_backlog_source(self, source: BacklogSource) -> None: ...


class Metrics(NoopMetrics):
    """One client's or server's series. ``counts`` is its own live ``stats`` dict (read, never
    written here); a server adds one series per consumer with that consumer's counts."""

    enabled = True

    def __init__(self, settings: AdapterSettings, counts: dict[str, int]) -> None:
        self._p = _setup(settings.enable_otel)
        self.base: dict[str, str] = {
            "namespace": settings.namespace or "",
            "pod": settings.pod_name or "",
            "stream": settings.stream_name,
            "client_id": settings.effective_client_id,
        }
        self._own = self._new_series(self.base, counts)
        self._by_consumer: dict[str, _Series] = {}
        self._pub_lat = self._own.hist("publish_latency")
        self._write_lat = self._own.hist("write_latency")
        self._pub_values = self._pub_lat.pending
        self._write_values = self._write_lat.pending

    def _new_series(self, attrs: dict[str, str], counts: dict[str, int]) -> _Series:
        s = _Series(attrs, counts)
        with self._p.lock:
            self._p.series.append(s)
        return s

    def consumer(self, consumer: str, counts: dict[str, int]) -> ConsumerRecorder:
        """The series of one consumer of this server, reading ``counts`` for its counters."""
        s = self._by_consumer.get(consumer)
        if s is None:
            s = self._by_consumer[consumer] = self._new_series({**self.base, "consumer": consumer}, counts)
        return ConsumerRecorder(s)

    def attrs(self, consumer: str) -> dict[str, str] | None:
        s = self._by_consumer.get(consumer)
        return s.attrs if s is not None else None

    def published(self, latency_ms: float, write_ms: float) -> None:
        values = self._pub_values
        values.append(latency_ms)
        self._write_values.append(write_ms)
        if len(values) >= FOLD_EVERY:
            self._pub_lat.flush()
            self._write_lat.flush()

    def add_backlog_source(self, source: BacklogSource) -> None:
        self._p.backlog_sources.append(source)

    def remove_backlog_source(self, source: BacklogSource) -> None:
        if source in self._p.backlog_sources:
            self._p.backlog_sources.remove(source)


def make_metrics(settings: AdapterSettings, counts: dict[str, int]) -> NoopMetrics:
    """Metrics for one client/server (``counts``: its own stats): real when exported somewhere."""
    if settings.metrics_port == 0 and not settings.enable_otel:
        return NoopMetrics()
    return Metrics(settings, counts)
