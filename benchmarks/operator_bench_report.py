"""Pure parts of the operator benchmark: Ready tracking, figures per side, the comparison table.

The I/O (servers, kubectl, watches, RSS sampling) lives in `benchmarks.operator_bench`; everything
here takes plain values so the numbers the report prints are unit-tested.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.bench_stats import percentile

MB = 1_000_000


def ready_condition(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    status = obj.get("status") or {}
    for cond in status.get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("type") == "Ready":
            return cond
    return None


def is_ready(obj: Mapping[str, Any]) -> bool:
    """True when the object's status carries a Ready condition with status "True"."""
    cond = ready_condition(obj)
    return cond is not None and str(cond.get("status")) == "True"


@dataclass
class ReadyTracker:
    """Local receipt times of each object's first sighting and of its first Ready=True.

    Watch events are timestamped on arrival (monotonic clock): the apiserver's timestamps have
    one-second resolution, too coarse for a sub-second p50.
    """

    expected: set[tuple[str, str]]
    first_seen: dict[tuple[str, str], float] = field(default_factory=dict)
    ready_at: dict[tuple[str, str], float] = field(default_factory=dict)
    # (kind, reason) -> objects that showed Ready=False with that reason before they got Ready:
    # the detours a controller took (waiting for a dependency, errors and retries).
    detours: Counter[tuple[str, str]] = field(default_factory=Counter)
    _detoured: set[tuple[str, str, str]] = field(default_factory=set)

    def observe(self, kind: str, obj: Mapping[str, Any], now: float) -> None:
        key = (kind, obj["metadata"]["name"])
        if key not in self.expected:
            return
        self.first_seen.setdefault(key, now)
        if key in self.ready_at:
            return
        cond = ready_condition(obj)
        if cond is None:
            return
        if str(cond.get("status")) == "True":
            self.ready_at[key] = now
            return
        reason = str(cond.get("reason") or "?")
        if (kind, key[1], reason) not in self._detoured:
            self._detoured.add((kind, key[1], reason))
            self.detours[(kind, reason)] += 1

    def detour_summary(self) -> str:
        """`Consumer StreamNotReady 110, ...`: objects per reason seen before Ready."""
        items = sorted(self.detours.items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(f"{kind} {reason} {n}" for (kind, reason), n in items) or "none"

    @property
    def done(self) -> bool:
        return len(self.ready_at) == len(self.expected)

    def pending(self) -> list[tuple[str, str]]:
        return sorted(self.expected - self.ready_at.keys())

    def latencies(self) -> list[float]:
        """Seconds from first sighting (the object exists) to Ready, for the objects that got Ready."""
        return [self.ready_at[k] - self.first_seen[k] for k in self.ready_at]

    def last_ready(self) -> float | None:
        return max(self.ready_at.values()) if self.ready_at else None


@dataclass(frozen=True)
class SideResult:
    """What one operator achieved on the same load."""

    label: str
    expected: int
    ready: int
    all_ready_seconds: float | None
    latencies: tuple[float, ...]
    peak_rss_bytes: int | None
    idle_rss_bytes: int | None = None
    cpu_seconds: float | None = None
    apply_seconds: float | None = None
    control_plane_cpu_seconds: float | None = None
    detours: str | None = None  # Ready=False reasons seen before Ready (ReadyTracker.detour_summary)
    api_requests: str | None = None  # what the apiserver served during the run, per verb/resource
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.error is None and self.expected > 0 and self.ready == self.expected

    def latency_percentile(self, q: float) -> float | None:
        return percentile(self.latencies, q) if self.latencies else None

    @property
    def p50(self) -> float | None:
        return self.latency_percentile(50.0)

    @property
    def p99(self) -> float | None:
        return self.latency_percentile(99.0)


def side_result(
    label: str,
    tracker: ReadyTracker,
    apply_started: float,
    peak_rss_bytes: int | None,
    **extra: Any,
) -> SideResult:
    """Figures of one side from its tracker; all-Ready time only when every object got Ready."""
    last = tracker.last_ready()
    return SideResult(
        label=label,
        expected=len(tracker.expected),
        ready=len(tracker.ready_at),
        all_ready_seconds=(last - apply_started) if tracker.done and last is not None else None,
        latencies=tuple(sorted(tracker.latencies())),
        peak_rss_bytes=peak_rss_bytes,
        detours=tracker.detour_summary(),
        **extra,
    )


def safe_ratio(value: float | None, baseline: float | None) -> float | None:
    """value / baseline, None when either side has no figure or the baseline is not positive."""
    if value is None or baseline is None or baseline <= 0 or math.isnan(baseline):
        return None
    return value / baseline


@dataclass(frozen=True)
class Metric:
    """One row: how to read the figure from a side, how to print it, and the absolute target."""

    name: str
    read: Callable[[SideResult], float | None]
    unit: str
    limit: float | None = None  # ours must be <= limit

    def show(self, value: float | None) -> str:
        if value is None:
            return "-"
        if self.unit == "s":
            return f"{value:.3f} s"
        if self.unit == "MB":
            return f"{value / MB:.1f} MB"
        return f"{value:g} {self.unit}".strip()

    def target(self) -> str:
        return "-" if self.limit is None else f"<= {self.show(self.limit)}"

    def verdict(self, value: float | None) -> str:
        if self.limit is None:
            return "-"
        return "PASS" if value is not None and value <= self.limit else "MISS"


METRICS: tuple[Metric, ...] = (
    Metric("time to all Ready", lambda r: r.all_ready_seconds, "s", 60.0),
    Metric("apply->Ready p50", lambda r: r.p50, "s", 1.0),
    Metric("apply->Ready p99", lambda r: r.p99, "s"),
    Metric("peak RSS", lambda r: r.peak_rss_bytes, "MB", 200 * MB),
    Metric("idle RSS (before apply)", lambda r: r.idle_rss_bytes, "MB"),
    Metric("CPU time (user+sys)", lambda r: r.cpu_seconds, "s"),
    Metric("control-plane CPU time", lambda r: r.control_plane_cpu_seconds, "s"),
    Metric("kubectl apply duration", lambda r: r.apply_seconds, "s"),
)

HEADERS = ("metric", "ours", "NACK", "ratio ours/NACK", "target (ours)", "verdict")


def format_ratio(value: float | None) -> str:
    """Two decimals; three significant digits below 0.1 so a 250x gap does not print as 0.00x."""
    if value is None:
        return "-"
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.3g}x"


