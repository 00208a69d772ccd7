"""`python -m benchmarks.resilience`: run the scenario matrix, write the Markdown report.

Exit 0 when assertions are missed (it is a report); 2 on a bad matrix; 1 on a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import sys
from importlib.metadata import version
from pathlib import Path

import psutil

from benchmarks.machine import cpu_model, nats_server_version
from benchmarks.resilience.matrix import DEFAULT_MATRIX, Matrix, MatrixError, Scenario, load_matrix
from benchmarks.resilience.report import render
from benchmarks.resilience.result import ScenarioResult
from benchmarks.resilience.scenarios import run_scenario
from benchmarks.resilience.verdict import count_met
from seam_harness.process import find_binary


def machine_info() -> dict[str, str]:
    cpu = cpu_model(platform.processor() or platform.machine())
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "CPU": f"{cpu}, {psutil.cpu_count()} logical cores",
        "Memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "nats-server": nats_server_version(find_binary("nats-server")),
        "nats-py": version("nats-py"),
        "Load average at start (1/5/15 min)": load,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.resilience", description=__doc__)
    p.add_argument("--matrix", type=Path, default=DEFAULT_MATRIX, help="scenario matrix YAML")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every message_count (e.g. 0.1)")
    p.add_argument("--only", default="", help="comma-separated scenario names")
    p.add_argument("--out", type=Path, help="write the Markdown report here (default: stdout)")
    p.add_argument("--json", type=Path, help="also write the raw results as JSON")
    args = p.parse_args(argv)
    if not args.scale > 0:
        p.error("--scale must be > 0")
    return args


async def run(matrix: Matrix, scenarios: list[Scenario], scale: float) -> list[ScenarioResult]:
    results = []
    for s in scenarios:
        print(f"[resilience] {s.name} ...", file=sys.stderr, flush=True)
        r = await run_scenario(matrix, s.scaled(scale))
        met, total = count_met(r.rows)
        misses = ", ".join(x.assertion for x in r.rows if not x.met)
        print(
            f"[resilience] {s.name}: {met}/{total} in {r.wall_s:.1f} s {misses}", file=sys.stderr, flush=True
        )
        results.append(r)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:  # a bad matrix fails before any server starts
        matrix = load_matrix(args.matrix)
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        scenarios = matrix.select(names) if names else matrix.scenarios
    except MatrixError as exc:
        print(exc, file=sys.stderr)
        return 2
    # the runtime logs every reconnect attempt at WARNING; the report counts them instead
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    meta = machine_info()
    results = asyncio.run(run(matrix, scenarios, args.scale))
    cmd = "uv run python -m benchmarks.resilience " + " ".join(sys.argv[1:] if argv is None else argv)
    meta = {
        "command": cmd.strip(),
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "scale": f"{args.scale:g}",
        **meta,
        "Load average at end (1/5/15 min)": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    text = render(results, meta)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([r.to_json() for r in results], indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
