"""The baselines: plain nats-py, written the way the nats-py docs suggest, with no adapter."""

from __future__ import annotations

import asyncio
import time

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from benchmarks.bench_stream import (
    CONSUME_SUBJECT,
    PUBLISH_SUBJECT,
    STREAM,
    BenchConfig,
    adapter_wire_headers,
    stream_count,
    wait_all_acked,
)

LATENCY_WARMUP = 100


async def publish_latency(cfg: BenchConfig) -> list[float]:
    """Seconds per awaited `js.publish` (server ack included), after a short warm-up."""
    nc = await nats.connect(cfg.url)
    try:
        js = nc.jetstream()
        for _ in range(LATENCY_WARMUP):
            await js.publish(PUBLISH_SUBJECT, cfg.payload)
        samples: list[float] = []
        clock = time.perf_counter
        for _ in range(cfg.latency_messages):
            t0 = clock()
            await js.publish(PUBLISH_SUBJECT, cfg.payload)
            samples.append(clock() - t0)
        return samples
    finally:
        await nc.close()


async def publish_async(cfg: BenchConfig) -> float:
    """msg/s of `js.publish_async` with `cfg.window` acks outstanding, until every ack is in."""
    return await _publish_async(cfg, with_headers=False)


async def publish_async_headers(cfg: BenchConfig) -> float:
    """As publish_async, but each message carries the adapter's headers (unique Nats-Msg-Id).

    Information only: separates what the headers and the server's de-duplication cost from what
    the adapter's Python code costs.
    """
    return await _publish_async(cfg, with_headers=True)


async def _publish_async(cfg: BenchConfig, with_headers: bool) -> float:
    nc = await nats.connect(cfg.url)
    try:
        js = nc.jetstream(publish_async_max_pending=cfg.window)
        t0 = time.perf_counter()
        for i in range(cfg.messages):
            hdrs = adapter_wire_headers(f"raw-{i}") if with_headers else None
            await js.publish_async(PUBLISH_SUBJECT, cfg.payload, headers=hdrs)
        await asyncio.wait_for(js.publish_async_completed(), cfg.timeout)
        elapsed = time.perf_counter() - t0
        stored = await stream_count(js)
        if stored != cfg.messages:
            raise RuntimeError(f"raw publish_async stored {stored} of {cfg.messages}")
        return cfg.messages / elapsed
    finally:
        await nc.close()


async def fetch_ack(cfg: BenchConfig) -> float:
    """msg/s of a pull consumer: fetch(batch) then `msg.ack()` each, until the server saw every ack."""
    nc = await nats.connect(cfg.url)
    try:
        js = nc.jetstream()
        durable = "raw_fetch"
        psub = await js.pull_subscribe(
            CONSUME_SUBJECT,
            durable=durable,
            stream=STREAM,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                max_ack_pending=cfg.max_ack_pending,
            ),
        )
        got = 0
        t0 = time.perf_counter()
        while got < cfg.messages:
            msgs = await psub.fetch(min(cfg.batch_size, cfg.messages - got), timeout=cfg.timeout)
            for msg in msgs:
                if len(msg.data) != len(cfg.payload):
                    raise RuntimeError("raw fetch: payload size changed in transit")
                await msg.ack()
            got += len(msgs)
        await nc.flush()
        await wait_all_acked(js, durable, cfg.messages, cfg.timeout)
        return cfg.messages / (time.perf_counter() - t0)
    finally:
        await nc.close()
