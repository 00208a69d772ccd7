"""The operator's /metrics endpoint on a real socket and its advisory counter on a real server."""

from __future__ import annotations

import asyncio
import socket
import urllib.request

import nats
import pytest
from jetstream_operator.connections import ConnectionConfig, ConnectionPool
from jetstream_operator.metrics import OperatorMetrics
from jetstream_operator.metrics_endpoint import MetricsEndpoint, MetricsEndpointError
from jetstream_operator.registry import STREAM, Registry, ResourceKey

from seam_harness.nats import NatsProcess
from seam_harness.process import free_port
from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration


def fetch(port: int) -> tuple[str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        return resp.headers["Content-Type"], resp.read().decode()


async def test_endpoint_serves_the_registry_until_stopped() -> None:
    metrics = OperatorMetrics()
    metrics.reconciled(ResourceKey(STREAM, "ns", "s"), True, 0.01, "handler")
    port = free_port()
    endpoint = MetricsEndpoint(metrics.registry, "127.0.0.1", port)
    await endpoint.start()
    try:
        content_type, text = await asyncio.to_thread(fetch, port)
        assert content_type.startswith("text/plain; version=")
        assert 'seam_operator_reconcile_total{kind="Stream",result="ready"} 1.0' in text
    finally:
        await endpoint.stop()
    with pytest.raises(OSError):
        fetch(port)


async def test_a_taken_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        endpoint = MetricsEndpoint(OperatorMetrics().registry, "127.0.0.1", port)
        with pytest.raises(MetricsEndpointError, match=rf"metrics_port: cannot listen on 127.0.0.1:{port}"):
            await endpoint.start()


async def test_advisories_are_counted_by_event(nats_server: NatsProcess) -> None:
    seen: list[str] = []

    async def on_advisory(pool_key: str, kind: str, stream: str, consumer: str | None) -> None:
        seen.append(kind)

    pool = ConnectionPool(on_advisory=on_advisory)
    metrics = OperatorMetrics()
    metrics.track_state(Registry(), pool)
    api = await pool.acquire("streams/ns/s", ConnectionConfig(servers=(nats_server.url,), source="test"))
    await api.stream_create({"name": "COUNTED", "subjects": ["counted.>"]})
    nc = await nats.connect(nats_server.url)
    try:
        await nc.request("$JS.API.STREAM.DELETE.COUNTED", b"", timeout=5)
    finally:
        await nc.close()
    await wait_for(lambda: "stream.deleted" in seen, 5, "stream.deleted advisory")
    assert pool.advisory_counts["stream.created"] == 1
    assert pool.advisory_counts["stream.deleted"] == 1
    assert sum(pool.advisory_counts.values()) == len(seen)
    await pool.close_all()
