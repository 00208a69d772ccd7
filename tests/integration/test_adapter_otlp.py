"""ENABLE_OTEL=1 exports the adapter's metrics over OTLP (HTTP receiver on loopback, real SDK)."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path

import pytest
from aiohttp import web
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from seam_harness.process import free_port

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent(
    """
    import asyncio
    from adapter_runtime import NatsClient, NatsServer

    async def main():
        done = asyncio.Event()

        async def handler(subject, data, reply_to=None):
            done.set()

        async with NatsClient.from_env() as client, NatsServer.from_env() as server:
            await server.subscribe("otlp.x", handler, consumer_name="otlp")
            await client.publish("otlp.x", {"hello": "otlp"})
            await asyncio.wait_for(done.wait(), 30)
            await asyncio.sleep(1.5)  # a few export intervals

    asyncio.run(main())
    """
)


async def test_enable_otel_exports_over_otlp(nats_url: str, tmp_path: Path) -> None:
    bodies: list[bytes] = []

    async def receive(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/v1/metrics", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    script = tmp_path / "otlp_app.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEAM_NATS_", "OTEL_"))}
    env.update(
        {
            "SEAM_NATS_SERVER_URLS": nats_url,
            "SEAM_NATS_METRICS_PORT": "0",
            "SEAM_NATS_HEALTH_PORT": "0",
            "SEAM_NATS_FETCH_TIMEOUT": "1",
            "SEAM_NATS_CLIENT_ID": "otlp-app",
            "ENABLE_OTEL": "1",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": f"http://127.0.0.1:{port}/v1/metrics",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "none",
            "OTEL_METRIC_EXPORT_INTERVAL": "300",
        }
    )
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()[-3000:]
    finally:
        await runner.cleanup()
    payload = b"".join(bodies)
    assert bodies, "no OTLP export arrived"
    for name in (
        b"nats.messages.published",
        b"nats.messages.consumed",
        b"nats.messages.acked",
        b"nats.publish.latency",
        b"nats.persistence.write.latency",
        b"nats.e2e.latency",
        b"nats.handler.duration",
    ):
        assert name in payload, name
    assert b"otlp-app" in payload  # the client_id attribute
    sums, hists = _latest_values(bodies)
    # one message published and consumed: counters from the observable callbacks ...
    for counter in ("nats.messages.published", "nats.messages.consumed", "nats.messages.acked"):
        assert sums.get(counter) == 1, (counter, sums)
    # ... and histograms built from the local buckets (no SDK call per value)
    for hist in ("nats.publish.latency", "nats.persistence.write.latency"):
        assert hists.get(hist) == (1, 1, 17, "otlp-app", ""), (hist, hists)
    for hist in ("nats.e2e.latency", "nats.handler.duration"):
        assert hists.get(hist) == (1, 1, 17, "otlp-app", "otlp"), (hist, hists)


def _latest_values(
    bodies: list[bytes],
) -> tuple[dict[str, int], dict[str, tuple[int, int, int, str, str]]]:
    """Per metric, the highest cumulative value seen: counter sums; for histograms (count, sum of
    bucket counts, number of buckets, client_id, consumer attribute)."""
    sums: dict[str, int] = {}
    hists: dict[str, tuple[int, int, int, str, str]] = {}
    for body in bodies:
        req = ExportMetricsServiceRequest.FromString(body)
        for rm in req.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    if m.HasField("sum"):
                        for sp in m.sum.data_points:
                            sums[m.name] = max(sums.get(m.name, 0), int(sp.as_int or sp.as_double))
                    elif m.HasField("histogram"):
                        for hp in m.histogram.data_points:
                            attrs = {a.key: a.value.string_value for a in hp.attributes}
                            value = (
                                int(hp.count),
                                sum(hp.bucket_counts),
                                len(hp.bucket_counts),
                                attrs.get("client_id", ""),
                                attrs.get("consumer", ""),
                            )
                            if value > hists.get(m.name, (0, 0, 0, "", "")):
                                hists[m.name] = value
    return sums, hists
