"""FastStream's NATS pull consumer as a third-party reference row (not a target)."""

from __future__ import annotations

import asyncio
import logging
import time

import nats
from faststream.nats import JStream, NatsBroker, PullSub
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from benchmarks.bench_stream import CONSUME_SUBJECT, STREAM, BenchConfig, wait_all_acked, wait_count


async def consume(cfg: BenchConfig) -> float:
    """msg/s of a FastStream pull subscriber (batch_size=cfg.batch_size, ack after the handler)."""
    durable = "faststream"
    counter = [0]
    done = asyncio.Event()
    broker = NatsBroker(cfg.url, logger=None, log_level=logging.WARNING)

    @broker.subscriber(
        CONSUME_SUBJECT,
        stream=JStream(STREAM, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=cfg.batch_size, timeout=cfg.timeout),
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_ack_pending=cfg.max_ack_pending,
        ),
    )
    async def handle(body: bytes) -> None:
        if len(body) != len(cfg.payload):
            raise RuntimeError("faststream: payload size changed in transit")
        counter[0] += 1
        if counter[0] >= cfg.messages:
            done.set()

    check = await nats.connect(cfg.url)
    try:
        await broker.connect()
        t0 = time.perf_counter()
        await broker.start()
        try:
            await wait_count(counter, done, cfg.messages, cfg.timeout, "faststream consume")
            await wait_all_acked(check.jetstream(), durable, cfg.messages, cfg.timeout)
            return cfg.messages / (time.perf_counter() - t0)
        finally:
            await broker.stop()
    finally:
        await check.close()
