"""Flow control: bounded handler concurrency, no unbounded buffering, in_progress for long handlers."""

from __future__ import annotations

import asyncio
from typing import Any

import nats
import pytest

from adapter_runtime import NatsClient, NatsServer
from tests.integration.adapter_options import adapter_options as opts

pytestmark = pytest.mark.integration


class ConcurrencyProbe:
    """A handler that takes `seconds` per message and records how many ran at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.running = 0
        self.peak = 0
        self.done: list[int] = []

    async def handle(self, subject: str, data: Any, reply_to: str | None = None) -> None:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(self.seconds)
        self.running -= 1
        self.done.append(data["i"])


async def test_max_inflight_bounds_handlers_and_delivered_messages(nats_url: str) -> None:
    n, inflight = 60, 5
    probe = ConcurrencyProbe(0.05)
    done = probe.done
    ack_pending_seen: list[int] = []

    async with NatsClient(**opts(nats_url)) as client:
        for i in range(n):
            await client.publish_async("flow.x", {"i": i})
        await client.flush()
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    server = NatsServer(**opts(nats_url, max_inflight=inflight, max_ack_pending=100, batch_size=inflight))
    await server.connect()
    try:
        await server.subscribe("flow.x", probe.handle, consumer_name="flow")
        while len(done) < n:
            info = await js.consumer_info("SEAM", "flow")
            ack_pending_seen.append(int(info.num_ack_pending))
            await asyncio.sleep(0.05)
    finally:
        await server.stop()
        await nc.close()
    assert sorted(done) == list(range(n))
    assert probe.peak == inflight  # saturated, never above the bound
    # pull requests only ask for free handler slots, so nothing piles up in the client; the server
    # may briefly count up to one more window while acks of finished handlers are still in transit
    assert max(ack_pending_seen) <= 2 * inflight
    assert max(ack_pending_seen) < 100  # far below what max_ack_pending alone would allow


async def test_consumer_max_ack_pending_caps_concurrency(nats_url: str) -> None:
    # a consumer created elsewhere with a smaller max_ack_pending is honoured (no stalled fetches)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="SEAM", subjects=["cap.x"])
        await js.add_consumer("SEAM", durable_name="cap", ack_policy="explicit", max_ack_pending=3)
    finally:
        await nc.close()
    probe = ConcurrencyProbe(0.02)
    done = probe.done

    async with NatsClient(**opts(nats_url)) as client, NatsServer(**opts(nats_url)) as server:
        await server.subscribe("cap.x", probe.handle, consumer_name="cap")
        for i in range(30):
            await client.publish_async("cap.x", {"i": i})
        await client.flush()
        for _ in range(200):
            if len(done) == 30:
                break
            await asyncio.sleep(0.05)
    assert sorted(done) == list(range(30)) and probe.peak == 3


async def test_long_handler_is_kept_alive_with_in_progress(nats_url: str) -> None:
    calls = 0

    async def long_handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(3.0)  # three times ack_wait

    async with NatsClient(**opts(nats_url)) as client, NatsServer(**opts(nats_url, ack_wait=1.0)) as server:
        await server.subscribe("long.x", long_handler, consumer_name="long")
        await client.publish("long.x", {"job": 1})
        for _ in range(200):
            if server.stats["acked"] == 1:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # a redelivery would show up here
        assert server.stats["acked"] == 1
        assert calls == 1 and server.stats["redelivered"] == 0
