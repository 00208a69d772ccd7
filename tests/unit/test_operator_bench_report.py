"""Ready tracking, per-side figures and the comparison table of the operator benchmark."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.operator_bench_report import (
    MB,
    ReadyTracker,
    SideResult,
    format_ratio,
    is_ready,
    markdown_report,
    markdown_table,
    safe_ratio,
    side_result,
    table_cells,
    text_table,
    verdict_summary,
)

pytestmark = pytest.mark.unit


def obj(name: str, ready: str | None = None, other: tuple[str, str] | None = None) -> dict[str, Any]:
    conds = []
    if other:
        conds.append({"type": other[0], "status": other[1]})
    if ready is not None:
        conds.append({"type": "Ready", "status": ready})
    body: dict[str, Any] = {"metadata": {"name": name}}
    if conds:
        body["status"] = {"conditions": conds}
    return body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (obj("a"), False),
        (obj("a", "False"), False),
        (obj("a", "Unknown"), False),
        (obj("a", "True"), True),
        (obj("a", other=("Synced", "True")), False),
        (obj("a", "True", other=("Synced", "False")), True),
        ({"metadata": {"name": "a"}, "status": None}, False),
        ({"metadata": {"name": "a"}, "status": {"conditions": None}}, False),
    ],
)
def test_is_ready_reads_only_the_ready_condition(body: dict[str, Any], expected: bool) -> None:
    assert is_ready(body) is expected


def test_tracker_keeps_first_sighting_and_first_ready() -> None:
    t = ReadyTracker({("Stream", "s1"), ("Consumer", "c1")})
    t.observe("Stream", obj("s1"), 10.0)
    t.observe("Stream", obj("s1", "False"), 10.5)
    t.observe("Stream", obj("s1", "True"), 11.25)
    t.observe("Stream", obj("s1", "True"), 20.0)  # later resync must not move the figure
    t.observe("Consumer", obj("c1", "True"), 12.0)  # first seen already Ready: latency 0
    assert t.done
    assert sorted(t.latencies()) == [0.0, 1.25]
    assert t.last_ready() == 12.0


def test_tracker_ignores_objects_it_does_not_wait_for() -> None:
    t = ReadyTracker({("Stream", "s1")})
    t.observe("Stream", obj("other", "True"), 1.0)
    t.observe("Consumer", obj("s1", "True"), 1.0)  # same name, other kind
    assert not t.done
    assert t.pending() == [("Stream", "s1")]
    assert t.last_ready() is None


def test_side_result_all_ready_only_when_every_object_is_ready() -> None:
    t = ReadyTracker({("Stream", "s1"), ("Stream", "s2")})
    t.observe("Stream", obj("s1"), 100.0)
    t.observe("Stream", obj("s1", "True"), 100.4)
    partial = side_result("ours", t, 99.0, 5 * MB)
    assert partial.all_ready_seconds is None
    assert (partial.ready, partial.expected, partial.complete) == (1, 2, False)
    assert partial.p50 == pytest.approx(0.4)
    t.observe("Stream", obj("s2"), 100.1)
    t.observe("Stream", obj("s2", "True"), 101.1)
    full = side_result("ours", t, 99.0, 5 * MB)
    assert full.all_ready_seconds == pytest.approx(2.1)
    assert full.complete
    assert full.p50 == pytest.approx(0.7)
    assert full.p99 == pytest.approx(0.4 + 0.6 * 0.99)


def test_side_without_latencies_has_no_percentiles() -> None:
    r = SideResult("NACK", 10, 0, None, (), None, error="boom")
    assert r.p50 is None and r.p99 is None and not r.complete


@pytest.mark.parametrize(
    ("value", "baseline", "expected"),
    [(2.0, 4.0, 0.5), (3.0, 1.5, 2.0), (None, 1.0, None), (1.0, None, None), (1.0, 0.0, None)],
)
def test_safe_ratio(value: float | None, baseline: float | None, expected: float | None) -> None:
    assert safe_ratio(value, baseline) == expected


def result(
    label: str, all_ready: float | None, lat: tuple[float, ...], rss: int, ready: int = 4
) -> SideResult:
    return SideResult(label, 4, ready, all_ready, lat, rss, idle_rss_bytes=rss // 2, cpu_seconds=3.0)


def by_metric(rows: list[tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {r[0]: r for r in rows}


def test_table_rows_show_figures_ratio_target_and_verdict() -> None:
    ours = result("ours", 30.0, (0.2, 0.4, 0.6, 2.0), 150 * MB)
    nack = result("NACK", 60.0, (0.4, 0.8, 1.2, 4.0), 100 * MB)
    rows = by_metric(table_cells(ours, nack))
    assert rows["time to all Ready"] == (
        "time to all Ready",
        "30.000 s",
        "60.000 s",
        "0.50x",
        "<= 60.000 s",
        "PASS",
    )
    assert rows["apply->Ready p50"][1:4] == ("0.500 s", "1.000 s", "0.50x")
    assert rows["apply->Ready p50"][-1] == "PASS"
    assert rows["apply->Ready p99"][-1] == "-"  # informational
    assert rows["peak RSS"] == ("peak RSS", "150.0 MB", "100.0 MB", "1.50x", "<= 200.0 MB", "PASS")
    assert rows["objects Ready"] == ("objects Ready", "4/4", "4/4", "-", "4/4", "PASS")


def test_missed_targets_and_missing_figures() -> None:
    ours = result("ours", None, (0.5, 3.0), 250 * MB, ready=2)
    rows = by_metric(table_cells(ours, None))
    assert rows["time to all Ready"][1:] == ("-", "-", "-", "<= 60.000 s", "MISS")
    assert rows["apply->Ready p50"][-1] == "MISS"  # 1.75 s
    assert rows["peak RSS"][-1] == "MISS"
    assert rows["objects Ready"][1] == "2/4" and rows["objects Ready"][-1] == "MISS"
    summary = verdict_summary(list(rows.values()))
    assert summary == "0/4 targets met; MISS: time to all Ready, apply->Ready p50, peak RSS, objects Ready"


def test_text_and_markdown_flag_misses() -> None:
    rows = [("a", "1", "2", "0.50x", "<= 1", "PASS"), ("b|c", "3", "-", "-", "<= 1", "MISS")]
    text = text_table(rows)
    assert text.splitlines()[3].endswith("<<< MISS")
    assert "<<<" not in text.splitlines()[2]
    md = markdown_table(rows)
    assert "| b\\|c | 3 | - | - | <= 1 | **MISS** |" in md
    assert md.splitlines()[0].startswith("| metric | ours | NACK |")


def test_markdown_report_has_results_then_machine_and_method() -> None:
    rows = [("a", "1", "2", "0.50x", "<= 1", "PASS")]
    doc = markdown_report(7, rows, {"CPU": "2 x test"}, {"count": "7"}, ["step one"], ["NACK: slow"])
    assert doc.startswith("# Operator benchmark: 7 Streams + 7 Consumers at once")
    assert "**1/1 targets met**" in doc
    order = [doc.index(h) for h in ("| metric", "## Notes", "## Machine", "## Parameters", "## Method")]
    assert order == sorted(order)
    assert "- CPU: 2 x test" in doc and "- step one" in doc and "- NACK: slow" in doc


def test_tracker_counts_each_not_ready_reason_once_per_object_until_ready() -> None:
    t = ReadyTracker({("Consumer", "c1"), ("Consumer", "c2")})
    waiting = {
        "metadata": {"name": "c1"},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "StreamNotReady"}]},
    }
    t.observe("Consumer", waiting, 1.0)
    t.observe("Consumer", waiting, 2.0)  # same reason again: still one object
    t.observe("Consumer", {**waiting, "metadata": {"name": "c2"}}, 2.0)
    t.observe("Consumer", obj("c1", "True"), 3.0)
    t.observe("Consumer", waiting, 4.0)  # after Ready: not a detour
    assert t.detours == {("Consumer", "StreamNotReady"): 2}
    assert t.detour_summary() == "Consumer StreamNotReady 2"
    assert ReadyTracker({("Stream", "s")}).detour_summary() == "none"


@pytest.mark.parametrize(
    ("value", "text"), [(None, "-"), (1.5, "1.50x"), (0.1, "0.10x"), (0.004, "0.004x"), (0.0123, "0.0123x")]
)
def test_format_ratio_keeps_small_ratios_readable(value: float | None, text: str) -> None:
    assert format_ratio(value) == text
