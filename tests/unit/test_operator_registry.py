"""The in-process index that routes advisories and dependency changes to resources."""

import pytest
from jetstream_operator.registry import CONNECTION, CONSUMER, STREAM, Registry

pytestmark = pytest.mark.unit


async def test_nudge_only_reaches_awake_daemons() -> None:
    import asyncio

    registry = Registry()
    awake, asleep = registry.track(STREAM, "ns", "a"), registry.track(STREAM, "ns", "b")
    awake.wake = asyncio.Event()
    assert registry.nudge([awake, asleep]) == 1
    assert awake.wake.is_set()
    awake.deleting = True
    awake.wake.clear()
    assert registry.nudge([awake]) == 0 and not awake.wake.is_set()


def test_nudge_without_a_running_daemon_is_remembered_for_the_next_one() -> None:
    registry = Registry()
    asleep, gone = registry.track(STREAM, "ns", "b"), registry.track(STREAM, "ns", "c")
    gone.deleting = True
    assert registry.nudge([asleep, gone]) == 0
    assert asleep.missed, "the daemon that starts next must check at once"
    assert not gone.missed


def test_track_returns_the_same_item() -> None:
    registry = Registry()
    assert registry.track(STREAM, "ns", "a") is registry.track(STREAM, "ns", "a")
    registry.forget(STREAM, "ns", "a")
    assert registry.items() == []


def test_queries() -> None:
    registry = Registry()
    stream = registry.track(STREAM, "ns", "orders")
    stream.pool_key, stream.stream, stream.connection = "k1", "ORDERS", "main"
    consumer = registry.track(CONSUMER, "ns", "worker")
    consumer.pool_key, consumer.stream, consumer.consumer = "k1", "ORDERS", "worker"
    consumer.connection, consumer.stream_resource = "main", "orders"
    other = registry.track(STREAM, "other", "orders")
    other.pool_key, other.stream, other.connection = "k2", "ORDERS", "main"
    conn = registry.track(CONNECTION, "ns", "main")
    conn.pool_key = "k1"

    assert registry.using_stream("k1", "ORDERS") == [stream, consumer]
    assert registry.using_consumer("k1", "ORDERS", "worker") == [consumer]
    assert registry.using_consumer("k2", "ORDERS", "worker") == []
    assert registry.using_pool("k1") == [stream, consumer, conn]
    assert registry.using_connection("ns", "main") == [stream, consumer]
    assert registry.consumers_of("ns", "orders") == [consumer]
    assert registry.consumers_of("other", "orders") == []
