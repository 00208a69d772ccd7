"""The operator's Prometheus metrics: what it reconciled, how it went, what it tracks.

One `OperatorMetrics` per process (created with the Runtime, never at import), with a private
`CollectorRegistry` so tests and embedders never collide with the global one. Counters are
recorded by the reconcile runner (one call per reconcile); the gauges and the advisory counter
are read from the live registry and connection pool at scrape time, so the hot path never
maintains them. Labels are bounded: kind (3 values), result, trigger, ready, advisory event;
never object names or namespaces (an operator may track thousands of resources).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from jetstream_operator.registry import CONNECTION, CONSUMER, STREAM, ResourceKey, Tracked

if TYPE_CHECKING:
    from jetstream_operator.connections import ConnectionPool
    from jetstream_operator.registry import Registry

PREFIX = "seam_operator"

# `kind` label values: the CRD kinds, not the plurals.
KINDS: Mapping[str, str] = {STREAM: "Stream", CONSUMER: "Consumer", CONNECTION: "NatsConnection"}

# `result` of one reconcile.
READY = "ready"  # the resource ended Ready=True
NOT_READY = "not_ready"  # completed without error but not Ready (Observe mode, object missing)
ERROR = "error"  # failed (NATS unreachable, rejected config, ...): retried with backoff
RESULTS = (READY, NOT_READY, ERROR)

# `trigger` of one reconcile.
HANDLER = "handler"  # kopf create/update/resume handler
PERIODIC = "periodic"  # the drift daemon's resync timer
EVENT = "event"  # the drift daemon woken early: NATS advisory, reconnect or a dependency change
TRIGGERS = (HANDLER, PERIODIC, EVENT)

# `ready` of a tracked resource; unknown = tracked but no reconcile finished yet.
READY_STATES = ("true", "false", "unknown")

# `event` of an advisory (connections.parse_advisory_subject), exported as zeros until seen.
ADVISORY_EVENTS = (
    "stream.created",
    "stream.updated",
    "stream.deleted",
    "consumer.created",
    "consumer.deleted",
)

DRIFT_REPAIRED = "DriftRepaired"  # Event reason of an out-of-band change undone (reconcile/*.py)

# Reconciles take milliseconds when in sync, up to the request timeout (5 s) when NATS is slow.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

METRIC_NAMES = (
    f"{PREFIX}_reconcile_total",
    f"{PREFIX}_reconcile_duration_seconds",
    f"{PREFIX}_drift_repairs_total",
    f"{PREFIX}_resources",
    f"{PREFIX}_nats_connections",
    f"{PREFIX}_advisories_total",
)


def kind_of(plural: str) -> str:
    return KINDS.get(plural, plural)


def result_of(ready: bool | None) -> str:
    """None means the reconcile failed."""
    if ready is None:
        return ERROR
    return READY if ready else NOT_READY


def drift_repairs(events: Iterable[tuple[str, str, str]]) -> int:
    """How many out-of-band changes a reconcile undid, from the Events it posts."""
    return sum(1 for _, reason, _ in events if reason == DRIFT_REPAIRED)


def resource_counts(
    items: Iterable[Tracked], ready: Mapping[ResourceKey, bool]
) -> dict[tuple[str, str], int]:
    """(kind, ready) -> tracked resources, with a zero for every combination (stable series)."""
    counts = {(kind, state): 0 for kind in KINDS.values() for state in READY_STATES}
    for item in items:
        known = ready.get(item.key)
        state = "unknown" if known is None else ("true" if known else "false")
        key = (kind_of(item.key.plural), state)
        counts[key] = counts.get(key, 0) + 1
    return counts


class OperatorMetrics:
    """Counters recorded per reconcile plus a scrape-time view of the registry and the pool."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.reconciles = Counter(
            f"{PREFIX}_reconcile",
            "Reconciles finished, by resource kind and result (ready, not_ready, error).",
            ["kind", "result"],
            registry=self.registry,
        )
        self.duration = Histogram(
            f"{PREFIX}_reconcile_duration_seconds",
            "Time one reconcile took, NATS requests and status write included.",
            ["kind"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.repairs = Counter(
            f"{PREFIX}_drift_repairs",
            "Out-of-band changes or deletions on the NATS server undone, by kind and trigger.",
            ["kind", "trigger"],
            registry=self.registry,
        )
        # Children resolved once (`.labels()` locks and hashes on every call); creating them also
        # exports every series as zero from the start, so rate() and dashboards see them.
        self._runs = {
            kind: {result: self.reconciles.labels(kind, result) for result in RESULTS}
            for kind in KINDS.values()
        }
        self._durations = {kind: self.duration.labels(kind) for kind in KINDS.values()}
        for kind in KINDS.values():
            for trigger in TRIGGERS:
                self.repairs.labels(kind, trigger)
        self.ready: dict[ResourceKey, bool] = {}
        self._tracked: Registry | None = None
        self._prune_at = 64  # prune `ready` once it holds this many entries

    def reconciled(
        self, key: ResourceKey, ready: bool | None, seconds: float, trigger: str, repairs: int = 0
    ) -> None:
        """Record one reconcile; `ready` None = it failed."""
        kind, result = kind_of(key.plural), result_of(ready)
        if kind in self._runs:
            self._runs[kind][result].inc()
            self._durations[kind].observe(seconds)
        else:  # not one of the three kinds: never expected, still counted
            self.reconciles.labels(kind, result).inc()
            self.duration.labels(kind).observe(seconds)
        if repairs:
            self.repairs.labels(kind, trigger).inc(repairs)
        self.ready[key] = bool(ready)
        # Deleted resources leave the registry: drop their entries now and then (amortised O(1)).
        if len(self.ready) > self._prune_at:
            self._prune()

    def track_state(self, registry: Registry, pool: ConnectionPool) -> None:
        """Expose the tracked resources and the NATS connection pool (called once at startup)."""
        self._tracked = registry
        self.registry.register(_StateCollector(self, registry, pool))

    def _prune(self) -> None:
        if self._tracked is None:
            return
        live = {item.key for item in self._tracked.items()}
        for key in [k for k in self.ready if k not in live]:
            del self.ready[key]
        self._prune_at = 2 * len(live) + 64


class _StateCollector(Collector):
    """Gauges and the advisory counter, computed when Prometheus scrapes."""

    def __init__(self, metrics: OperatorMetrics, registry: Registry, pool: ConnectionPool) -> None:
        self._metrics = metrics
        self._registry = registry
        self._pool = pool

    def collect(self) -> Iterator[Metric]:
        self._metrics._prune()
        resources = GaugeMetricFamily(
            f"{PREFIX}_resources",
            "Resources this replica tracks, by kind and Ready state (unknown: not reconciled yet).",
            labels=["kind", "ready"],
        )
        for (kind, state), count in sorted(
            resource_counts(self._registry.items(), self._metrics.ready).items()
        ):
            resources.add_metric([kind, state], count)
        yield resources
        yield GaugeMetricFamily(
            f"{PREFIX}_nats_connections",
            "Open pooled NATS connections (one per distinct connection config).",
            value=len(self._pool.stats()),
        )
        advisories = CounterMetricFamily(
            f"{PREFIX}_advisories",
            "JetStream advisories received, by event (stream.deleted, consumer.created, ...).",
            labels=["event"],
        )
        counts = dict.fromkeys(ADVISORY_EVENTS, 0) | dict(self._pool.advisory_counts)
        for event, count in sorted(counts.items()):
            advisories.add_metric([event], count)
        yield advisories
