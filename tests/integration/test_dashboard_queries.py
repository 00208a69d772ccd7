"""The dashboard's queries against what real adapter pods export (real nats-server, real traffic).

No Prometheus here, so the queries are checked with ``dashboards.promql_selectors``: every series
selector, with the dashboard variables set the way a user would set them, must find the scraped
series it is meant to show (and the grouping labels on them), the variable queries must list the
namespaces, streams, consumers and pods in use, counters summed as the panels sum them must equal
the runtime's own counts, and the latency quantiles must come out of the exported buckets.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapter_runtime import NatsClient, NatsServer
from adapter_runtime.client import PublishError
from dashboards import build
from dashboards.promql_selectors import (
    Selector,
    grouping_labels,
    histogram_quantile,
    label_values_query,
    regex_value,
    selectors,
    substitute,
)
from seam_harness.nats import NatsProcess
from seam_harness.process import free_port
from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration

DASHBOARD = json.loads(Path(build.__file__).with_name("nats_adapter.json").read_text())
ALL = ".*"  # the variables' allValue


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def parse(text: str, namespaces: set[str]) -> list[Sample]:
    """Samples of this test's pods only (other tests in the process share the registry)."""
    return [
        Sample(s.name, dict(s.labels), s.value)
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.labels.get("namespace") in namespaces
    ]


def matching(samples: Iterable[Sample], sel: Selector) -> list[Sample]:
    return [s for s in samples if sel.matches(s.name, s.labels)]


def targets() -> list[tuple[str, dict[str, Any]]]:
    return [(p["title"], t) for p in DASHBOARD["panels"] if p["type"] != "row" for t in p["targets"]]


def variable_query(name: str) -> str:
    return next(v["query"] for v in DASHBOARD["templating"]["list"] if v["name"] == name)


def values(**chosen: Iterable[str]) -> dict[str, str]:
    """Variable values as Grafana renders them in a regex matcher; unset variables are All."""
    out = {v: ALL for v in ("namespace", "stream", "consumer", "pod")}
    out.update({k: regex_value(v) for k, v in chosen.items()})
    out["__rate_interval"] = "1m"
    return out


def target_samples(expr: str, samples: list[Sample], chosen: dict[str, str]) -> list[Sample]:
    found: list[Sample] = []
    for sel in selectors(substitute(expr, chosen)):
        found.extend(matching(samples, sel))
    return found


def label_values(query: str, samples: list[Sample], chosen: dict[str, str]) -> set[str]:
    sel, label = label_values_query(substitute(query, chosen))
    return {s.labels[label] for s in matching(samples, sel) if s.labels.get(label)}


async def _scrape(port: int) -> str:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as r:
        assert r.status == 200
        return await r.text()


@dataclass
class Traffic:
    samples: list[Sample]
    pub_ns: str
    sub_ns: str
    consumers: tuple[str, ...]
    pods: tuple[str, ...]
    stream: str
    published: int
    duplicates: int
    publish_errors: int
    server_stats: dict[str, int]


