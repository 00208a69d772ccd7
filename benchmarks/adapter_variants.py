"""The adapter side: NatsClient publish / publish_async and NatsServer consume, metrics off and on."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any

import nats

from benchmarks.bench_stream import (
    CONSUME_SUBJECT,
    PUBLISH_SUBJECT,
    STREAM,
    STREAM_SUBJECTS,
    BenchConfig,
    Measured,
    stream_count,
    wait_all_acked,
    wait_count,
)
from benchmarks.otlp_child import run_in_child
from benchmarks.raw_variants import LATENCY_WARMUP
from seam_harness.process import free_port


def warm_up(otlp: bool = False) -> None:
    """Import the runtime and build its process-wide metrics provider before anything is timed.

    The provider is created once per process by the first enabled client, with or without OTLP;
    that is why the OTLP variants run in a child process (benchmarks.otlp_child).
    """
    from adapter_runtime import NatsClient, NatsServer  # noqa: F401 - the import is the point

    NatsClient(
        server_urls=["nats://127.0.0.1:4222"], metrics_port=free_port(), health_port=0, enable_otel=otlp
    )


def _options(cfg: BenchConfig, metrics: bool, otlp: bool = False) -> dict[str, Any]:
    """Settings shared by publisher and consumer.

    Metrics on = a Prometheus ``metrics_port``: every instrument is recorded on the hot path.
    ``otlp`` adds ``enable_otel`` (only meaningful in the OTLP child process, see warm_up).
    """
    return {
        "server_urls": [cfg.url],
        "stream_name": STREAM,
        "stream_subjects": STREAM_SUBJECTS,
        "metrics_port": free_port() if metrics else 0,
        "health_port": 0,
        "enable_otel": otlp,
    }


async def _publish_latency(cfg: BenchConfig, metrics: bool) -> list[float]:
    from adapter_runtime import NatsClient

    client = NatsClient(**_options(cfg, metrics))
    await client.connect()
    try:
        for _ in range(LATENCY_WARMUP):
            await client.publish(PUBLISH_SUBJECT, cfg.payload)
        samples: list[float] = []
        clock = time.perf_counter
        for _ in range(cfg.latency_messages):
            t0 = clock()
            await client.publish(PUBLISH_SUBJECT, cfg.payload)
            samples.append(clock() - t0)
        return samples
    finally:
        await client.close()


async def _publish_async(cfg: BenchConfig, metrics: bool, otlp: bool = False) -> float:
    from adapter_runtime import NatsClient

    client = NatsClient(max_outstanding=cfg.window, **_options(cfg, metrics, otlp))
    await client.connect()
    check = await nats.connect(cfg.url)
    try:
        futures = []
        t0 = time.perf_counter()
        for _ in range(cfg.messages):
            futures.append(await client.publish_async(PUBLISH_SUBJECT, cfg.payload))
        await asyncio.wait_for(asyncio.gather(*futures), cfg.timeout)
        elapsed = time.perf_counter() - t0
        stored = await stream_count(check.jetstream())
        if stored != cfg.messages:
            raise RuntimeError(f"adapter publish_async stored {stored} of {cfg.messages}")
        return cfg.messages / elapsed
    finally:
        await client.close()
        await check.close()


async def _consume(cfg: BenchConfig, metrics: bool, otlp: bool = False) -> float:
    from adapter_runtime import NatsServer

    consumer = "adapter_otlp" if otlp else "adapter_metrics_on" if metrics else "adapter_metrics_off"
    counter = [0]
    done = asyncio.Event()

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        if len(data) != len(cfg.payload):
            raise RuntimeError("adapter consume: payload size changed in transit")
        counter[0] += 1
        if counter[0] >= cfg.messages:
            done.set()

    server = NatsServer(
        consumer_name=consumer,
        batch_size=cfg.batch_size,
        max_ack_pending=cfg.max_ack_pending,
        max_inflight=cfg.max_ack_pending,
        # Only the idle long-poll: stop() waits for a fetch in progress, the timed part never idles.
        fetch_timeout=1.0,
        **_options(cfg, metrics, otlp),
    )
    await server.connect()
    check = await nats.connect(cfg.url)
    runner: asyncio.Task[None] | None = None
    try:
        await server.subscribe(CONSUME_SUBJECT, handler)
        t0 = time.perf_counter()
        runner = asyncio.create_task(server.run())
        await wait_count(counter, done, cfg.messages, cfg.timeout, "adapter consume")
        await wait_all_acked(check.jetstream(), consumer, cfg.messages, cfg.timeout)
        return cfg.messages / (time.perf_counter() - t0)
    finally:
        stopped = server.stop()
        if inspect.isawaitable(stopped):
            await stopped
        if runner is not None:
            try:
                await asyncio.wait_for(runner, cfg.timeout)
            except Exception:
                runner.cancel()
        await check.close()


async def publish_off(cfg: BenchConfig) -> list[float]:
    return await _publish_latency(cfg, metrics=False)


async def publish_on(cfg: BenchConfig) -> list[float]:
    return await _publish_latency(cfg, metrics=True)


async def publish_async_off(cfg: BenchConfig) -> float:
    return await _publish_async(cfg, metrics=False)


async def publish_async_on(cfg: BenchConfig) -> float:
    return await _publish_async(cfg, metrics=True)


async def consume_off(cfg: BenchConfig) -> float:
    return await _consume(cfg, metrics=False)


async def consume_on(cfg: BenchConfig) -> float:
    return await _consume(cfg, metrics=True)


async def publish_async_otlp(cfg: BenchConfig) -> Measured:
    return await run_in_child("publish_async", cfg)


async def consume_otlp(cfg: BenchConfig) -> Measured:
    return await run_in_child("consume", cfg)


async def publish_async_off_child(cfg: BenchConfig) -> Measured:
    return await run_in_child("publish_async_off", cfg)


async def consume_off_child(cfg: BenchConfig) -> Measured:
    return await run_in_child("consume_off", cfg)
