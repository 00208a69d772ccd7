"""Failures: redelivery with nak, dead letters with payload and reason, compression, bad encodings."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import nats
import pytest

from adapter_runtime import NatsClient, NatsServer, codec
from tests.integration.adapter_options import adapter_options
from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration


# A nak'd message comes back within a fraction of a second.
QUICK_REDELIVERY = {"nak_delay": 0.05, "nak_delay_max": 0.2}


def opts(url: str, **kw: Any) -> dict[str, Any]:
    return adapter_options(url, **{**QUICK_REDELIVERY, **kw})


async def _dead_letters(url: str, stream: str = "SEAM_DLQ") -> list[Any]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        return [await js.get_msg(stream, seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)]
    finally:
        await nc.close()


async def _consumer_state(url: str, consumer: str) -> tuple[int, int]:
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().consumer_info("SEAM", consumer)
        return int(info.num_pending), int(info.num_ack_pending)
    finally:
        await nc.close()


async def test_failing_handler_is_redelivered_then_dead_lettered(nats_url: str) -> None:
    calls: Counter[str] = Counter()
    ok: list[Any] = []

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        if data.get("poison"):
            calls["poison"] += 1
            raise RuntimeError("cannot process order 13")
        ok.append(data)

    async with NatsClient(**opts(nats_url)) as client, NatsServer(**opts(nats_url, max_deliver=3)) as server:
        await server.subscribe("orders.pay", handler, consumer_name="pay")
        ack = await client.publish("orders.pay", {"poison": True, "order": 13}, headers={"X-Trace": "t-13"})
        await client.publish("orders.pay", {"order": 14})
        await wait_for(lambda: server.stats["dead_lettered"] == 1 and ok, 30, "dead letter")
        await asyncio.sleep(0.3)
        assert calls["poison"] == 3  # exactly max_deliver attempts, never more
        assert server.stats["nak"] == 2 and server.stats["term"] == 1
        assert server.stats["redelivered"] == 2
    assert ok == [{"order": 14}]
    [dead] = await _dead_letters(nats_url)
    assert dead.subject == "seam.dlq.SEAM"
    assert json.loads(dead.data) == {"poison": True, "order": 13}
    h = dead.headers
    assert "RuntimeError: cannot process order 13" in h["Seam-Dlq-Reason"]
    assert h["Seam-Dlq-Original-Subject"] == "orders.pay"
    assert h["Seam-Dlq-Stream-Seq"] == str(ack.seq)
    assert h["Seam-Dlq-Deliveries"] == "3" and h["Seam-Dlq-Consumer"] == "pay"
    assert h["X-Trace"] == "t-13"  # original headers are kept
    assert await _consumer_state(nats_url, "pay") == (0, 0)  # the consumer moved on


async def test_handler_that_recovers_is_acked_not_dead_lettered(nats_url: str) -> None:
    attempts: list[int] = []

    def flaky(subject: str, data: Any, reply_to: str | None = None) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ValueError("transient")

    async with NatsClient(**opts(nats_url)) as client, NatsServer(**opts(nats_url, max_deliver=5)) as server:
        await server.subscribe("orders.flaky", flaky, consumer_name="flaky")
        await client.publish("orders.flaky", {"x": 1})
        await wait_for(lambda: server.stats["acked"] == 1, 30, "ack after retries")
        assert len(attempts) == 3 and server.stats["nak"] == 2 and server.stats["dead_lettered"] == 0
    assert await _consumer_state(nats_url, "flaky") == (0, 0)


async def test_unknown_encoding_goes_to_dead_letters_without_crashing(nats_url: str) -> None:
    handled: list[Any] = []

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        handled.append(data)

    async with NatsClient(**opts(nats_url)) as client, NatsServer(**opts(nats_url)) as server:
        await server.subscribe("mixed.enc", handler, consumer_name="enc")
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            await js.publish("mixed.enc", b"\x28\xb5brotli?", headers={"Seam-Encoding": "brotli"})
            await js.publish("mixed.enc", b"not zstd at all", headers={"Seam-Encoding": "zstd"})
        finally:
            await nc.close()
        await client.publish("mixed.enc", {"fine": True})
        await wait_for(lambda: server.stats["dead_lettered"] == 2 and handled, 30, "dead letters")
        assert handled == [{"fine": True}]
        assert server.stats["term"] == 2
    dead = await _dead_letters(nats_url)
    reasons = sorted(d.headers["Seam-Dlq-Reason"] for d in dead)
    assert "unknown Seam-Encoding 'brotli'" in reasons[1] or "unknown Seam-Encoding 'brotli'" in reasons[0]
    assert any("does not decode as zstd" in r for r in reasons)
    assert {d.data for d in dead} == {b"\x28\xb5brotli?", b"not zstd at all"}  # payload kept as-is


async def test_compression_round_trip_and_mixed_traffic(nats_url: str) -> None:
    big = {"rows": [{"id": i, "name": f"user-{i}", "tags": ["a", "b"]} for i in range(200)]}
    small = {"id": 1}
    blob = bytes(range(256)) * 40
    got: list[Any] = []

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        got.append(data)

    zstd_c = NatsClient(**opts(nats_url, enable_compression=True, compression_codec="zstd", client_id="z"))
    lz4_c = NatsClient(**opts(nats_url, enable_compression=True, compression_codec="lz4", client_id="l"))
    plain = NatsClient(**opts(nats_url, client_id="p"))
    for c in (zstd_c, lz4_c, plain):
        await c.connect()
    try:
        acks = {
            "zstd-big": await zstd_c.publish("comp.x", big),
            "zstd-small": await zstd_c.publish("comp.x", small),
            "lz4-big": await lz4_c.publish("comp.x", big),
            "lz4-blob": await lz4_c.publish("comp.x", blob),
            "plain-big": await plain.publish("comp.x", big),
        }
        async with NatsServer(**opts(nats_url)) as server:
            await server.subscribe("comp.x", handler)
            await wait_for(lambda: len(got) == 5, 30, "all messages")
    finally:
        for c in (zstd_c, lz4_c, plain):
            await c.close()
    assert got == [big, small, big, blob, big]
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        stored = {k: await js.get_msg("SEAM", a.seq) for k, a in acks.items()}
    finally:
        await nc.close()
    raw_big = len(json.dumps(big, separators=(",", ":")).encode())
    assert (
        stored["zstd-big"].headers["Seam-Encoding"] == "zstd" and len(stored["zstd-big"].data) < raw_big / 3
    )
    assert stored["lz4-big"].headers["Seam-Encoding"] == "lz4" and len(stored["lz4-big"].data) < raw_big
    assert "Seam-Encoding" not in stored["zstd-small"].headers  # below min_compress_size
    assert "Seam-Encoding" not in stored["plain-big"].headers and len(stored["plain-big"].data) == raw_big
    assert codec.decompress(stored["lz4-blob"].data, stored["lz4-blob"].headers["Seam-Encoding"]) == blob
