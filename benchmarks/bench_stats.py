"""Pure statistics for the benchmarks: percentiles, paired ratios and the PASS/MISS decision.

Kept apart from the I/O so the numbers the report prints can be unit-tested.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks.

    Same definition as numpy's default, so figures compare with other tools.
    """
    if not values:
        raise ValueError("percentile: values is empty")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile: q must be within 0..100, got {q}")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = math.ceil(pos)
    if low == high:
        return float(ordered[low])
    frac = pos - low
    return float(ordered[low] + (ordered[high] - ordered[low]) * frac)


def median(values: Sequence[float]) -> float:
    """The median (50th percentile)."""
    return percentile(values, 50.0)


def ratio(value: float, baseline: float) -> float:
    """value / baseline; a baseline of zero or below means the baseline run failed."""
    if baseline <= 0:
        raise ValueError(f"ratio: baseline must be > 0, got {baseline}")
    return value / baseline


def paired_ratio(values: Sequence[float], baselines: Sequence[float]) -> float:
    """Median of per-repeat ratios.

    Each repeat runs the variant next to its baseline, so pairing them cancels most of the
    drift a shared, noisy machine adds between repeats.
    """
    if len(values) != len(baselines):
        raise ValueError(f"paired_ratio: {len(values)} values but {len(baselines)} baselines")
    if not values:
        raise ValueError("paired_ratio: no repeats")
    return median([ratio(v, b) for v, b in zip(values, baselines, strict=True)])


def ratio_range(values: Sequence[float], baselines: Sequence[float]) -> tuple[float, float]:
    """Smallest and largest per-repeat ratio: how far one run can stray on this machine."""
    if len(values) != len(baselines) or not values:
        raise ValueError(f"ratio_range: {len(values)} values, {len(baselines)} baselines")
    ratios = [ratio(v, b) for v, b in zip(values, baselines, strict=True)]
    return min(ratios), max(ratios)


class Direction(Enum):
    """Whether a ratio must stay at or above the threshold (throughput) or at or below it (latency)."""

    AT_LEAST = ">="
    AT_MOST = "<="


@dataclass(frozen=True)
class Target:
    """A ratio target such as `>= 0.90x`."""

    direction: Direction
    threshold: float

    def met_by(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.direction is Direction.AT_LEAST:
            return value >= self.threshold
        return value <= self.threshold

    def verdict(self, value: float) -> str:
        """ "PASS" or "MISS"."""
        return "PASS" if self.met_by(value) else "MISS"

    def __str__(self) -> str:
        return f"{self.direction.value} {self.threshold:.2f}x"


def at_least(threshold: float) -> Target:
    return Target(Direction.AT_LEAST, threshold)


def at_most(threshold: float) -> Target:
    return Target(Direction.AT_MOST, threshold)
