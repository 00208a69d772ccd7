"""How long ``NatsServer.stop()`` takes, idle and right after a burst (default settings).

Prints seconds per case (median of ``--repeat``); not a ratio target, the number the
``docs/adapter.md`` Shutdown section quotes. Starts its own nats-server.

    uv run python -m benchmarks.adapter_stop
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
from typing import Any

from adapter_runtime import NatsClient, NatsServer
from seam_harness.nats import NatsProcess


async def _stop_time(url: str, subject: str, burst: int) -> float:
    """Subscribe, optionally consume a burst of messages, then time stop()."""
    got = asyncio.Event()
    seen = 0

    async def handler(_subject: str, _data: Any, reply_to: str | None = None) -> None:
        nonlocal seen
        seen += 1
        if seen >= burst:
            got.set()

    opts = {"server_urls": [url], "metrics_port": 0, "health_port": 0}
    server = NatsServer(**opts)
    await server.connect()
    await server.subscribe(subject, handler)
    if burst:
        async with NatsClient(**opts) as client:
            for i in range(burst):
                await client.publish_async(subject, {"i": i})
            await client.flush()
        await asyncio.wait_for(got.wait(), 30)
    else:
        await asyncio.sleep(2.3)  # idle: outstanding requests somewhere in their lifetime
    start = time.perf_counter()
    await server.stop()
    return time.perf_counter() - start


async def _main(repeat: int) -> None:
    nats = NatsProcess()
    nats.start()
    try:
        async with NatsClient(server_urls=[nats.url], metrics_port=0, health_port=0) as client:
            await client.publish("stop.warmup", b"x")  # creates the stream
        for name, burst in (("idle subscription", 0), ("right after a 2,000 message burst", 2000)):
            times = [await _stop_time(nats.url, f"stop.{name[:4]}.{i}", burst) for i in range(repeat)]
            print(f"stop(), {name}: median {statistics.median(times):.2f} s (max {max(times):.2f} s)")
    finally:
        nats.stop()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.adapter_stop", description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    asyncio.run(_main(args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
