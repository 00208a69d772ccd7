"""Turn benchmark rows into the console table and the Markdown report (pure formatting)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks.bench_stats import Target

HEADERS = ("variant", "result", "baseline", "ratio (range)", "target", "verdict")


def format_rate(msgs_per_s: float) -> str:
    return f"{msgs_per_s:,.0f} msg/s"


def format_ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def format_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isnan(value):
        return "n/a"
    return f"{value:.2f}x"


@dataclass(frozen=True)
class Row:
    """One line of the result table; `target` None means the row is informational."""

    variant: str
    result: str
    baseline: str = "-"
    ratio: float | None = None
    target: Target | None = None
    reference: bool = False
    spread: tuple[float, float] | None = None  # min and max per-repeat ratio

    @property
    def verdict(self) -> str:
        if self.reference:
            return "reference"
        if self.target is None or self.ratio is None:
            return "-"
        return self.target.verdict(self.ratio)

    def cells(self) -> tuple[str, ...]:
        return (
            self.variant,
            self.result,
            self.baseline,
            format_ratio(self.ratio)
            + (f" ({self.spread[0]:.2f}-{self.spread[1]:.2f})" if self.spread else ""),
            str(self.target) if self.target is not None else "-",
            self.verdict,
        )


def text_table(rows: Sequence[Row]) -> str:
    """A fixed-width table for the terminal; MISS rows are flagged with `<<<` so they stand out."""
    body = [r.cells() for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in body)) if body else len(h) for i, h in enumerate(HEADERS)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(HEADERS), line(["-" * w for w in widths])]
    for row, cells in zip(rows, body, strict=True):
        out.append(line(cells) + ("   <<< MISS" if row.verdict == "MISS" else ""))
    return "\n".join(out)


def markdown_table(rows: Sequence[Row]) -> str:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join("---" for _ in HEADERS) + "|"]
    for row in rows:
        cells = list(row.cells())
        if row.verdict == "MISS":
            cells[-1] = "**MISS**"
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out)


def summary(rows: Sequence[Row]) -> str:
    """One line: how many targets passed and which missed."""
    judged = [r for r in rows if r.verdict in ("PASS", "MISS")]
    missed = [r.variant for r in judged if r.verdict == "MISS"]
    text = f"{len(judged) - len(missed)}/{len(judged)} targets met"
    return text + (f"; MISS: {', '.join(missed)}" if missed else "")


def markdown_report(
    title: str,
    rows: Sequence[Row],
    machine: Mapping[str, str],
    parameters: Mapping[str, str],
    method: Sequence[str],
    notes: Sequence[str] = (),
    sections: Mapping[str, str] | None = None,
) -> str:
    """The full Markdown document: results first, then extra sections, then how they were obtained."""
    parts = [f"# {title}", "", f"**{summary(rows)}**", "", markdown_table(rows), ""]
    for heading, body in (sections or {}).items():
        parts += [f"## {heading}", "", body, ""]
    if notes:
        parts += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    parts += ["## Machine", "", *(f"- {k}: {v}" for k, v in machine.items()), ""]
    parts += ["## Parameters", "", *(f"- {k}: {v}" for k, v in parameters.items()), ""]
    parts += ["## Method", "", *(f"- {m}" for m in method), ""]
    return "\n".join(parts)
