"""Stream plumbing shared by every variant: a fresh stream, a prefilled backlog, an ack check.

None of this is timed except `wait_all_acked`, which every consume variant calls inside its timed
section so that "consumed" means "handled and acknowledged on the server" for all of them alike.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from nats.js.api import StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from adapter_runtime import headers

STREAM = "BENCH"
STREAM_SUBJECTS = ["bench.>"]
PUBLISH_SUBJECT = "bench.pub"
CONSUME_SUBJECT = "bench.consume"


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures; identical for every variant so their figures pair up."""

    url: str
    messages: int
    latency_messages: int
    payload: bytes
    batch_size: int
    max_ack_pending: int
    window: int
    timeout: float


@dataclass(frozen=True)
class Measured:
    """A throughput figure measured in another process, with that process's CPU seconds."""

    msgs_per_s: float
    client_cpu_s: float


async def fresh_stream(js: JetStreamContext) -> None:
    """Drop the bench stream (and its consumers) and create it empty on file storage."""
    try:
        await js.delete_stream(STREAM)
    except NotFoundError:
        pass
    await js.add_stream(StreamConfig(name=STREAM, subjects=STREAM_SUBJECTS, storage=StorageType.FILE))


async def stream_count(js: JetStreamContext) -> int:
    info = await js.stream_info(STREAM)
    return int(info.state.messages)


def adapter_wire_headers(msg_id: str) -> dict[str, str]:
    """The headers the adapter's publisher puts on every message (id, content type, timestamp)."""
    return {
        headers.MSG_ID: msg_id,
        headers.CONTENT_TYPE: "bytes",
        headers.PUBLISHED_AT: str(time.time_ns()),
    }


async def prefill(js: JetStreamContext, payload: bytes, n: int, limit_s: float) -> None:
    """Store `n` messages on CONSUME_SUBJECT so a consumer finds a ready backlog.

    They carry the adapter's wire headers, as traffic between adapters does, so every consumer
    (raw, adapter, FastStream) parses exactly the same messages.
    """
    for i in range(n):
        await js.publish_async(CONSUME_SUBJECT, payload, headers=adapter_wire_headers(f"prefill-{i}"))
    await asyncio.wait_for(js.publish_async_completed(), limit_s)
    stored = await stream_count(js)
    if stored != n:
        raise RuntimeError(f"prefill stored {stored} messages, expected {n}")


async def wait_all_acked(js: JetStreamContext, consumer: str, n: int, limit_s: float) -> None:
    """Poll until the server's ack floor covers all `n` messages of the fresh stream."""
    deadline = time.monotonic() + limit_s
    while True:
        info = await js.consumer_info(STREAM, consumer)
        floor = info.ack_floor.stream_seq if info.ack_floor and info.ack_floor.stream_seq else 0
        if floor >= n and not info.num_ack_pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"consumer {consumer}: ack floor {floor} of {n}, {info.num_ack_pending} ack pending "
                f"after {limit_s}s"
            )
        await asyncio.sleep(0.002)


async def wait_count(counter: list[int], done: asyncio.Event, n: int, limit_s: float, what: str) -> None:
    """Wait until a handler has seen `n` messages; the error says how far it got."""
    try:
        await asyncio.wait_for(done.wait(), limit_s)
    except TimeoutError:
        raise TimeoutError(f"{what}: handled {counter[0]} of {n} messages in {limit_s}s") from None