def table_cells(ours: SideResult, nack: SideResult | None) -> list[tuple[str, ...]]:
    """The rows of the comparison; a side that did not finish shows `-` for figures it lacks."""
    rows: list[tuple[str, ...]] = []
    for m in METRICS:
        mine = m.read(ours)
        theirs = m.read(nack) if nack is not None else None
        rows.append(
            (
                m.name,
                m.show(mine),
                m.show(theirs),
                format_ratio(safe_ratio(mine, theirs)),
                m.target(),
                m.verdict(mine),
            )
        )
    rows.append(
        (
            "objects Ready",
            f"{ours.ready}/{ours.expected}",
            f"{nack.ready}/{nack.expected}" if nack is not None else "-",
            "-",
            f"{ours.expected}/{ours.expected}",
            "PASS" if ours.complete else "MISS",
        )
    )
    return rows


def text_table(rows: Sequence[Sequence[str]], headers: Sequence[str] = HEADERS) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) + ("   <<< MISS" if r[-1] == "MISS" else "") for r in rows]
    return "\n".join(out)


def markdown_table(rows: Sequence[Sequence[str]], headers: Sequence[str] = HEADERS) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        cells = [c.replace("|", "\\|") for c in r]
        if cells[-1] == "MISS":
            cells[-1] = "**MISS**"
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def verdict_summary(rows: Sequence[Sequence[str]]) -> str:
    judged = [r for r in rows if r[-1] in ("PASS", "MISS")]
    missed = [r[0] for r in judged if r[-1] == "MISS"]
    text = f"{len(judged) - len(missed)}/{len(judged)} targets met"
    return text + (f"; MISS: {', '.join(missed)}" if missed else "")


def markdown_report(
    count: int,
    rows: Sequence[Sequence[str]],
    machine: Mapping[str, str],
    parameters: Mapping[str, str],
    method: Iterable[str],
    notes: Iterable[str] = (),
) -> str:
    parts = [
        f"# Operator benchmark: {count} Streams + {count} Consumers at once, side by side with NACK",
        "",
        "Generated by `uv run python -m benchmarks.operator_bench`; do not edit by hand.",
        "",
        f"**{verdict_summary(rows)}**",
        "",
        markdown_table(rows),
        "",
    ]
    notes = list(notes)
    if notes:
        parts += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    parts += ["## Machine", "", *(f"- {k}: {v}" for k, v in machine.items()), ""]
    parts += ["## Parameters", "", *(f"- {k}: {v}" for k, v in parameters.items()), ""]
    parts += ["## Method", "", *(f"- {m}" for m in method), ""]
    return "\n".join(parts)