@pytest.fixture
async def traffic(nats_server: NatsProcess) -> Traffic:
    """A publisher pod and a failing publisher pod in one namespace, a consumer-only pod in another.

    Every instrument gets a non-zero value: duplicates, a poison message (nak, redelivery, term,
    dead letter), a publish to an uncaptured subject (publish error), a broker restart (reconnects).
    """
    tag = uuid.uuid4().hex[:6]
    pub_ns, sub_ns = f"dash-pub-{tag}", f"dash-sub-{tag}"
    consumers = (f"dash-a-{tag}", f"dash-b-{tag}")
    mport = free_port()
    common: dict[str, Any] = {
        "server_urls": [nats_server.url],
        "metrics_port": mport,
        "health_port": 0,
        "stream_name": "DASH",
        "reconnect_wait": 0.2,
        "fetch_timeout": 1.0,
    }
    client = NatsClient(**common, namespace=pub_ns, pod_name="pub-0")
    failing = NatsClient(**common, namespace=pub_ns, pod_name="pub-1", create_stream=False)
    server = NatsServer(
        **common,
        namespace=sub_ns,
        pod_name="sub-0",
        max_deliver=2,
        nak_delay=0.05,
        backlog_poll_interval=0.2,
    )

    async def handler(subject: str, data: Any, reply_to: str | None = None) -> None:
        if data.get("poison"):
            raise RuntimeError("poison")

    await client.connect()
    await failing.connect()
    await server.connect()
    try:
        await client.publish("dash.orders", {"i": -1}, msg_id=f"{tag}-warmup")  # creates the stream
        for name in consumers:
            await server.subscribe("dash.orders", handler, consumer_name=name)
        for i in range(20):
            await client.publish("dash.orders", {"i": i}, msg_id=f"{tag}-{i}")
        await client.publish("dash.orders", {"i": 0}, msg_id=f"{tag}-0")  # duplicate
        await client.publish("dash.orders", {"poison": True})
        with pytest.raises(PublishError, match="no stream captures"):
            await failing.publish("dash.nowhere", {"lost": True})
        n = len(consumers)
        await wait_for(
            lambda: server.stats["acked"] == 21 * n and server.stats["dead_lettered"] == n, 30, "traffic"
        )

        nats_server.stop()
        await wait_for(lambda: not server.ready(), 10, "consumer notices the broker is gone")
        await asyncio.to_thread(nats_server.start)
        await wait_for(
            lambda: client.stats["reconnects"] and failing.stats["reconnects"] and server.stats["reconnects"],
            30,
            "reconnects",
        )
        await wait_for(server.ready, 30, "consumer ready again")
        await asyncio.sleep(0.6)  # a backlog poll after the reconnect
        text = await _scrape(mport)
    finally:
        await client.close()
        await failing.close()
        await server.stop()
    return Traffic(
        samples=parse(text, {pub_ns, sub_ns}),
        pub_ns=pub_ns,
        sub_ns=sub_ns,
        consumers=consumers,
        pods=("pub-0", "pub-1", "sub-0"),
        stream="DASH",
        published=client.stats["published"],
        duplicates=client.stats["duplicates"],
        publish_errors=failing.stats["errors"],
        server_stats=dict(server.stats),
    )


async def test_dashboard_series_exist_with_their_labels(traffic: Traffic) -> None:
    scraped = {s.name for s in traffic.samples}
    chosen = values()
    for title, t in targets():
        expr = t["expr"]
        for sel in selectors(expr):
            assert sel.metric in scraped, f"{title}: {sel.metric} is not exported by the runtime"
        found = target_samples(expr, traffic.samples, chosen)
        assert found, f"{title}: {expr} matches nothing with every variable on All"
        filtered = {m.label for sel in selectors(expr) for m in sel.matchers}
        needed = (filtered | grouping_labels(expr)) - {"__name__"}
        for s in found:
            missing = needed - {k for k, v in s.labels.items() if v}
            assert not missing, f"{title}: {s.name} has no {sorted(missing)} label"


async def test_variable_queries_list_what_the_pods_export(traffic: Traffic) -> None:
    s = traffic.samples
    both = {traffic.pub_ns, traffic.sub_ns}
    # the consumer-only namespace is listed too
    assert label_values(variable_query("namespace"), s, values()) == both
    assert label_values(variable_query("stream"), s, values(namespace=both)) == {traffic.stream}
    assert label_values(variable_query("consumer"), s, values()) == set(traffic.consumers)
    assert label_values(variable_query("consumer"), s, values(namespace=[traffic.pub_ns])) == set()
    assert label_values(variable_query("pod"), s, values()) == set(traffic.pods)
    assert label_values(variable_query("pod"), s, values(namespace=[traffic.sub_ns])) == {"sub-0"}


async def test_each_consumer_selection_keeps_every_panel(traffic: Traffic) -> None:
    """Publisher series carry no consumer label, so a consumer filter must not blank them."""
    for consumer in traffic.consumers:
        chosen = values(consumer=[consumer])
        for title, t in targets():
            found = target_samples(t["expr"], traffic.samples, chosen)
            assert found, f"{title} is empty with consumer={consumer}: {t['expr']}"
            for s in found:
                assert s.labels.get("consumer", consumer) == consumer


