"""Measured figures + a scenario's assertions -> one PASS/MISS row per assertion (pure)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Bound = Literal["max", "min"]

# assertion key -> (measured figure it judges, whether the threshold is an upper or lower bound, unit)
ASSERTION_METRICS: dict[str, tuple[str, Bound, str]] = {
    "max_message_loss": ("message_loss", "max", "fraction"),
    "max_latency_p50": ("latency_p50_ms", "max", "ms"),
    "max_latency_p95": ("latency_p95_ms", "max", "ms"),
    "max_latency_p99": ("latency_p99_ms", "max", "ms"),
    "min_throughput": ("throughput", "min", "msg/s"),
    "max_recovery_s": ("recovery_s", "max", "s"),
    "min_reconnects": ("reconnects", "min", ""),
    "max_stored_duplicates": ("stored_duplicates", "max", "msgs"),
    "max_handler_redeliveries": ("handler_redeliveries", "max", "msgs"),
    "min_duplicates_detected": ("duplicates_detected", "min", "fraction"),
    "max_rss_growth_mb": ("rss_growth_mb", "max", "MB"),
    "min_peak_backlog": ("peak_backlog", "min", "msgs"),
    "min_compression_saving": ("compression_saving", "min", "fraction"),
    "max_persistence_overhead": ("persistence_overhead", "max", "fraction"),
    "min_file_retained": ("file_retained", "min", "fraction"),
}


@dataclass(frozen=True)
class VerdictRow:
    assertion: str
    metric: str
    bound: Bound
    threshold: float
    measured: float | None
    unit: str

    @property
    def met(self) -> bool:
        """A figure that was not measured (None or NaN) never meets its assertion."""
        if self.measured is None or math.isnan(self.measured):
            return False
        if self.bound == "max":
            return self.measured <= self.threshold
        return self.measured >= self.threshold

    @property
    def verdict(self) -> str:
        return "PASS" if self.met else "MISS"


def judge(measured: Mapping[str, float | None], assertions: Mapping[str, float]) -> list[VerdictRow]:
    """One row per assertion, in the assertions' order; unknown assertion keys are a bug upstream."""
    rows = []
    for key, threshold in assertions.items():
        if key not in ASSERTION_METRICS:
            raise KeyError(f"unknown assertion {key!r}; known: {', '.join(ASSERTION_METRICS)}")
        metric, bound, unit = ASSERTION_METRICS[key]
        rows.append(VerdictRow(key, metric, bound, float(threshold), measured.get(metric), unit))
    return rows


def count_met(rows: list[VerdictRow]) -> tuple[int, int]:
    return sum(r.met for r in rows), len(rows)
