"""Markdown for docs/resilience_report.md from scenario results (pure)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.resilience.result import ScenarioResult
from benchmarks.resilience.verdict import VerdictRow, count_met

# how each measured figure is shown: unit kind
_KIND: dict[str, str] = {
    "message_loss": "fraction",
    "compression_saving": "fraction",
    "persistence_overhead": "fraction",
    "consume_overhead": "fraction",
    "file_retained": "fraction",
    "memory_retained": "fraction",
    "duplicates_detected": "fraction",
    "latency_p50_ms": "ms",
    "latency_p95_ms": "ms",
    "latency_p99_ms": "ms",
    "recovery_s": "s",
    "outage_s": "s",
    "catch_up_s": "s",
    "throughput": "rate",
    "rss_growth_mb": "mb",
}

METHOD = """\
- Every scenario starts its own nats-server (`seam_harness.nats.NatsProcess`, JetStream, file
  store in a temp dir) and, for the partition, a Toxiproxy in front of it; nothing is mocked.
- Publishing is the adapter's `NatsClient.publish_async` with a business message id per message
  (`<scenario>-<i>`); consuming is the adapter's `NatsServer.subscribe` (durable pull consumer,
  explicit ack per message). Publisher and consumer run in this one process.
- **Loss** = share of the N messages whose index the handler never saw (a publish that failed
  counts as lost). **Handler redeliveries** = handler calls for an index already seen
  (at-least-once delivery made visible). **Stored duplicates** = stream messages after the run
  minus N (de-duplication by `Nats-Msg-Id`).
- **Latency** = from just before `publish_async` (timestamp in the payload) to the handler being
  called, p50/p95/p99 over the first delivery of each message, in ms.