async def test_namespace_selection_separates_publishers_and_consumers(traffic: Traffic) -> None:
    consumer_side = [
        (title, t) for title, t in targets() if any("consumer" in s.label_ops() for s in selectors(t["expr"]))
    ]
    assert consumer_side
    for title, t in consumer_side:
        sub = target_samples(t["expr"], traffic.samples, values(namespace=[traffic.sub_ns]))
        assert sub and all(s.labels["namespace"] == traffic.sub_ns for s in sub), title
        assert not target_samples(t["expr"], traffic.samples, values(namespace=[traffic.pub_ns])), title
    publish = next(t for title, t in targets() if title == "Publish rate")
    pub = target_samples(publish["expr"], traffic.samples, values(namespace=[traffic.pub_ns]))
    assert pub and {s.labels["namespace"] for s in pub} == {traffic.pub_ns}
    reconnects = next(t for title, t in targets() if title == "Reconnects")
    for pod in traffic.pods:
        found = target_samples(reconnects["expr"], traffic.samples, values(pod=[pod]))
        assert sum(s.value for s in found) >= 1, f"no reconnect counted for {pod}"


async def test_counters_as_the_panels_sum_them_equal_the_runtime_counts(traffic: Traffic) -> None:
    def total(title: str, ref: str = "A") -> float:
        t = next(t for tt, t in targets() if tt == title and t["refId"] == ref)
        return sum(s.value for s in target_samples(t["expr"], traffic.samples, values()))

    st = traffic.server_stats
    n = len(traffic.consumers)
    assert total("Publish rate") == traffic.published == 23  # warm-up + 20 + duplicate + poison
    assert total("Duplicates") == traffic.duplicates == 1
    assert total("Publish errors") == traffic.publish_errors == 1
    assert total("Consume rate") == st["consumed"] == 23 * n  # poison delivered twice per consumer
    assert total("Redeliveries") == st["redelivered"] == n
    assert total("Ack / nak / term / dead-letter", "A") == st["acked"] == 21 * n
    assert total("Ack / nak / term / dead-letter", "B") == st["nak"] == n
    assert total("Ack / nak / term / dead-letter", "C") == st["term"] == n
    assert total("Ack / nak / term / dead-letter", "D") == st["dead_lettered"] == n
    backlog = next(t for tt, t in targets() if tt == "Consumer backlog")
    gauges = target_samples(backlog["expr"], traffic.samples, values())
    assert {s.labels["consumer"] for s in gauges} == set(traffic.consumers)
    assert all(s.value == 0 for s in gauges)  # everything was acked or terminated


async def test_latency_quantiles_from_the_exported_buckets(traffic: Traffic) -> None:
    """histogram_quantile as Prometheus computes it, over the buckets since process start."""
    panels = [
        p for p in DASHBOARD["panels"] if p["type"] != "row" and p["fieldConfig"]["defaults"]["unit"] == "ms"
    ]
    assert len(panels) == 4
    for panel in panels:
        qs: list[float] = []
        for t in panel["targets"]:
            q = float(t["expr"].split("(", 1)[1].split(",", 1)[0])
            buckets: dict[float, float] = {}
            for s in target_samples(t["expr"], traffic.samples, values()):
                le = float(s.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + s.value
            value = histogram_quantile(q, buckets)
            assert not math.isnan(value), f"{panel['title']} {t['legendFormat']}: no observations"
            assert 0 <= value <= 10_000, (panel["title"], value)
            qs.append(value)
        assert qs == sorted(qs), f"{panel['title']}: quantiles out of order {qs}"
    # the publish latency histogram saw every acknowledged publish, no more
    count = sum(
        s.value
        for s in traffic.samples
        if s.name == "nats_publish_latency_milliseconds_count" and s.labels["namespace"] == traffic.pub_ns
    )
    assert count == traffic.published
