"""Local metric aggregation: batched histogram folding and counters read from live stats."""

from __future__ import annotations

import bisect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapter_runtime.metrics import FOLD_EVERY, LATENCY_BUCKETS_MS, _Hist, _Provider, _Series, fold

pytestmark = pytest.mark.unit

EMPTY = [0] * (len(LATENCY_BUCKETS_MS) + 1)
values_ms = st.lists(
    st.one_of(
        st.sampled_from(LATENCY_BUCKETS_MS),  # exactly on a bound: belongs to that bucket (le)
        st.floats(min_value=-5.0, max_value=50_000.0, allow_nan=False),
    ),
    max_size=300,
)


def one_by_one(values: list[float]) -> list[int]:
    """The reference: one bisect per value, as a per-message histogram would do."""
    counts = list(EMPTY)
    for v in values:
        counts[bisect.bisect_left(LATENCY_BUCKETS_MS, v)] += 1
    return counts


@given(values_ms, values_ms)
def test_fold_matches_per_value_bucketing(first: list[float], second: list[float]) -> None:
    counts, total, low, high = fold(EMPTY, 0.0, float("inf"), float("-inf"), first)
    counts, total, low, high = fold(counts, total, low, high, second)
    both = first + second
    assert counts == one_by_one(both)
    assert total == pytest.approx(sum(both), rel=1e-9, abs=1e-6)
    if both:
        assert (low, high) == (min(both), max(both))
    else:
        assert (low, high) == (float("inf"), float("-inf"))


def test_fold_puts_a_value_on_a_bound_into_that_bucket() -> None:
    counts, *_ = fold(EMPTY, 0.0, float("inf"), float("-inf"), [0.1, 0.11, 10000.0, 10000.5])
    assert counts[0] == 1 and counts[1] == 1  # 0.1 <= 0.1; 0.11 <= 0.25
    assert counts[-2] == 1 and counts[-1] == 1  # 10000 <= 10000; 10000.5 overflows


def test_fold_returns_new_lists() -> None:
    base = list(EMPTY)
    counts, *_ = fold(base, 0.0, 0.0, 0.0, [])
    counts[0] = 99
    assert base == EMPTY


def test_hist_keeps_pending_bounded_and_loses_nothing() -> None:
    h = _Hist()
    n = 3 * FOLD_EVERY + 7
    for i in range(n):
        h.record(float(i % 40))
    assert len(h.pending) < FOLD_EVERY
    counts, total, low, high = h.snapshot()
    assert sum(counts) == n
    assert total == sum(float(i % 40) for i in range(n))
    assert (low, high) == (0.0, 39.0)


def test_snapshot_counts_pending_values_without_consuming_them() -> None:
    h = _Hist()
    h.pending.extend([1.0, 2.0, 3.0])  # what the hot path does
    first = h.snapshot()
    assert sum(first[0]) == 3 and len(h.pending) == 3
    h.flush()
    assert h.pending == [] and h.snapshot() == first


def test_counters_are_read_live_from_the_owners_stats() -> None:
    provider = _Provider(registry=None)  # type: ignore[arg-type]  # registry unused here
    stats = {"published": 0, "errors": 0, "retries": 5}
    attrs = {"client_id": "c1"}
    provider.series.append(_Series(attrs, stats))
    provider.series.append(_Series(attrs, {"published": 2}))  # same attributes: summed
    stats["published"] += 3
    assert list(provider.counter_totals("published")) == [(5, attrs)]
    assert list(provider.counter_totals("acked")) == [(0, attrs)]  # key the owner does not keep