- **Recovery** = from the end of the fault (nats-server healthy again / proxy re-enabled) to the
  later of the first message handled and the first PubAck received after it; **catch-up** = from
  the end of the fault until every message published before that end has been handled (the
  backlog the fault built is gone). A message the server sent while the link was cut never
  arrives; JetStream redelivers it when its `ack_wait` (30 s default) expires, so catch-up can
  reach `ack_wait` in runs where that happens (the scenario's note says so when it did).
- **Reconnects** = publisher + consumer reconnects counted by the adapter (2 = both came back).
  Handler redeliveries after a broker kill are expected: delivery is at-least-once, and an ack
  that died with the broker (or the link) means the message comes again; handlers de-duplicate
  by message id where that matters.
- **RSS growth** = peak minus start RSS of this process (psutil, sampled every 50 ms);
  **peak backlog** = most messages published but not yet handled at one time.
- **Wire bytes** = nats-server `/varz` `in_bytes` while only the publisher is connected.
- Thresholds come from `benchmarks/resilience/test_matrix.yaml`; a MISS is reported, not raised
  (the command exits 0). Correctness at small scale is tested in
  `tests/integration/test_resilience_suite.py`; timing belongs here, not in tests."""


def fmt(metric: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    kind = _KIND.get(metric)
    if kind == "fraction":
        return f"{value * 100:.2f} %"
    if kind == "ms":
        return f"{value:.2f} ms"
    if kind == "s":
        return f"{value:.2f} s"
    if kind == "rate":
        return f"{value:,.0f} msg/s"
    if kind == "mb":
        return f"{value:.1f} MB"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _threshold(row: VerdictRow) -> str:
    op = "<=" if row.bound == "max" else ">="
    return f"{op} {fmt(row.metric, row.threshold)}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _variant_table(variants: list[dict[str, Any]]) -> list[str]:
    cols = [k for k in variants[0] if k not in ("settings",)]
    for v in variants[1:]:
        cols += [k for k in v if k not in cols and k != "settings"]
    rows = []
    for v in variants:
        cells = []
        for c in cols:
            val = v.get(c)
            if c in ("saving_vs_off", "retained"):
                cells.append(fmt("message_loss", val))
            elif c in ("publish_rate", "consume_rate"):
                cells.append(fmt("throughput", val))
            elif isinstance(val, (int, float)):
                cells.append(fmt(c, val))
            else:
                cells.append("" if val is None else str(val))
        rows.append(cells)
    settings = [
        f"`{v['variant']}`: " + ", ".join(f"{k}={s}" for k, s in v["settings"].items()) for v in variants
    ]
    return [*_table(cols, rows), "", "Variant settings: " + "; ".join(settings) + "."]


def scenario_section(r: ScenarioResult) -> list[str]:
    met, total = count_met(r.rows)
    lp = r.load
    rate = "as fast as possible" if not lp["publish_rate"] else f"at {lp['publish_rate']:g} msg/s"
    out = [
        f"## {r.name}: {met}/{total}",
        "",
        r.description,
        "",
        f"- Fault: {r.fault}",
        f"- Load: {lp['message_count']:,} messages of {lp['message_size']:,} B, {rate}",
        f"- Wall time: {r.wall_s:.1f} s",
        "",
    ]
    out += _table(
        ["assertion", "figure", "measured", "threshold", "verdict"],
        [(x.assertion, x.metric, fmt(x.metric, x.measured), _threshold(x), x.verdict) for x in r.rows],
    )
    judged = {x.metric for x in r.rows}
    other = [(k, fmt(k, v)) for k, v in r.measured.items() if k not in judged]
    if other:
        out += ["", "Other figures: " + ", ".join(f"{k} {v}" for k, v in other) + "."]
    if r.variants:
        out += ["", *_variant_table(r.variants)]
    for note in r.notes:
        out += ["", f"Note: {note}"]
    return [*out, ""]


def claims(results: Sequence[ScenarioResult]) -> list[str]:
    """The design note's performance highlights next to this run's figures (scenarios present only)."""
    by = {r.name: r.measured for r in results}
    out = []
    if "baseline_pubsub" in by:
        m = by["baseline_pubsub"]
        out.append(
            "Low latency, median < 5 ms in the baseline: "
            f"p50 {fmt('latency_p50_ms', m.get('latency_p50_ms'))}, "
            f"p99 {fmt('latency_p99_ms', m.get('latency_p99_ms'))}."
        )
    faults = [n for n in ("broker_restart", "network_partition") if n in by]
    if faults:
        worst = max((by[n].get("message_loss") or 0.0) for n in faults)
        out.append(
            f"Delivery guarantee >= 99 % under faults: {fmt('message_loss', 1 - worst)} of messages "
            f"delivered in {', '.join(faults)} (at-least-once: handler redeliveries "
            + ", ".join(f"{n} {fmt('', by[n].get('handler_redeliveries'))}" for n in faults)
            + ")."
        )
        out.append(
            "Recovery < 2 s: "
            + ", ".join(f"{n} {fmt('recovery_s', by[n].get('recovery_s'))}" for n in faults)
            + " from the end of the fault to the first message handled and acked; the backlog "
            "gone after "
            + ", ".join(f"{n} {fmt('catch_up_s', by[n].get('catch_up_s'))}" for n in faults)
            + "."
        )
    if "compression_vs_batch_ack" in by:
        out.append(
            "Compression saves >= 30 % bandwidth for large messages: "
            f"{fmt('compression_saving', by['compression_vs_batch_ack'].get('compression_saving'))} "
            "on the wire (default codec)."
        )
    if "persistence_comparison" in by:
        m = by["persistence_comparison"]
        out.append(
            "Persistence costs about 10-20 %: file vs memory storage costs "
            f"{fmt('persistence_overhead', m.get('persistence_overhead'))} of publish throughput and "
            f"{fmt('consume_overhead', m.get('consume_overhead'))} of consume throughput; a restart keeps "
            f"{fmt('file_retained', m.get('file_retained'))} of file-stored and "
            f"{fmt('memory_retained', m.get('memory_retained'))} of memory-stored messages."
        )
    return out


def render(results: Sequence[ScenarioResult], meta: Mapping[str, str]) -> str:
    rows = [row for r in results for row in r.rows]
    met, total = count_met(rows)
    command = meta.get("command", "python -m benchmarks.resilience")
    scale = meta.get("scale", "1")
    out = [
        "# Resilience report",
        "",
        f"Generated by `{command}` at {meta.get('when', '?')}.",
        "",
        f"**{met}/{total} assertions met** over {len(results)} scenario(s) (message counts x{scale}).",
        "",
    ]
    out += _table(
        ["scenario", "assertions met", "misses", "wall time"],
        [
            (
                f"[{r.name}](#{r.name})",
                "{}/{}".format(*count_met(r.rows)),
                ", ".join(x.assertion for x in r.rows if not x.met) or "-",
                f"{r.wall_s:.1f} s",
            )
            for r in results
        ],
    )
    highlights = claims(results)
    if highlights:
        out += ["", "## The design note's claims, measured", ""]
        out += [f"- {line}" for line in highlights]
    out += ["", "## Machine", ""]
    out += [f"- {k}: {v}" for k, v in meta.items() if k not in ("command", "when", "scale")]
    out += ["", "## Method", "", METHOD, ""]
    for r in results:
        out += scenario_section(r)
    return "\n".join(out).rstrip() + "\n"
