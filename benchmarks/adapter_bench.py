"""Adapter vs raw nats-py, side by side on one nats-server, printing ratios against the targets.

    uv run python -m benchmarks.adapter_bench [--messages N] [--repeat R]
        [--out docs/performance_report.md] [--json reports/adapter_bench.json]

Every repeat runs every variant once, on a fresh stream, in alternating order (forward, then
backward) so slow drift on a shared machine hits baselines and adapter alike; figures are medians
over repeats and ratios are medians of per-repeat ratios. It is a report, not a test: the exit code
is 0 even when a target is missed (the table says MISS), and non-zero only if the bench itself broke.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import gc
import importlib.metadata
import json
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nats

from benchmarks import raw_variants
from benchmarks.bench_report import (
    Row,
    format_ms,
    format_rate,
    markdown_report,
    markdown_table,
    summary,
    text_table,
)
from benchmarks.bench_stats import (
    Target,
    at_least,
    at_most,
    median,
    paired_ratio,
    percentile,
    ratio_range,
)
from benchmarks.bench_stream import BenchConfig, Measured, fresh_stream, prefill
from benchmarks.machine import cpu_model, nats_server_version

Sample = float | list[float]
RunResult = float | list[float] | Measured
Runner = Callable[[BenchConfig], Awaitable[RunResult]]


@dataclass(frozen=True)
class Variant:
    """One measured thing; `kind` is "latency" (samples in s) or "throughput" (msg/s)."""

    key: str
    label: str
    kind: str
    needs_backlog: bool
    run: Runner
    share: float = 1.0  # fraction of N this variant handles (a slow reference row needs fewer)


def freeze_import_time_objects() -> None:
    """Keep the objects that exist after imports and warm-up out of every later GC pass.

    The variants run in processes with different imports (the OTLP child loads the exporter,
    protobuf and grpc; this process loads FastStream), and full collections traverse all of
    them, so an import-heavy process paid ~3 us/msg more on publish_async for the same code
    (measured: metrics on vs metrics + OTLP in two children, 30.1 vs 33.0 us/msg; with this,
    27.8 vs 27.9). Freezing in every process measures the per-message code, not the import set.
    """
    gc.collect()
    gc.freeze()


def _variants() -> list[Variant]:
    from benchmarks import adapter_variants, faststream_variant

    adapter_variants.warm_up()

    a = adapter_variants
    return [
        Variant("raw_publish", "raw js.publish", "latency", False, raw_variants.publish_latency),
        Variant("adapter_publish_off", "adapter publish (metrics off)", "latency", False, a.publish_off),
        Variant("adapter_publish_on", "adapter publish (metrics on)", "latency", False, a.publish_on),
        Variant("raw_publish_async", "raw js.publish_async", "throughput", False, raw_variants.publish_async),
        Variant(
            "adapter_publish_async_off",
            "adapter publish_async (metrics off)",
            "throughput",
            False,
            a.publish_async_off,
        ),
        Variant(
            "adapter_publish_async_on",
            "adapter publish_async (metrics on)",
            "throughput",
            False,
            a.publish_async_on,
        ),
        Variant(
            "adapter_publish_async_off_child",
            "adapter publish_async (metrics off, child process)",
            "throughput",
            False,
            a.publish_async_off_child,
        ),
        Variant(
            "adapter_publish_async_otlp",
            "adapter publish_async (metrics + OTLP)",
            "throughput",
            False,
            a.publish_async_otlp,
        ),
        Variant(
            "raw_publish_async_hdrs",
            "raw js.publish_async + adapter headers",
            "throughput",
            False,
            raw_variants.publish_async_headers,
        ),
        Variant("raw_fetch_ack", "raw fetch(batch)+ack", "throughput", True, raw_variants.fetch_ack),
        Variant("adapter_consume_off", "adapter consume (metrics off)", "throughput", True, a.consume_off),
        Variant("adapter_consume_on", "adapter consume (metrics on)", "throughput", True, a.consume_on),
        Variant(
            "adapter_consume_off_child",
            "adapter consume (metrics off, child process)",
            "throughput",
            True,
            a.consume_off_child,
        ),
        Variant(
            "adapter_consume_otlp", "adapter consume (metrics + OTLP)", "throughput", True, a.consume_otlp
        ),
        Variant(
            "faststream_consume",
            "FastStream pull consume",
            "throughput",
            True,
            faststream_variant.consume,
            share=0.25,
        ),
    ]


# (variant, baseline, target or None for information only)
COMPARISONS: list[tuple[str, str, Target | None]] = [
    ("adapter_publish_off", "raw_publish", at_most(1.10)),
    ("adapter_publish_on", "raw_publish", None),
    ("adapter_publish_async_off", "raw_publish_async", at_least(0.90)),
    ("adapter_publish_async_on", "raw_publish_async", None),
    ("adapter_publish_async_off_child", "raw_publish_async", None),
    ("adapter_publish_async_otlp", "raw_publish_async", None),
    ("raw_publish_async_hdrs", "raw_publish_async", None),
    ("adapter_consume_off", "raw_fetch_ack", at_least(0.90)),
    ("adapter_consume_on", "raw_fetch_ack", None),
    ("adapter_consume_off_child", "raw_fetch_ack", None),
    ("adapter_consume_otlp", "raw_fetch_ack", None),
    ("faststream_consume", "raw_fetch_ack", None),
]
# metrics on vs off: throughput may drop at most 5 %; the latency row is information only.
# OTLP runs in a child process (process-wide provider), so its baseline is metrics off in an
# identically prepared child (benchmarks.otlp_child).
METRICS_COST: list[tuple[str, str, Target | None]] = [
    ("adapter_publish_async_on", "adapter_publish_async_off", at_least(0.95)),
    ("adapter_consume_on", "adapter_consume_off", at_least(0.95)),
    ("adapter_publish_async_otlp", "adapter_publish_async_off_child", at_least(0.95)),
    ("adapter_consume_otlp", "adapter_consume_off_child", at_least(0.95)),
    ("adapter_publish_on", "adapter_publish_off", None),
]
REFERENCE = {"faststream_consume"}
FINDINGS = Path(__file__).with_name("adapter_findings.md")


@dataclass
class Results:
    """Per-variant samples, one entry per repeat (NaN / empty list when a run failed)."""

    samples: dict[str, list[Sample]]
    errors: dict[str, list[str]]
    # CPU seconds per message of this process and of nats-server, per successful repeat
    client_cpu: dict[str, list[float]] = field(default_factory=dict)
    server_cpu: dict[str, list[float]] = field(default_factory=dict)

    def headline(self, key: str) -> list[float]:
        """Per-repeat figure: msg/s for throughput, p50 seconds for latency."""
        out = []
        for s in self.samples.get(key, []):
            if isinstance(s, list):
                out.append(percentile(s, 50) if s else math.nan)
            else:
                out.append(float(s))
        return out


def _ok(values: Sequence[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


def _result_text(v: Variant, res: Results) -> str:
    raw = res.samples.get(v.key, [])
    if v.kind == "latency":
        p50 = _ok([percentile(s, 50) for s in raw if isinstance(s, list) and s])
        p99 = _ok([percentile(s, 99) for s in raw if isinstance(s, list) and s])
        if not p50:
            return "failed"
        return f"p50 {format_ms(median(p50))} / p99 {format_ms(median(p99))}"
    good = _ok(res.headline(v.key))
    return format_rate(median(good)) if good else "failed"


def _paired(res: Results, key: str, base: str) -> tuple[float, tuple[float, float] | None]:
    """Median per-repeat ratio and its range, over the repeats where both runs succeeded."""
    pairs = [(a, b) for a, b in zip(res.headline(key), res.headline(base), strict=False) if a == a and b == b]
    if not pairs:
        return math.nan, None
    values, baselines = [a for a, _ in pairs], [b for _, b in pairs]
    spread = ratio_range(values, baselines) if len(pairs) > 1 else None
    return paired_ratio(values, baselines), spread


def _cost_label(label: str) -> str:
    """'adapter consume (metrics + OTLP)' -> 'adapter consume, metrics + OTLP / off'."""
    name, _, mode = label.partition(" (")
    return f"{name}, {mode.rstrip(')') or 'on'} / off"


def build_rows(variants: Sequence[Variant], res: Results) -> list[Row]:
    by_key = {v.key: v for v in variants}
    rows: list[Row] = []
    compared = {k: (b, t) for k, b, t in COMPARISONS}
    for v in variants:
        base, target = compared.get(v.key, (None, None))
        if base is None or base not in by_key:
            rows.append(Row(v.label, _result_text(v, res)))
            continue
        rows.append(
            Row(
                v.label,
                _result_text(v, res),
                baseline=by_key[base].label + (" (p50)" if v.kind == "latency" else ""),
                ratio=_paired(res, v.key, base)[0],
                target=target,
                reference=v.key in REFERENCE,
                spread=_paired(res, v.key, base)[1],
            )
        )
    for key, base, target in METRICS_COST:
        if key in by_key and base in by_key:
            what = "p50 latency" if by_key[key].kind == "latency" else "throughput"
            rows.append(
                Row(
                    f"metrics cost: {_cost_label(by_key[key].label)}",
                    what,
                    baseline=by_key[base].label,
                    ratio=_paired(res, key, base)[0],
                    target=target,
                    spread=_paired(res, key, base)[1],
                )
            )
    return rows


def process_cpu_seconds(pid: int | None) -> float:
    """utime+stime of another process from /proc (NaN when unknown, e.g. an external server)."""
    if pid is None:
        return math.nan
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def messages_of(v: Variant, cfg: BenchConfig) -> int:
    return cfg.latency_messages + raw_variants.LATENCY_WARMUP if v.kind == "latency" else cfg.messages


def cpu_rows(variants: Sequence[Variant], res: Results) -> list[Row]:
    """Client and server CPU per message, with the client ratio vs the same baseline (information).

    On a shared machine CPU time per message is much steadier than wall-clock throughput, and a
    CPU-bound Python client's throughput ratio is roughly the inverse of its CPU ratio.
    """
    by_key = {v.key: v for v in variants}
    compared = {k: b for k, b, _ in COMPARISONS}
    rows = []
    for v in variants:
        client, server = _ok(res.client_cpu.get(v.key, [])), _ok(res.server_cpu.get(v.key, []))
        if not client:
            continue
        text = f"client {median(client) * 1e6:.1f} us/msg"
        if server:
            text += f", server {median(server) * 1e6:.1f} us/msg"
        base = compared.get(v.key)
        if base is None or base not in by_key or not _ok(res.client_cpu.get(base, [])):
            rows.append(Row(v.label, text))
            continue
        rows.append(
            Row(
                v.label,
                text,
                baseline=by_key[base].label + " (client CPU)",
                ratio=_cpu_ratio(res, v.key, base),
            )
        )
    for key, base, _target in METRICS_COST:
        if key in by_key and base in by_key and _ok(res.client_cpu.get(key, [])):
            rows.append(
                Row(
                    f"metrics cost: {_cost_label(by_key[key].label)}",
                    "client CPU per message",
                    baseline=by_key[base].label,
                    ratio=_cpu_ratio(res, key, base),
                )
            )
    return rows


def _cpu_ratio(res: Results, key: str, base: str) -> float:
    """Median per-repeat ratio of client CPU per message (NaN when no repeat has both)."""
    pairs = [
        (a, b)
        for a, b in zip(res.client_cpu.get(key, []), res.client_cpu.get(base, []), strict=False)
        if a == a and b == b and b > 0
    ]
    return paired_ratio([a for a, _ in pairs], [b for _, b in pairs]) if pairs else math.nan


async def _run_one(
    v: Variant, cfg: BenchConfig, mgmt: nats.NATS, server_pid: int | None
) -> tuple[Sample, float, float]:
    """One measured run; also returns client and server CPU seconds per message spent in it."""
    if v.share != 1.0:
        cfg = dataclasses.replace(cfg, messages=max(1, int(cfg.messages * v.share)))
    js = mgmt.jetstream()
    await fresh_stream(js)
    if v.needs_backlog:
        await prefill(js, cfg.payload, cfg.messages, cfg.timeout)
    gc.collect()
    cpu0, srv0 = time.process_time(), process_cpu_seconds(server_pid)
    sample = await asyncio.wait_for(v.run(cfg), cfg.timeout * 4)
    n = messages_of(v, cfg)
    client = time.process_time() - cpu0
    server = process_cpu_seconds(server_pid) - srv0
    if isinstance(sample, Measured):  # ran in a child process: its CPU, not ours
        return sample.msgs_per_s, sample.client_cpu_s / n, server / n
    return sample, client / n, server / n


async def run_bench(
    cfg: BenchConfig,
    variants: Sequence[Variant],
    repeat: int,
    log: Callable[[str], None],
    server_pid: int | None = None,
) -> Results:
    res = Results(
        {v.key: [] for v in variants},
        {v.key: [] for v in variants},
        {v.key: [] for v in variants},
        {v.key: [] for v in variants},
    )
    mgmt = await nats.connect(cfg.url)
    try:
        for r in range(repeat):
            order = list(variants) if r % 2 == 0 else list(reversed(variants))
            for v in order:
                t0 = time.perf_counter()
                try:
                    sample, client_cpu, server_cpu = await _run_one(v, cfg, mgmt, server_pid)
                except Exception as exc:
                    res.samples[v.key].append([] if v.kind == "latency" else math.nan)
                    msg = f"{type(exc).__name__}: {exc}"
                    res.errors[v.key].append(msg)
                    log(f"  repeat {r + 1}: {v.key}: FAILED {msg}")
                    if os.environ.get("BENCH_TRACEBACK"):
                        traceback.print_exc()
                    continue
                res.samples[v.key].append(sample)
                res.client_cpu[v.key].append(client_cpu)
                res.server_cpu[v.key].append(server_cpu)
                shown = (
                    f"p50 {format_ms(percentile(sample, 50))}"
                    if isinstance(sample, list)
                    else format_rate(sample)
                )
                log(
                    f"  repeat {r + 1}: {v.key:<28} {shown:>18}  cpu {client_cpu * 1e6:5.1f} us/msg "
                    f"(server {server_cpu * 1e6:5.1f})  ({time.perf_counter() - t0:.1f}s)"
                )
    finally:
        await mgmt.close()
    return res


def machine_info(nats_server_binary: str | None, load_at_start: tuple[float, float, float]) -> dict[str, str]:
    cpu = cpu_model()
    server = "external (not started by the bench)"
    if nats_server_binary:
        server = nats_server_version(nats_server_binary)
    return {
        "date (UTC)": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "cpus (nproc)": str(os.cpu_count()),
        "cpu model": cpu,
        "load average (1/5/15 min) at start": " / ".join(f"{x:.2f}" for x in load_at_start),
        "load average (1/5/15 min) at end": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "nats-server": server,
        "python": platform.python_version(),
        "nats-py": importlib.metadata.version("nats-py"),
        "faststream": importlib.metadata.version("faststream"),
        "os": platform.platform(),
    }


METHOD = [
    "One nats-server (JetStream, file storage, temp dir) started by the bench; nothing else needed.",
    "Every variant gets a fresh stream `BENCH` (subjects `bench.>`); consume variants find a "
    "prefilled backlog of N messages (prefill not timed) and use a new durable pull consumer.",
    "Backlog messages carry the adapter publisher's headers (unique `Nats-Msg-Id`, "
    "`Seam-Content-Type: bytes`, `Seam-Published-At`), as adapter-to-adapter traffic does, so raw, "
    "adapter and FastStream consumers parse identical messages.",
    "`raw js.publish_async + adapter headers` (information only) is the raw baseline with those "
    "headers: it splits header/de-duplication cost (server and nats-py) from the adapter's own code.",
    "Each repeat runs every variant once; the order alternates forward/backward between repeats "
    "(ABC..CBA) so drift on the shared machine hits baselines and adapter alike.",
    "Figures are medians over repeats; ratios are medians of the per-repeat ratios variant/baseline, "
    "with the smallest and largest per-repeat ratio in brackets; the verdict uses the median.",
    "Sync publish: per-message latency of an awaited publish (server ack included) over L messages "
    "after 100 warm-up messages; p50/p99 per repeat.",
    "publish_async: N messages with at most W acks outstanding, timed until every ack is in "
    "(raw: `publish_async_max_pending=W`; adapter: `max_outstanding=W`).",
    "Consume: timed from start until the handler saw N messages AND the server's ack floor covers all "
    "N (consumer info), so delayed or batched acks are paid for inside the window.",
    "Metrics off: `metrics_port=0`, `enable_otel=False` (the runtime then uses its no-op metrics); "
    "metrics on: a Prometheus `metrics_port` (OTLP off), so the runtime records every metric on "
    "the hot path.",
    "Metrics + OTLP: as metrics on plus `enable_otel=True`, run in a child process because the "
    "runtime's OTel provider is process-wide; the OTLP endpoint is a closed loopback port and the "
    "export interval exceeds the run, so the figure is the recording cost on the hot path. Its CPU "
    "column is the child's CPU. Its metrics-cost baseline is `metrics off, child process`: a child "
    "prepared the same way (OTel imported, provider built) whose timed client has metrics off.",
    "FastStream is a third-party reference row (default ack policy: ack after the handler; N/4 "
    "messages to keep the run short); no target.",
]


async def profile_variant(cfg: BenchConfig, v: Variant) -> str:
    """Run one variant once under pyinstrument; returns the text profile."""
    from pyinstrument import Profiler

    mgmt = await nats.connect(cfg.url)
    try:
        js = mgmt.jetstream()
        await fresh_stream(js)
        if v.needs_backlog:
            await prefill(js, cfg.payload, cfg.messages, cfg.timeout)
    finally:
        await mgmt.close()
    profiler = Profiler(interval=0.0005, async_mode="enabled")
    profiler.start()
    try:
        await asyncio.wait_for(v.run(cfg), cfg.timeout * 4)
    finally:
        profiler.stop()
    return str(profiler.output_text(unicode=False, color=False, show_all=False))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.adapter_bench", description=__doc__.split("\n")[0])
    p.add_argument("--messages", type=int, default=20_000, help="messages per throughput run (N)")
    p.add_argument("--latency-messages", type=int, default=3_000, help="messages per latency run (L)")
    p.add_argument("--repeat", type=int, default=9, help="repeats; figures are medians (R)")
    p.add_argument("--payload-size", type=int, default=1024, help="payload bytes")
    p.add_argument("--batch-size", type=int, default=500, help="pull batch size for every consumer")
    p.add_argument("--max-ack-pending", type=int, default=5_000, help="max_ack_pending for every consumer")
    p.add_argument("--window", type=int, default=4_000, help="outstanding publish_async acks (W)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before one run counts as stuck")
    p.add_argument("--only", default="", help="comma-separated variant keys (debugging)")
    p.add_argument("--nats-url", default="", help="use this server instead of starting one")
    p.add_argument("--profile", default="", help="run this one variant once under pyinstrument and exit")
    p.add_argument("--out", type=Path, default=None, help="write the Markdown report here")
    p.add_argument(
        "--findings",
        type=Path,
        default=FINDINGS if FINDINGS.exists() else None,
        help="Markdown with profiling findings, included in --out",
    )
    p.add_argument("--json", type=Path, default=None, help="write raw samples as JSON here")
    args = p.parse_args(argv)
    for name in ("messages", "latency_messages", "repeat", "payload_size", "batch_size", "max_ack_pending"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be > 0, got {getattr(args, name)}")
    if args.window <= 0 or args.timeout <= 0:
        p.error("--window and --timeout must be > 0")
    return args


def select(variants: Sequence[Variant], only: str) -> list[Variant]:
    if not only:
        return list(variants)
    wanted = [k.strip() for k in only.split(",") if k.strip()]
    known = {v.key for v in variants}
    unknown = [k for k in wanted if k not in known]
    if unknown:
        raise SystemExit(
            f"--only: unknown variant(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return [v for v in variants if v.key in wanted]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    variants = select(_variants(), args.only)
    freeze_import_time_objects()

    def log(line: str) -> None:
        print(line, flush=True)

    server = None
    binary: str | None = None
    url = args.nats_url
    if not url:
        from seam_harness.nats import NatsProcess

        server = NatsProcess(name="bench").start()
        url, binary = server.url, server.binary
    cfg = BenchConfig(
        url=url,
        messages=args.messages,
        latency_messages=args.latency_messages,
        payload=os.urandom(args.payload_size),
        batch_size=args.batch_size,
        max_ack_pending=args.max_ack_pending,
        window=args.window,
        timeout=args.timeout,
    )
    if args.profile:
        (target,) = select(variants, args.profile)
        out = Path("reports/tmp") / f"profile_{target.key}.txt"
        try:
            text = asyncio.run(profile_variant(cfg, target))
        finally:
            if server is not None:
                server.close()
        print(text)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        log(f"wrote {out}")
        return 0
    log(f"adapter bench: {len(variants)} variants x {args.repeat} repeats on {url}")
    started = time.perf_counter()
    load_at_start = os.getloadavg()
    try:
        res = asyncio.run(run_bench(cfg, variants, args.repeat, log, server.pid if server else None))
    finally:
        if server is not None:
            server.close()
    wall = time.perf_counter() - started

    rows = build_rows(variants, res)
    cpu = cpu_rows(variants, res)
    print()
    print(text_table(rows))
    print()
    print("CPU per message (median; lower is better; ratio = client CPU vs baseline, information only)")
    print(text_table(cpu))
    print()
    print(summary(rows))
    failures = {k: v for k, v in res.errors.items() if v}
    for key, errs in failures.items():
        print(f"errors in {key}: {len(errs)} run(s) failed, first: {errs[0]}")

    parameters = {
        "payload": f"{args.payload_size} B (random bytes)",
        "messages per throughput run (N)": str(args.messages),
        "messages per latency run (L)": str(args.latency_messages),
        "repeats (R)": str(args.repeat),
        "pull batch size": str(args.batch_size),
        "max_ack_pending": str(args.max_ack_pending),
        "publish_async window (W)": str(args.window),
        "bench wall time": f"{wall:.0f} s",
    }
    if args.out:
        notes = [
            f"{k}: {len(v)} of {args.repeat} runs failed, first error: {v[0]}" for k, v in failures.items()
        ]
        text = markdown_report(
            "Adapter performance report",
            rows,
            machine_info(binary, load_at_start),
            parameters,
            [*METHOD, "Command: `uv run python -m benchmarks.adapter_bench " + " ".join(sys.argv[1:]) + "`"],
            notes,
            {
                "CPU per message": "Median CPU time per message of the bench process (client) and of "
                "nats-server over each timed run; steadier than wall-clock figures on a shared "
                "machine. Ratio: client CPU vs the same baseline (lower is better).\n\n"
                + markdown_table(cpu),
                **({"Profiling findings": args.findings.read_text().strip()} if args.findings else {}),
            },
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        log(f"wrote {args.out}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "parameters": parameters,
            "machine": machine_info(binary, load_at_start),
            "samples": {
                k: [
                    {"p50_s": percentile(s, 50), "p99_s": percentile(s, 99), "n": len(s)}
                    if isinstance(s, list) and s
                    else s
                    for s in v
                ]
                for k, v in res.samples.items()
            },
            "errors": res.errors,
            "client_cpu_s_per_msg": res.client_cpu,
            "server_cpu_s_per_msg": res.server_cpu,
            "rows": [
                dict(
                    zip(
                        ("variant", "result", "baseline", "ratio", "target", "verdict"),
                        r.cells(),
                        strict=True,
                    )
                )
                for r in rows
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str))
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
