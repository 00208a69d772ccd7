"""SIGTERM drain: a consumer process stops fetching, finishes in-flight work, loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from pathlib import Path
from typing import Any

import nats
import pytest

from adapter_runtime import NatsClient, NatsServer

pytestmark = pytest.mark.integration

WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from adapter_runtime import NatsServer

    out = open(sys.argv[1], "a", buffering=1)

    async def handler(subject, data, reply_to=None):
        await asyncio.sleep(0.3)
        out.write(f"{data['i']}\\n")

    async def main():
        server = NatsServer.from_env()
        await server.connect()
        await server.subscribe("work.items", handler, consumer_name="workers")
        print("READY", flush=True)
        await server.run()
        print("DRAINED", server.stats["acked"], server.stats["nak"], flush=True)

    asyncio.run(main())
    """
)


def _worker_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAM_NATS_")}
    env.update(
        {
            "SEAM_NATS_SERVER_URLS": url,
            "SEAM_NATS_MAX_INFLIGHT": "8",
            "SEAM_NATS_MAX_ACK_PENDING": "8",
            "SEAM_NATS_BATCH_SIZE": "4",
            "SEAM_NATS_FETCH_TIMEOUT": "1",
            "SEAM_NATS_DRAIN_GRACE_SECONDS": "10",
            "SEAM_NATS_METRICS_PORT": "0",
            "SEAM_NATS_HEALTH_PORT": "0",
        }
    )
    return env


async def test_sigterm_drain_loses_nothing(nats_url: str, tmp_path: Path) -> None:
    n = 200
    async with NatsClient(server_urls=[nats_url], metrics_port=0, health_port=0) as client:
        for i in range(n):
            await client.publish_async("work.items", {"i": i})
        await client.flush()

    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    done_file = tmp_path / "done.txt"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        str(done_file),
        env=_worker_env(nats_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(600):
            if done_file.exists() and len(done_file.read_text().split()) >= 20:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("worker did not make progress")
        proc.send_signal(signal.SIGTERM)
        out_b, err_b = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
    out, err = out_b.decode(), err_b.decode()
    assert proc.returncode == 0, err
    assert "READY" in out and "DRAINED" in out, (out, err)
    first = [int(x) for x in done_file.read_text().split()]
    assert 20 <= len(first) < n

    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().consumer_info("SEAM", "workers")
        assert info.num_ack_pending == 0  # nothing left in flight: acked or handed back
    finally:
        await nc.close()

    rest: list[int] = []

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        rest.append(data["i"])

    async with NatsServer(server_urls=[nats_url], metrics_port=0, health_port=0, fetch_timeout=1.0) as server:
        await server.subscribe("work.items", handler, consumer_name="workers")
        for _ in range(600):
            if len(first) + len(rest) >= n:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
    assert sorted(first + rest) == list(range(n))  # every message exactly once across both workers
