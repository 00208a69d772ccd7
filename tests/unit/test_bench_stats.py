"""Percentiles, paired ratios and the PASS/MISS decision used by the adapter benchmark."""

from __future__ import annotations

import math
import random

import pytest

from benchmarks.bench_stats import (
    Direction,
    Target,
    at_least,
    at_most,
    median,
    paired_ratio,
    percentile,
    ratio,
    ratio_range,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([10.0, 20.0, 30.0, 40.0, 50.0], 25, 20.0),
        ([0.0, 10.0], 99, 9.9),
        ([3.0, 1.0, 2.0], 50, 2.0),  # unsorted input
    ],
)
def test_percentile_interpolates_between_closest_ranks(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_matches_numpy_linear_definition_on_random_data() -> None:
    rng = random.Random(7)
    values = [rng.expovariate(1.0) for _ in range(1001)]
    ordered = sorted(values)
    # With 1001 values rank (n-1)*q/100 is an integer for q=50 and q=99: no interpolation needed.
    assert percentile(values, 50) == ordered[500]
    assert percentile(values, 99) == ordered[990]


def test_percentile_does_not_reorder_the_callers_list() -> None:
    values = [3.0, 1.0, 2.0]
    percentile(values, 50)
    assert values == [3.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("values", "q", "message"), [([], 50, "empty"), ([1.0], 101, "0..100"), ([1.0], -1, "0..100")]
)
def test_percentile_rejects_bad_input(values: list[float], q: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        percentile(values, q)


def test_median_of_even_count_is_mean_of_middle_pair() -> None:
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_ratio_and_zero_baseline() -> None:
    assert ratio(45.0, 50.0) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="baseline must be > 0"):
        ratio(1.0, 0.0)


def test_paired_ratio_is_median_of_per_repeat_ratios_not_ratio_of_medians() -> None:
    # Per-repeat ratios 0.9, 0.8 and 1.0556: their median is 0.9, while the medians of the two
    # columns (90 and 90) would claim parity.
    values = [90.0, 40.0, 95.0]
    baselines = [100.0, 50.0, 90.0]
    assert paired_ratio(values, baselines) == pytest.approx(0.9)
    assert median(values) / median(baselines) == pytest.approx(1.0)


def test_ratio_range_is_min_and_max_of_per_repeat_ratios() -> None:
    assert ratio_range([90.0, 40.0, 95.0], [100.0, 50.0, 90.0]) == pytest.approx((0.8, 95.0 / 90.0))
    with pytest.raises(ValueError, match="2 values, 1 baselines"):
        ratio_range([1.0, 2.0], [1.0])


def test_paired_ratio_rejects_mismatched_or_empty_repeats() -> None:
    with pytest.raises(ValueError, match="2 values but 1 baselines"):
        paired_ratio([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="no repeats"):
        paired_ratio([], [])


@pytest.mark.parametrize(
    ("target", "value", "verdict"),
    [
        (at_least(0.90), 0.95, "PASS"),
        (at_least(0.90), 0.90, "PASS"),  # the bound itself passes
        (at_least(0.90), 0.8999, "MISS"),
        (at_most(1.10), 1.05, "PASS"),
        (at_most(1.10), 1.10, "PASS"),
        (at_most(1.10), 1.1001, "MISS"),
        (at_least(0.95), math.nan, "MISS"),  # a failed run never passes
        (at_most(1.10), math.nan, "MISS"),
    ],
)
def test_target_verdict(target: Target, value: float, verdict: str) -> None:
    assert target.verdict(value) == verdict


def test_target_text() -> None:
    assert str(at_least(0.9)) == ">= 0.90x"
    assert str(Target(Direction.AT_MOST, 1.1)) == "<= 1.10x"
