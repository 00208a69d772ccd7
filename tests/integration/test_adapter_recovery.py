"""Recovery: broker kill -9 and restart mid-stream, consumer deleted out of band."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import pytest
from nats.js.api import StreamInfo

from adapter_runtime import NatsClient, NatsServer
from seam_harness.nats import NatsProcess
from tests.integration.adapter_options import adapter_options
from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration


# Reconnect quickly, and keep retrying publishes through an outage of several seconds.
OUTAGE_TOLERANT = {
    "reconnect_wait": 0.2,
    "reconnect_jitter": 0.1,
    "publish_ack_timeout": 1.0,
    "publish_retries": 60,
}


def opts(url: str, **kw: Any) -> dict[str, Any]:
    return adapter_options(url, **{**OUTAGE_TOLERANT, **kw})


async def _publish_through(
    client: NatsClient,
    server: NatsServer,
    subject: str,
    n: int,
    disrupt: Callable[[], Awaitable[object]],
    wait_seconds: float = 120.0,
) -> None:
    """Publish `n` numbered messages at a steady pace and `disrupt` once a quarter has arrived.

    The disruption must hit while the publisher is still publishing; afterwards every publish is
    acked and every message is received, none lost.
    """
    received: set[int] = set()

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        received.add(data["i"])

    await client.connect()
    await server.connect()
    await server.subscribe(subject, handler)

    async def publisher() -> list[Any]:
        futs = []
        for i in range(n):
            futs.append(await client.publish_async(subject, {"i": i}, msg_id=f"{subject}-{i}"))
            if i % 50 == 0:
                await asyncio.sleep(0.02)  # a steady stream, not one burst
        return [await f for f in futs]

    pub = asyncio.create_task(publisher())
    await wait_for(lambda: len(received) >= n // 4, 60, "a quarter of the messages")
    assert not pub.done()
    await disrupt()
    acks = await asyncio.wait_for(pub, wait_seconds)
    assert len(acks) == n
    await wait_for(lambda: len(received) == n, wait_seconds, f"all {n} messages (have {len(received)})")
    assert received == set(range(n))


async def _stream_info(url: str) -> StreamInfo:
    nc = await nats.connect(url)
    try:
        return await nc.jetstream().stream_info("SEAM")
    finally:
        await nc.close()


async def test_broker_kill_9_mid_stream_loses_nothing(nats_server: NatsProcess) -> None:
    n = 3000
    client = NatsClient(**opts(nats_server.url))
    server = NatsServer(**opts(nats_server.url, max_ack_pending=200, batch_size=50))

    async def kill_and_restart() -> None:
        nats_server.kill()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(nats_server.start)

    await _publish_through(client, server, "events.kill", n, kill_and_restart)
    assert client.stats["reconnects"] >= 1 and server.stats["reconnects"] >= 1
    await client.close()
    await server.stop()
    info = await _stream_info(nats_server.url)
    assert info.state.messages == n  # retried publishes were de-duplicated


async def test_consumer_deleted_out_of_band_is_recreated(nats_url: str) -> None:
    received: list[int] = []

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        received.append(data["i"])

    async with NatsClient(**opts(nats_url)) as client, NatsServer(**opts(nats_url)) as server:
        await server.subscribe("events.del", handler, consumer_name="worker")
        for i in range(10):
            await client.publish("events.del", {"i": i})
        await wait_for(lambda: len(set(received)) == 10, 30, "first batch")
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            assert await js.delete_consumer("SEAM", "worker")
            for i in range(10, 20):
                await client.publish("events.del", {"i": i})
            await wait_for(lambda: set(range(20)) <= set(received), 60, "messages after the delete")
            info = await js.consumer_info("SEAM", "worker")
            assert info.config.durable_name == "worker"
        finally:
            await nc.close()
        assert server.stats["rebinds"] >= 1
        assert server.ready()


async def test_stream_deleted_is_recreated_with_create_stream(nats_url: str) -> None:
    received: list[int] = []

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        received.append(data["i"])

    async with NatsClient(**opts(nats_url)) as client, NatsServer(**opts(nats_url)) as server:
        await server.subscribe("events.stream", handler)
        await client.publish("events.stream", {"i": 0})
        await wait_for(lambda: received == [0], 30, "first message")
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().delete_stream("SEAM")
        finally:
            await nc.close()
        await client.publish("events.stream", {"i": 1})  # the publisher re-creates the stream
        await wait_for(lambda: 1 in received, 60, "message after the stream was re-created")


async def test_network_cut_mid_stream_loses_nothing(nats_server: NatsProcess, toxiproxy: Any) -> None:
    proxy = toxiproxy.proxy("nats", f"127.0.0.1:{nats_server.port}")
    n = 1500
    client = NatsClient(**opts(proxy.url))
    server = NatsServer(**opts(proxy.url, max_ack_pending=200, batch_size=50))

    async def cut_for_two_seconds() -> None:
        await asyncio.to_thread(proxy.cut)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(proxy.restore)

    await _publish_through(client, server, "events.cut", n, cut_for_two_seconds)
    assert client.stats["reconnects"] >= 1 and server.stats["reconnects"] >= 1
    await client.close()
    await server.stop()
    info = await _stream_info(nats_server.url)
    assert info.state.messages == n


async def test_cluster_node_loss_mid_stream_loses_nothing(nats_cluster: Any) -> None:
    n = 1500
    o = opts(nats_cluster.urls[0], stream_replicas=3)
    o["server_urls"] = nats_cluster.urls
    client = NatsClient(**o)
    server = NatsServer(**o, max_ack_pending=200, batch_size=50)

    async def kill_node() -> None:
        await asyncio.to_thread(nats_cluster.stop_node, 0, kill=True)

    await _publish_through(client, server, "events.cluster", n, kill_node, wait_seconds=180)
    await asyncio.to_thread(nats_cluster.start_node, 0)
    await client.close()
    await server.stop()
    info = await _stream_info(nats_cluster.urls[1])
    assert info.state.messages == n and info.config.num_replicas == 3
