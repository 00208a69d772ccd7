"""Recovery: broker kill -9 and restart mid-stream, consumer deleted out of band."""

from __future__ import annotations

import asyncio
from typing import Any

import nats
import pytest

from adapter_runtime import NatsClient, NatsServer
from seam_harness.nats import NatsProcess
from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration


def opts(url: str, **kw: Any) -> dict[str, Any]:
    return {
        "server_urls": [url],
        "metrics_port": 0,
        "health_port": 0,
        "fetch_timeout": 1.0,
        "reconnect_wait": 0.2,
        "reconnect_jitter": 0.1,
        "publish_ack_timeout": 1.0,
        "publish_retries": 60,
        **kw,
    }


async def test_broker_kill_9_mid_stream_loses_nothing(nats_server: NatsProcess) -> None:
    n = 3000
    received: set[int] = set()

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        received.add(data["i"])

    client = NatsClient(**opts(nats_server.url))
    server = NatsServer(**opts(nats_server.url, max_ack_pending=200, batch_size=50))
    await client.connect()
    await server.connect()
    await server.subscribe("events.kill", handler)

    async def publisher() -> list[Any]:
        futs = []
        for i in range(n):
            futs.append(await client.publish_async("events.kill", {"i": i}, msg_id=f"ev-{i}"))
            if i % 50 == 0:
                await asyncio.sleep(0.02)  # a steady stream, not one burst
        return [await f for f in futs]

    pub = asyncio.create_task(publisher())
    await wait_for(lambda: len(received) >= n // 4, 60, "a quarter of the messages")
    assert not pub.done()  # the broker dies while the publisher is still publishing
    nats_server.kill()
    await asyncio.sleep(1.0)
    await asyncio.to_thread(nats_server.start)
    acks = await asyncio.wait_for(pub, 120)
    assert len(acks) == n
    await wait_for(lambda: len(received) == n, 120, f"all {n} messages (have {len(received)})")
    assert received == set(range(n))
    assert client.stats["reconnects"] >= 1 and server.stats["reconnects"] >= 1
    await client.close()
    await server.stop()
    nc = await nats.connect(nats_server.url)
    try:
        info = await nc.jetstream().stream_info("SEAM")
        assert info.state.messages == n  # retried publishes were de-duplicated
    finally:
        await nc.close()


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
    received: set[int] = set()

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        received.add(data["i"])

    client = NatsClient(**opts(proxy.url))
    server = NatsServer(**opts(proxy.url, max_ack_pending=200, batch_size=50))
    await client.connect()
    await server.connect()
    await server.subscribe("events.cut", handler)

    async def publisher() -> list[Any]:
        futs = []
        for i in range(n):
            futs.append(await client.publish_async("events.cut", {"i": i}, msg_id=f"cut-{i}"))
            if i % 50 == 0:
                await asyncio.sleep(0.02)
        return [await f for f in futs]

    pub = asyncio.create_task(publisher())
    await wait_for(lambda: len(received) >= n // 4, 60, "a quarter of the messages")
    assert not pub.done()
    await asyncio.to_thread(proxy.cut)
    await asyncio.sleep(2.0)
    await asyncio.to_thread(proxy.restore)
    acks = await asyncio.wait_for(pub, 120)
    assert len(acks) == n
    await wait_for(lambda: len(received) == n, 120, f"all {n} messages (have {len(received)})")
    assert received == set(range(n))
    assert client.stats["reconnects"] >= 1 and server.stats["reconnects"] >= 1
    await client.close()
    await server.stop()
    nc = await nats.connect(nats_server.url)
    try:
        info = await nc.jetstream().stream_info("SEAM")
        assert info.state.messages == n
    finally:
        await nc.close()


async def test_cluster_node_loss_mid_stream_loses_nothing(nats_cluster: Any) -> None:
    n = 1500
    received: set[int] = set()

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        received.add(data["i"])

    o = opts(nats_cluster.urls[0], stream_replicas=3)
    o["server_urls"] = nats_cluster.urls
    client = NatsClient(**o)
    server = NatsServer(**o, max_ack_pending=200, batch_size=50)
    await client.connect()
    await server.connect()
    await server.subscribe("events.cluster", handler)

    async def publisher() -> list[Any]:
        futs = []
        for i in range(n):
            futs.append(await client.publish_async("events.cluster", {"i": i}, msg_id=f"cl-{i}"))
            if i % 50 == 0:
                await asyncio.sleep(0.02)
        return [await f for f in futs]

    pub = asyncio.create_task(publisher())
    await wait_for(lambda: len(received) >= n // 4, 60, "a quarter of the messages")
    assert not pub.done()
    await asyncio.to_thread(nats_cluster.stop_node, 0, kill=True)
    acks = await asyncio.wait_for(pub, 180)
    assert len(acks) == n
    await wait_for(lambda: len(received) == n, 180, f"all {n} messages (have {len(received)})")
    assert received == set(range(n))
    await asyncio.to_thread(nats_cluster.start_node, 0)
    await client.close()
    await server.stop()
    nc = await nats.connect(nats_cluster.urls[1])
    try:
        info = await nc.jetstream().stream_info("SEAM")
        assert info.state.messages == n and info.config.num_replicas == 3
    finally:
        await nc.close()
