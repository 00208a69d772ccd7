"""Resilience verdicts: measured figures against thresholds, PASS/MISS per assertion."""

from __future__ import annotations

import math

import pytest

from benchmarks.resilience.verdict import ASSERTION_METRICS, VerdictRow, count_met, judge

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("measured", "assertions", "expected"),
    [
        ({"message_loss": 0.0}, {"max_message_loss": 0.0}, ["PASS"]),
        ({"message_loss": 0.001}, {"max_message_loss": 0.0}, ["MISS"]),
        ({"latency_p50_ms": 5.0}, {"max_latency_p50": 5.0}, ["PASS"]),  # the bound itself meets it
        ({"latency_p99_ms": 50.1}, {"max_latency_p99": 50.0}, ["MISS"]),
        (
            {"recovery_s": 1.2, "reconnects": 2},
            {"max_recovery_s": 2.0, "min_reconnects": 2},
            ["PASS", "PASS"],
        ),
        ({"reconnects": 0}, {"min_reconnects": 1}, ["MISS"]),
        ({"compression_saving": 0.30}, {"min_compression_saving": 0.3}, ["PASS"]),
        ({"compression_saving": 0.29}, {"min_compression_saving": 0.3}, ["MISS"]),
        ({"persistence_overhead": -0.05}, {"max_persistence_overhead": 0.2}, ["PASS"]),  # file faster
        ({}, {"max_recovery_s": 2.0}, ["MISS"]),  # not measured never passes
        ({"recovery_s": None}, {"max_recovery_s": 2.0}, ["MISS"]),
        ({"latency_p95_ms": math.nan}, {"max_latency_p95": 20.0}, ["MISS"]),
        (
            {"stored_duplicates": 0, "file_retained": 1.0},
            {"max_stored_duplicates": 0, "min_file_retained": 1},
            ["PASS", "PASS"],
        ),
    ],
)
def test_judge(measured: dict[str, float | None], assertions: dict[str, float], expected: list[str]) -> None:
    rows = judge(measured, assertions)
    assert [r.verdict for r in rows] == expected
    assert [r.assertion for r in rows] == list(assertions)


def test_rows_carry_metric_bound_unit_and_threshold() -> None:
    (row,) = judge({"latency_p95_ms": 12.5}, {"max_latency_p95": 20})
    assert row == VerdictRow("max_latency_p95", "latency_p95_ms", "max", 20.0, 12.5, "ms")


def test_unknown_assertion_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="unknown assertion 'max_wobble'"):
        judge({}, {"max_wobble": 1.0})


def test_count_met() -> None:
    rows = judge({"message_loss": 0.0, "recovery_s": 3.0}, {"max_message_loss": 0, "max_recovery_s": 2})
    assert count_met(rows) == (1, 2)


def test_every_assertion_is_an_upper_or_lower_bound_named_accordingly() -> None:
    for key, (_, bound, _) in ASSERTION_METRICS.items():
        assert key.startswith(f"{bound}_"), key
