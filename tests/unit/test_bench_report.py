"""Formatting of the benchmark table and report (pure)."""

from __future__ import annotations

import math

import pytest

from benchmarks.bench_report import (
    Row,
    format_ms,
    format_rate,
    format_ratio,
    markdown_report,
    markdown_table,
    summary,
    text_table,
)
from benchmarks.bench_stats import at_least, at_most

pytestmark = pytest.mark.unit


def test_number_formats() -> None:
    assert format_rate(38912.4) == "38,912 msg/s"
    assert format_ms(0.000412) == "0.412 ms"
    assert format_ratio(0.9349) == "0.93x"
    assert format_ratio(None) == "-"
    assert format_ratio(math.nan) == "n/a"


@pytest.mark.parametrize(
    ("row", "verdict"),
    [
        (Row("a", "1 msg/s", "raw", 0.95, at_least(0.9)), "PASS"),
        (Row("a", "1 msg/s", "raw", 0.85, at_least(0.9)), "MISS"),
        (Row("a", "p50", "raw", 1.2, at_most(1.1)), "MISS"),
        (Row("a", "1 msg/s", "raw", 0.33, None, reference=True), "reference"),
        (Row("a", "1 msg/s", "raw", 0.5, None), "-"),
        (Row("a", "failed", "raw", math.nan, at_least(0.9)), "MISS"),
        (Row("raw", "1 msg/s"), "-"),
    ],
)
def test_row_verdict(row: Row, verdict: str) -> None:
    assert row.verdict == verdict


ROWS = [
    Row("raw js.publish_async", "39,000 msg/s"),
    Row("adapter publish_async", "37,000 msg/s", "raw js.publish_async", 0.949, at_least(0.9)),
    Row("adapter consume", "20,000 msg/s", "raw fetch", 0.8, at_least(0.9)),
]


def test_text_table_aligns_columns_and_flags_miss() -> None:
    lines = text_table(ROWS).splitlines()
    assert lines[0].split() == ["variant", "result", "baseline", "ratio", "(range)", "target", "verdict"]
    # every data cell starts at the same column as its header
    col = lines[0].index("ratio")
    assert lines[3][col : col + 5] == "0.95x"
    assert lines[4][col : col + 5] == "0.80x"
    assert lines[4].endswith("<<< MISS")
    assert "<<<" not in lines[3]


def test_markdown_table_bolds_miss_and_escapes_pipes() -> None:
    rows = [*ROWS, Row("a|b", "x")]
    md = markdown_table(rows).splitlines()
    assert md[0] == "| variant | result | baseline | ratio (range) | target | verdict |"
    assert md[2].endswith("| - | - | - |")
    assert md[3].endswith("| 0.95x | >= 0.90x | PASS |")
    assert md[4].endswith("| 0.80x | >= 0.90x | **MISS** |")
    assert md[5].startswith("| a\\|b |")


def test_ratio_cell_shows_the_per_repeat_range() -> None:
    row = Row("a", "1 msg/s", "raw", 0.93, at_least(0.9), spread=(0.84, 1.02))
    assert row.cells()[3] == "0.93x (0.84-1.02)"
    assert Row("a", "1 msg/s", "raw", 0.93).cells()[3] == "0.93x"


def test_summary_counts_judged_rows_only() -> None:
    assert summary(ROWS) == "1/2 targets met; MISS: adapter consume"
    assert summary(ROWS[:2]) == "1/1 targets met"


def test_markdown_report_contains_every_section() -> None:
    text = markdown_report(
        "T",
        ROWS,
        {"cpus (nproc)": "2"},
        {"repeats (R)": "5"},
        ["interleaved"],
        ["one note"],
        {"Findings": "slow metrics"},
    )
    assert text.startswith("# T\n")
    assert "**1/2 targets met; MISS: adapter consume**" in text
    for needle in (
        "## Machine",
        "- cpus (nproc): 2",
        "## Parameters",
        "- repeats (R): 5",
        "## Method",
        "- interleaved",
        "## Notes",
        "- one note",
        "## Findings\n\nslow metrics\n",
    ):
        assert needle in text
    # results come first, the method last
    assert text.index("| variant |") < text.index("## Findings") < text.index("## Method")
