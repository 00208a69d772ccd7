"""Toxiproxy in front of a real nats-server: a cut drops the client, a restore lets it reconnect."""

from __future__ import annotations

import asyncio

import nats
import pytest

from seam_harness.nats import NatsProcess
from seam_harness.toxiproxy import Toxiproxy, ToxiproxyError

pytestmark = pytest.mark.integration


async def test_cut_and_restore_disconnects_and_reconnects_a_client(
    nats_server: NatsProcess, toxiproxy: Toxiproxy
) -> None:
    proxy = toxiproxy.proxy("nats", nats_server.url)
    assert proxy.url != nats_server.url
    disconnected, reconnected = asyncio.Event(), asyncio.Event()

    async def on_disconnect() -> None:
        disconnected.set()

    async def on_reconnect() -> None:
        reconnected.set()

    client = await nats.connect(
        proxy.url,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.2,
        allow_reconnect=True,
    )
    # A second client straight to the server watches what arrives through the proxy.
    observer = await nats.connect(nats_server.url)
    try:
        seen = await observer.subscribe("through.proxy")
        await observer.flush()

        proxy.cut()
        await asyncio.wait_for(disconnected.wait(), timeout=10)
        assert not client.is_connected
        assert not proxy.enabled()

        proxy.restore()
        await asyncio.wait_for(reconnected.wait(), timeout=10)
        assert client.is_connected

        await client.publish("through.proxy", b"after-restore")
        await client.flush(timeout=5)
        msg = await seen.next_msg(timeout=5)
        assert msg.data == b"after-restore"
    finally:
        await client.close()
        await observer.close()


async def test_latency_toxic_delays_round_trips_and_reset_removes_it(
    nats_server: NatsProcess, toxiproxy: Toxiproxy
) -> None:
    proxy = toxiproxy.proxy("slow", nats_server.url)
    client = await nats.connect(proxy.url)
    try:
        proxy.latency(300)
        assert [t["type"] for t in proxy.toxics()] == ["latency"]
        # A lower bound only: the toxic must hold every reply back at least this long.
        assert await client.rtt() >= 0.3

        proxy.reset()
        assert proxy.toxics() == []
        assert proxy.enabled()
    finally:
        await client.close()


def test_api_errors_name_the_call(toxiproxy: Toxiproxy) -> None:
    toxiproxy.proxy("dup", "127.0.0.1:1")
    with pytest.raises(ToxiproxyError, match=r"POST /proxies -> 409"):
        toxiproxy.proxy("dup", "127.0.0.1:2")
