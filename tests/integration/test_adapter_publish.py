"""Publishing: bounded pipelining, de-duplication, retries with the same id, bounded failures."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import nats
import psutil
import pytest

from adapter_runtime import NatsClient
from adapter_runtime.client import PublishError, PublishTimeoutError
from seam_harness.nats import NatsProcess

pytestmark = pytest.mark.integration


def opts(url: str, **kw: Any) -> dict[str, Any]:
    return {"server_urls": [url], "metrics_port": 0, "health_port": 0, **kw}


async def stream_msgs(url: str, stream: str = "SEAM") -> int:
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().stream_info(stream)
        return int(info.state.messages)
    finally:
        await nc.close()


async def test_publish_async_100k_is_bounded(nats_url: str) -> None:
    n, bound = 100_000, 2_000
    proc = psutil.Process(os.getpid())
    async with NatsClient(**opts(nats_url, max_outstanding=bound)) as client:
        await client.publish("load.x", b"warm-up")
        rss_before = proc.memory_info().rss
        futures: list[asyncio.Future[Any]] = []
        peak = 0
        for i in range(n):
            fut = await client.publish_async("load.x", b"p" * 64)
            peak = max(peak, client.outstanding)
            if i % 5000 == 0:
                # keep only a window of futures so the test itself does not hold 100k of them
                done = [f for f in futures if f.done()]
                assert all(f.exception() is None for f in done)
                futures = [f for f in futures if not f.done()]
            futures.append(fut)
        await client.flush()
        rss_after = proc.memory_info().rss
        assert client.outstanding == 0
        assert peak <= bound and client.max_outstanding_seen <= bound
        assert client.max_outstanding_seen > bound // 2  # the bound was actually reached (pipelined)
        assert all(f.result().seq > 0 for f in futures)
        assert client.stats["errors"] == 0
    assert await stream_msgs(nats_url) == n + 1
    assert rss_after - rss_before < 150 * 1024 * 1024, (rss_before, rss_after)


async def test_repeated_msg_id_is_stored_once_and_counted(nats_url: str) -> None:
    async with NatsClient(**opts(nats_url)) as client:
        first = await client.publish("orders.created", {"order": 7}, msg_id="order-7")
        again = [await client.publish("orders.created", {"order": 7}, msg_id="order-7") for _ in range(3)]
        other = await client.publish("orders.created", {"order": 8}, msg_id="order-8")
        assert not first.duplicate and all(a.duplicate and a.seq == first.seq for a in again)
        assert not other.duplicate and other.seq == first.seq + 1
        assert client.stats["duplicates"] == 3
    assert await stream_msgs(nats_url) == 2


async def test_headers_arrive_as_sent_and_bad_headers_fail_before_sending(nats_url: str) -> None:
    async with NatsClient(**opts(nats_url)) as client:
        ack = await client.publish("hdr.x", b"raw", msg_id="hdr-1", headers={"X-Trace": " t-1 "})
        with pytest.raises(PublishError, match=r"X-Trace.*must not contain CR or LF"):
            await client.publish("hdr.x", b"raw", headers={"X-Trace": "a\r\nNats-Msg-Id: forged"})
        with pytest.raises(PublishError, match="header name 'X Trace' is invalid"):
            await client.publish("hdr.x", b"raw", headers={"X Trace": "v"})
        with pytest.raises(PublishError, match=r"Nats-Msg-Id.*must not contain CR or LF"):
            await client.publish("hdr.x", b"raw", msg_id="id\n2")
        assert client.outstanding == 0
    nc = await nats.connect(nats_url)
    try:
        msg = await nc.jetstream().get_msg("SEAM", ack.seq)
        assert msg.data == b"raw"
        assert msg.headers is not None
        assert msg.headers["X-Trace"] == "t-1" and msg.headers["Nats-Msg-Id"] == "hdr-1"
        assert msg.headers["Seam-Content-Type"] == "bytes" and msg.headers["Seam-Published-At"].isdigit()
    finally:
        await nc.close()
    assert await stream_msgs(nats_url) == 1


async def test_generated_ids_are_unique_and_retries_reuse_them(nats_url: str) -> None:
    # An ack timeout far below the round trip makes the client resend most messages before their
    # PubAck arrives; since a resend reuses the message id, the stream still stores each once.
    n = 300
    async with NatsClient(**opts(nats_url, publish_ack_timeout=0.0005, publish_retries=1000)) as client:
        await client.publish("retry.x", b"create-stream")
        futs = [await client.publish_async("retry.x", {"i": i}) for i in range(n)]
        acks = [await f for f in futs]
        assert client.stats["retries"] > 0
    assert len({a.seq for a in acks}) == n
    assert await stream_msgs(nats_url) == n + 1
    nc = await nats.connect(nats_url)
    try:
        ids = set()
        for seq in (2, 3, n + 1):
            msg = await nc.jetstream().get_msg("SEAM", seq)
            ids.add(msg.headers["Nats-Msg-Id"])
        assert len(ids) == 3 and all(i.startswith(client.client_id + "-") for i in ids)
    finally:
        await nc.close()


async def test_publish_fails_after_retry_budget_when_broker_is_gone(nats_server: NatsProcess) -> None:
    client = NatsClient(
        **opts(nats_server.url, publish_ack_timeout=0.2, publish_retries=2, reconnect_wait=0.1)
    )
    await client.connect()
    await client.publish("gone.x", b"ok")
    nats_server.stop()
    with pytest.raises(PublishTimeoutError, match="no PubAck"):
        await asyncio.wait_for(client.publish("gone.x", b"lost?"), 30)
    assert client.outstanding == 0
    nats_server.start()
    await asyncio.wait_for(client.close(), 30)
