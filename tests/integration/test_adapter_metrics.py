"""/metrics shows every instrument with the expected counts; /livez and /readyz reflect state."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapter_runtime import NatsClient, NatsServer
from adapter_runtime.metrics import Metrics, NoopMetrics
from seam_harness.nats import NatsProcess
from seam_harness.process import free_port
from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, await r.text()


def _samples(text: str, client_id: str) -> dict[str, float]:
    """metric sample name -> value for one client_id (histogram buckets left out)."""
    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for smp in fam.samples:
            if smp.labels.get("client_id") == client_id and "le" not in smp.labels:
                out[smp.name] = out.get(smp.name, 0.0) + smp.value
    return out


async def test_metrics_and_health_endpoints(nats_server: NatsProcess) -> None:
    mport, hport = free_port(), free_port()
    common = {
        "server_urls": [nats_server.url],
        "metrics_port": mport,
        "health_port": hport,
        "namespace": "shop",
        "pod_name": "shop-0",
        "reconnect_wait": 0.2,
        "fetch_timeout": 1.0,
    }
    client = NatsClient(**common, client_id="m-client")
    server = NatsServer(
        **common, client_id="m-server", max_deliver=2, nak_delay=0.05, backlog_poll_interval=0.2
    )
    assert isinstance(client.metrics, Metrics) and isinstance(server.metrics, Metrics)

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        if data.get("poison"):
            raise RuntimeError("boom")

    await client.connect()
    await server.connect()
    try:
        status, _ = await _get(f"http://127.0.0.1:{hport}/livez")
        assert status == 200
        await server.subscribe("metrics.x", handler, consumer_name="mc")
        assert (await _get(f"http://127.0.0.1:{hport}/readyz"))[0] == 200
        for i in range(20):
            await client.publish("metrics.x", {"i": i}, msg_id=f"m{i}")
        await client.publish("metrics.x", {"i": 0}, msg_id="m0")  # duplicate
        await client.publish("metrics.x", {"poison": True})
        await wait_for(
            lambda: server.stats["acked"] == 20 and server.stats["dead_lettered"] == 1, 30, "traffic"
        )
        await asyncio.sleep(0.5)  # a backlog poll after the traffic

        nats_server.stop()
        await wait_for(lambda: not server.ready(), 10, "not ready")
        assert (await _get(f"http://127.0.0.1:{hport}/readyz"))[0] == 503
        await asyncio.to_thread(nats_server.start)
        await wait_for(lambda: client.stats["reconnects"] and server.stats["reconnects"], 30, "reconnect")
        await wait_for(lambda: server.ready(), 30, "ready again")
        assert (await _get(f"http://127.0.0.1:{hport}/readyz"))[0] == 200

        status, text = await _get(f"http://127.0.0.1:{mport}/metrics")
        assert status == 200
    finally:
        await client.close()
        await server.stop()

    pub = _samples(text, "m-client")
    assert pub["nats_messages_published_total"] == 22
    assert pub["nats_messages_duplicates_total"] == 1
    assert pub["nats_publish_latency_milliseconds_count"] == 22
    assert pub["nats_persistence_write_latency_milliseconds_count"] == 22
    assert pub["nats_publish_latency_milliseconds_sum"] > 0
    assert pub["nats_client_reconnects_total"] >= 1

    con = _samples(text, "m-server")
    assert con["nats_messages_consumed_total"] == 22  # 20 + the poison message twice
    assert con["nats_messages_redelivered_total"] == 1
    assert con["nats_messages_acked_total"] == 20
    assert con["nats_messages_nak_total"] == 1
    assert con["nats_messages_dead_lettered_total"] == 1
    assert con["nats_messages_term_total"] == 1
    assert con["nats_handler_duration_milliseconds_count"] == 22
    assert con["nats_e2e_latency_milliseconds_count"] == 20
    assert "nats_consumer_backlog" in con and con["nats_consumer_backlog"] == 0
    assert con["nats_client_reconnects_total"] >= 1

    # attributes are bounded: no subject label anywhere
    for fam in text_string_to_metric_families(text):
        for smp in fam.samples:
            assert set(smp.labels) <= {"namespace", "pod", "stream", "consumer", "client_id", "le"}
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith("nats_messages_acked_total{") and 'client_id="m-server"' in ln
    )
    assert 'namespace="shop"' in line and 'pod="shop-0"' in line and 'consumer="mc"' in line


def test_metrics_off_is_a_noop() -> None:
    c = NatsClient(metrics_port=0, health_port=0)
    assert type(c.metrics) is NoopMetrics and not c.metrics.enabled
