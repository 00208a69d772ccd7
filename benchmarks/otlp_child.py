"""Adapter variants with ENABLE_OTEL in a child process (the OTel provider is process-wide).

The parent prepares the stream (and the backlog) as for every variant, then runs
``python -m benchmarks.otlp_child <kind> <config json>``; the child times the same code as the
in-process variants and prints one JSON line with msg/s and its CPU seconds.
The ``*_off`` kinds are their baselines: a child set up identically (OTel and the OTLP exporter
imported, the provider built) whose timed client has metrics off, so "metrics + OTLP / off"
compares two fresh interpreters and not a child with the long-running parent.
No collector listens: the OTLP endpoint is a closed loopback port and the export interval is
longer than the run, so the figure is the cost of recording, which is what the hot path pays.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time

from benchmarks.bench_stream import BenchConfig, Measured
from seam_harness.process import free_port

KINDS = ("publish_async", "consume", "publish_async_off", "consume_off")


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
    env["OTEL_METRIC_EXPORT_INTERVAL"] = "600000"  # ms: no export during the run
    return env


def encode_config(cfg: BenchConfig) -> str:
    d = dataclasses.asdict(cfg)
    d["payload"] = cfg.payload.hex()
    return json.dumps(d)


def decode_config(text: str) -> BenchConfig:
    d = json.loads(text)
    d["payload"] = bytes.fromhex(d["payload"])
    return BenchConfig(**d)


async def run_in_child(kind: str, cfg: BenchConfig) -> Measured:
    """Run one OTLP variant in a fresh interpreter; raises with the child's stderr if it fails."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.otlp_child",
        kind,
        encode_config(cfg),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(),
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"otlp child {kind} exited {proc.returncode}: {err.decode()[-800:]}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return Measured(float(result["msgs_per_s"]), float(result["cpu_s"]))


async def _child(kind: str, cfg: BenchConfig) -> dict[str, float]:
    from benchmarks import adapter_variants

    adapter_variants.warm_up(otlp=True)
    await _warm_io(cfg)
    from benchmarks.adapter_bench import freeze_import_time_objects

    freeze_import_time_objects()  # as the parent does: GC passes skip import-time objects
    on = not kind.endswith("_off")
    cpu0 = time.process_time()
    if kind.startswith("publish_async"):
        rate = await adapter_variants._publish_async(cfg, metrics=on, otlp=on)
    else:
        rate = await adapter_variants._consume(cfg, metrics=on, otlp=on)
    return {"msgs_per_s": rate, "cpu_s": time.process_time() - cpu0}


async def _warm_io(cfg: BenchConfig) -> None:
    """Connect and close a client and a server once, untimed.

    The in-process variants run after earlier repeats have already paid the first-use costs
    (lazy imports in nats-py and aiohttp, the first metrics HTTP site); a fresh interpreter would
    otherwise count them against OTLP (measured: ~4 us/msg of a 20k-message run).
    """
    from adapter_runtime import NatsClient, NatsServer
    from benchmarks import adapter_variants

    opts = adapter_variants._options(cfg, metrics=True, otlp=True)
    async with NatsClient(**opts), NatsServer(**opts):
        pass


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in KINDS:
        print(f"usage: python -m benchmarks.otlp_child {{{'|'.join(KINDS)}}} <config json>", file=sys.stderr)
        return 2
    print(json.dumps(asyncio.run(_child(argv[0], decode_config(argv[1])))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
