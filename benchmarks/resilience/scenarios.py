"""The I/O of the suite: each scenario against a real nats-server (and Toxiproxy) it starts itself.

Publishing goes through the real adapter (`NatsClient.publish_async` with business msg ids),
consuming through `NatsServer.subscribe`. A `Probe` records every PubAck and every handler call,
so loss, handler-visible redeliveries, latency and recovery are computed from what really happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import nats
import psutil
from nats.js.errors import NotFoundError

from adapter_runtime import NatsClient, NatsServer
from adapter_runtime.client import PublishAck
from adapter_runtime.settings import AdapterSettings
from benchmarks.bench_stats import median, percentile
from benchmarks.resilience.matrix import Matrix, Scenario, Variant
from benchmarks.resilience.payloads import padded, records
from benchmarks.resilience.result import ScenarioResult
from benchmarks.resilience.verdict import judge
from seam_harness.nats import NatsProcess
from seam_harness.toxiproxy import Toxiproxy

STREAM = "RES"
SETTLE_S = 0.5  # after the last expected message: time for stray redeliveries to show up
Payload = Callable[[int, int], dict[str, Any]]


@dataclass
class Probe:
    """Per-message bookkeeping: PubAcks by index, handler calls, e2e latency, event times."""

    handler_delay_s: float = 0.0
    sent: int = 0
    acked: set[int] = field(default_factory=set)
    ack_times: list[float] = field(default_factory=list)
    duplicate_acks: int = 0
    failed: int = 0
    handled: set[int] = field(default_factory=set)
    handled_times: list[float] = field(default_factory=list)
    handled_at: dict[int, float] = field(default_factory=dict)
    sent_at: list[float] = field(default_factory=list)  # by message index
    calls: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    first_publish: float = 0.0

    def on_ack(self, i: int, fut: asyncio.Future[PublishAck]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            self.failed += 1
            return
        self.acked.add(i)
        self.ack_times.append(time.monotonic())
        if fut.result().duplicate:
            self.duplicate_acks += 1

    async def handler(self, subject: str, data: Any, reply_to: str | None = None) -> None:
        now_ns = time.perf_counter_ns()
        self.calls += 1
        i = data["i"]
        if i in self.handled:
            return
        self.handled.add(i)
        now = time.monotonic()
        self.handled_times.append(now)
        self.handled_at[i] = now
        self.latencies_ms.append((now_ns - data["t"]) / 1e6)
        if self.handler_delay_s:
            await asyncio.sleep(self.handler_delay_s)

    @property
    def redeliveries(self) -> int:
        return self.calls - len(self.handled)

    def complete(self) -> bool:
        return self.acked <= self.handled

    def latency_figures(self) -> dict[str, float | None]:
        lat = self.latencies_ms
        return {
            "latency_p50_ms": percentile(lat, 50) if lat else None,
            "latency_p95_ms": percentile(lat, 95) if lat else None,
            "latency_p99_ms": percentile(lat, 99) if lat else None,
        }

    def recovery_s(self, fault_end: float | None) -> float | None:
        """From the fault's end to the first message handled AND the first publish acked after it."""
        if fault_end is None:
            return None
        handled = [t for t in self.handled_times if t >= fault_end]
        acked = [t for t in self.ack_times if t >= fault_end]
        if not handled or not acked:
            return None
        return max(min(handled), min(acked)) - fault_end

    def catch_up_s(self, fault_end: float | None) -> float | None:
        """From the fault's end until every message published before that end has been handled
        (the backlog the fault built up is gone); None if some never were."""
        if fault_end is None:
            return None
        backlog = [i for i, t in enumerate(self.sent_at) if t <= fault_end]
        if any(i not in self.handled_at for i in backlog):
            return None
        return max([0.0] + [self.handled_at[i] - fault_end for i in backlog])


@dataclass
class Sampler:
    """Peak RSS growth of this process and peak backlog (sent but not yet handled) while running."""

    probe: Probe
    interval: float = 0.05
    rss_start: int = 0
    rss_peak: int = 0
    backlog_peak: int = 0
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.rss_start = self.rss_peak = psutil.Process().memory_info().rss
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        proc = psutil.Process()
        while True:
            self.rss_peak = max(self.rss_peak, proc.memory_info().rss)
            self.backlog_peak = max(self.backlog_peak, self.probe.sent - len(self.probe.handled))
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def rss_growth_mb(self) -> float:
        return (self.rss_peak - self.rss_start) / 2**20


@dataclass
class Outage:
    """When a fault started and ended (monotonic), filled in by the fault coroutine."""

    start: float | None = None
    end: float | None = None

    @property
    def duration_s(self) -> float | None:
        return None if self.start is None or self.end is None else self.end - self.start


async def publish_all(
    client: NatsClient,
    subject: str,
    probe: Probe,
    *,
    count: int,
    size: int,
    rate: float,
    id_prefix: str,
    payload: Payload = padded,
    at_index: int | None = None,
    on_index: Callable[[], None] | None = None,
    ack_wait_s: float = 180.0,
) -> None:
    """Publish `count` messages at `rate` msg/s (0 = as fast as the adapter's backpressure allows)
    and wait for every PubAck or failure; `on_index` runs once when message `at_index` is due.
    Futures are not kept: the probe's callback records each outcome, so the harness itself holds
    no per-message objects that would show up as RSS growth."""
    start = probe.first_publish = probe.first_publish or time.monotonic()
    settled = asyncio.Event()
    open_futs = 0

    def done(i: int, fut: asyncio.Future[PublishAck]) -> None:
        nonlocal open_futs
        probe.on_ack(i, fut)
        open_futs -= 1
        if open_futs == 0:
            settled.set()

    for i in range(count):
        if rate > 0:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        elif i % 200 == 0:
            await asyncio.sleep(0)  # let acks and handlers run between bursts
        if on_index is not None and i == at_index:
            on_index()
        probe.sent_at.append(time.monotonic())
        fut = await client.publish_async(subject, payload(i, size), msg_id=f"{id_prefix}-{i}")
        probe.sent += 1
        open_futs += 1
        settled.clear()
        fut.add_done_callback(functools.partial(done, i))
    if open_futs:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(settled.wait(), ack_wait_s)


async def wait_until(cond: Callable[[], bool], within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while not cond():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def stream_messages(url: str, stream: str) -> int:
    """Messages the stream holds now (0 when the stream is gone)."""
    nc = await nats.connect(url, max_reconnect_attempts=0)
    try:
        try:
            info = await nc.jetstream().stream_info(stream)
        except NotFoundError:
            return 0
        return int(info.state.messages)
    finally:
        await nc.close()


def _options(
    matrix: Matrix, scenario: Scenario, url: str, variant: Variant | None = None, **extra: Any
) -> dict[str, Any]:
    return {**matrix.adapter_options(scenario, variant), "server_urls": [url], **extra}


def _base_result(matrix: Matrix, scenario: Scenario, fault: str) -> ScenarioResult:
    return ScenarioResult(
        name=scenario.name,
        description=scenario.description,
        fault=fault,
        load=scenario.load_profile.model_dump(),
        settings=matrix.adapter_options(scenario),
    )


def _in_bytes(srv: NatsProcess) -> int:
    """Bytes the server has read from clients so far (nats-server /varz in_bytes)."""
    value = srv.varz()["in_bytes"]
    if not isinstance(value, int):
        raise TypeError(f"/varz in_bytes is not an integer: {value!r}")
    return value


def _completion_timeout(count: int) -> float:
    return 60.0 + count / 100


# ---- pub/sub with an optional fault: baseline, saturation, broker restart, network partition ----


async def run_pubsub(
    matrix: Matrix,
    scenario: Scenario,
    *,
    nats_url: str,
    connect_url: str,
    inject: Callable[[Outage], Coroutine[Any, Any, None]] | None,
    fault_text: str,
) -> ScenarioResult:
    lp = scenario.load_profile
    probe = Probe(handler_delay_s=scenario.fault.handler_delay_ms / 1000)
    result = _base_result(matrix, scenario, fault_text)
    subject = f"res.{scenario.name}"
    client = NatsClient(**_options(matrix, scenario, connect_url, stream_name=STREAM, client_id="res-pub"))
    server = NatsServer(**_options(matrix, scenario, connect_url, stream_name=STREAM, client_id="res-sub"))
    outage = Outage()
    fault_task: asyncio.Task[None] | None = None

    def trigger() -> None:
        nonlocal fault_task
        if inject is not None:
            fault_task = asyncio.create_task(inject(outage))

    await client.connect()
    await server.connect()
    sampler = Sampler(probe)
    try:
        await server.subscribe(subject, probe.handler, consumer_name="res")
        sampler.start()
        t0 = time.monotonic()
        await publish_all(
            client,
            subject,
            probe,
            count=lp.message_count,
            size=lp.message_size,
            rate=lp.publish_rate,
            id_prefix=scenario.name,
            at_index=int(scenario.fault.at_fraction * (lp.message_count - 1)),
            on_index=trigger,
            ack_wait_s=_completion_timeout(lp.message_count),
        )
        if fault_task is not None:
            await fault_task
        done = await wait_until(probe.complete, _completion_timeout(lp.message_count))
        t_done = max(probe.handled_times, default=time.monotonic())
        await asyncio.sleep(SETTLE_S)
        if not done:
            result.notes.append(
                f"gave up waiting: {len(probe.acked - probe.handled)} acked messages never handled"
            )
    finally:
        await sampler.stop()
        await client.close()
        await server.stop()
    stored = await stream_messages(nats_url, STREAM)
    result.measured = {
        "message_loss": 1 - len(probe.handled & set(range(lp.message_count))) / lp.message_count,
        "publish_failed": probe.failed,
        "handler_redeliveries": probe.redeliveries,
        "stored_duplicates": stored - lp.message_count,
        "throughput": len(probe.handled) / max(t_done - t0, 1e-9),
        **probe.latency_figures(),
        "reconnects": client.stats["reconnects"] + server.stats["reconnects"],
        "publish_retries": client.stats["retries"],
        "server_redelivered": server.stats["redelivered"],
        "rss_growth_mb": sampler.rss_growth_mb,
        "peak_backlog": sampler.backlog_peak,
        "max_outstanding_seen": client.max_outstanding_seen,
    }
    if inject is not None:
        result.measured["outage_s"] = outage.duration_s
        result.measured["recovery_s"] = probe.recovery_s(outage.end)
        result.measured["catch_up_s"] = probe.catch_up_s(outage.end)
        if server.stats["redelivered"]:
            ack_wait = AdapterSettings.from_options(**result.settings).ack_wait
            result.notes.append(
                f"catch_up_s (fault end until every message published before it was handled) may include "
                f"{server.stats['redelivered']} message(s) the server had sent during the fault that "
                "never reached the consumer: JetStream redelivers such a message only when its "
                f"ack_wait ({ack_wait:g} s here) expires, so ack_wait bounds the worst-case delay."
            )
    return result


async def run_baseline(matrix: Matrix, scenario: Scenario) -> ScenarioResult:
    with NatsProcess(name="res-baseline") as srv:
        return await run_pubsub(
            matrix, scenario, nats_url=srv.url, connect_url=srv.url, inject=None, fault_text="none"
        )


async def run_saturation(matrix: Matrix, scenario: Scenario) -> ScenarioResult:
    with NatsProcess(name="res-saturation") as srv:
        delay = scenario.fault.handler_delay_ms
        res = await run_pubsub(
            matrix,
            scenario,
            nats_url=srv.url,
            connect_url=srv.url,
            inject=None,
            fault_text=f"slow consumer: every handler sleeps {delay:g} ms",
        )
    opts = res.settings
    res.notes.append(
        f"consumer bound: max_inflight={opts.get('max_inflight', 1000)}, "
        f"max_ack_pending={opts.get('max_ack_pending', 100)}; publisher bound: "
        f"max_outstanding={opts.get('max_outstanding', 65536)} (peak outstanding "
        f"{res.measured['max_outstanding_seen']}); RSS is this process (publisher and consumer)"
    )
    return res


async def run_broker_restart(matrix: Matrix, scenario: Scenario) -> ScenarioResult:
    f = scenario.fault
    kill = f.kind == "broker_kill"
    with NatsProcess(name="res-restart") as srv:

        async def inject(outage: Outage) -> None:
            outage.start = time.monotonic()
            await asyncio.to_thread(srv.kill if kill else srv.stop)
            await asyncio.sleep(f.duration_s)
            await asyncio.to_thread(srv.start)
            outage.end = time.monotonic()

        how = "kill -9" if kill else "SIGTERM"
        return await run_pubsub(
            matrix,
            scenario,
            nats_url=srv.url,
            connect_url=srv.url,
            inject=inject,
            fault_text=f"{how} nats-server after {f.at_fraction:.0%} of the messages, "
            f"down {f.duration_s:g} s, restarted on the same store and port",
        )


async def run_network_partition(matrix: Matrix, scenario: Scenario) -> ScenarioResult:
    f = scenario.fault
    with NatsProcess(name="res-partition") as srv, Toxiproxy() as tox:
        proxy = tox.proxy("nats", f"127.0.0.1:{srv.port}")

        async def inject(outage: Outage) -> None:
            outage.start = time.monotonic()
            await asyncio.to_thread(proxy.cut)
            await asyncio.sleep(f.duration_s)
            await asyncio.to_thread(proxy.restore)
            outage.end = time.monotonic()

        return await run_pubsub(
            matrix,
            scenario,
            nats_url=srv.url,
            connect_url=proxy.url,
            inject=inject,
            fault_text=f"Toxiproxy disables the client<->server link after {f.at_fraction:.0%} of the "
            f"messages (open connections dropped, new ones refused) for {f.duration_s:g} s",
        )


# ---- duplicate message ids ----------------------------------------------------------------------


async def run_duplicate_msg_id(matrix: Matrix, scenario: Scenario) -> ScenarioResult:
    """Publish every message, then publish them all again from a NEW client (a restarted producer)
    with the same Nats-Msg-Id: the stream must store each once and the handler see each once."""
    lp = scenario.load_profile
    result = _base_result(
        matrix,
        scenario,
        "republish: a second NatsClient instance publishes every message again, same msg ids",
    )
    subject = f"res.{scenario.name}"
    first, second = Probe(), Probe()
    with NatsProcess(name="res-dup") as srv:
        server = NatsServer(**_options(matrix, scenario, srv.url, stream_name=STREAM, client_id="res-sub"))
        await server.connect()
        try:
            await server.subscribe(subject, first.handler, consumer_name="res")
            for probe, cid in ((first, "res-pub-1"), (second, "res-pub-2")):
                client = NatsClient(**_options(matrix, scenario, srv.url, stream_name=STREAM, client_id=cid))
                await client.connect()
                try:
                    await publish_all(
                        client,
                        subject,
                        probe,
                        count=lp.message_count,
                        size=lp.message_size,
                        rate=lp.publish_rate,
                        id_prefix=scenario.name,
                        ack_wait_s=_completion_timeout(lp.message_count),
                    )
                finally:
                    await client.close()
            done = await wait_until(first.complete, _completion_timeout(lp.message_count))
            if not done:
                result.notes.append("gave up waiting for every first-pass message to be handled")
            await asyncio.sleep(max(SETTLE_S, 1.0))  # a stored duplicate would be delivered by now
        finally:
            await server.stop()
        stored = await stream_messages(srv.url, STREAM)
    n = lp.message_count
    result.measured = {
        "message_loss": 1 - len(first.handled & set(range(n))) / n,
        "publish_failed": first.failed + second.failed,
        "stored_duplicates": stored - n,
        "handler_redeliveries": first.redeliveries,
        "duplicates_detected": second.duplicate_acks / n,
        "first_pass_duplicate_acks": first.duplicate_acks,
        **first.latency_figures(),
    }
    result.notes.append(
        "duplicates_detected = share of second-pass publishes whose PubAck says duplicate "
        "(the stream's duplicate window, default 2 min, keyed by Nats-Msg-Id)"
    )
    return result


# ---- compression and consume batching --------------------------------------------------------


async def _publish_then_consume(
    matrix: Matrix, scenario: Scenario, srv: NatsProcess, variant: Variant, payload: Payload, stream: str
) -> tuple[dict[str, Any], Probe]:
    """Publish the variant's messages with no consumer (so /varz in_bytes is the publisher's wire
    bytes), then consume them all: publish and consume rates, bytes per message."""
    lp = scenario.load_profile
    size = variant.message_size or lp.message_size
    subject = f"res.{stream.lower()}"
    opts = _options(matrix, scenario, srv.url, variant, stream_name=stream)
    probe = Probe()
    client = NatsClient(**opts, client_id="res-pub")
    await client.connect()
    try:
        await client.publish(subject, payload(-1, size), msg_id=f"{variant.name}-warm")  # creates the stream
        bytes0 = _in_bytes(srv)
        t0 = time.monotonic()
        await publish_all(
            client,
            subject,
            probe,
            count=lp.message_count,
            size=size,
            rate=lp.publish_rate,
            id_prefix=variant.name,
            payload=payload,
            ack_wait_s=_completion_timeout(lp.message_count),
        )
        pub_s = time.monotonic() - t0
        wire = _in_bytes(srv) - bytes0
    finally:
        await client.close()
    server = NatsServer(**opts, client_id="res-sub")
    await server.connect()
    try:
        t1 = time.monotonic()
        await server.subscribe(subject, probe.handler, consumer_name="res")
        want = set(range(lp.message_count))
        done = await wait_until(lambda: want <= probe.handled, _completion_timeout(lp.message_count))
        con_s = time.monotonic() - t1
        # acks go out as handlers return; wait for the last ones instead of a fixed pause
        await wait_until(lambda: server.stats["acked"] >= lp.message_count + 1, SETTLE_S * 4)
        acked = server.stats["acked"]
    finally:
        await server.stop()
    row = {
        "wire_bytes": wire,
        "publish_rate": len(probe.acked) / pub_s,
        "consume_rate": len(probe.handled) / con_s if done else None,
        "acks_sent": acked,
        "handled": len(probe.handled - {-1}),
    }
    return row, probe


@dataclass
class VariantRuns:
    """Every variant run `repeat` times, interleaved (the order rotates each round, so drift of a
    shared machine hits all variants alike); rates are medians with their min..max."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    streams: dict[str, list[str]] = field(default_factory=dict)
    lost: int = 0
    redelivered: int = 0
    runs: int = 0


async def _run_variants(
    matrix: Matrix, scenario: Scenario, srv: NatsProcess, payload_for: Callable[[Variant], Payload]
) -> VariantRuns:
    n = scenario.load_profile.message_count
    out = VariantRuns()
    raw: dict[str, list[dict[str, Any]]] = {v.name: [] for v in scenario.variants}
    k = len(scenario.variants)
    for r in range(scenario.repeat):
        for v in scenario.variants[r % k :] + scenario.variants[: r % k]:
            stream = f"{STREAM}_{v.name.upper()}_{r}"
            run_row, probe = await _publish_then_consume(matrix, scenario, srv, v, payload_for(v), stream)
            raw[v.name].append(run_row)
            out.streams.setdefault(v.name, []).append(stream)
            out.lost += n - len(probe.handled & set(range(n)))
            out.redelivered += probe.redeliveries
            out.runs += 1
    for v in scenario.variants:
        runs = raw[v.name]
        row: dict[str, Any] = {
            "variant": v.name,
            "settings": v.settings,
            "message_size": v.message_size or scenario.load_profile.message_size,
            "runs": len(runs),
            "messages_per_run": n,
            "wire_bytes_per_msg": median([x["wire_bytes"] for x in runs]) / n,
        }
        for key in ("publish_rate", "consume_rate"):
            vals = [x[key] for x in runs]
            row[key] = median(vals) if None not in vals else None
            row[f"{key}_range"] = f"{min(vals):,.0f}..{max(vals):,.0f}" if None not in vals else "n/a"
        row["acks_sent_per_run"] = min(x["acks_sent"] for x in runs)
        row["handled_per_run"] = min(x["handled"] for x in runs)
        out.rows.append(row)
    return out


async def run_compression_vs_batch_ack(matrix: Matrix, scenario: Scenario) -> ScenarioResult:
    result = _base_result(matrix, scenario, "none (variants compared side by side on one server)")
    n = scenario.load_profile.message_count
    with NatsProcess(name="res-compress") as srv:
        runs = await _run_variants(
            matrix, scenario, srv, lambda v: records if "enable_compression" in v.settings else padded
        )
    result.variants = runs.rows
    off = next(r for r in runs.rows if r["settings"].get("enable_compression") is False)
    ons = [r for r in runs.rows if r["settings"].get("enable_compression") is True]
    for r in runs.rows:
        if "enable_compression" in r["settings"]:
            r["saving_vs_off"] = 1 - r["wire_bytes_per_msg"] / off["wire_bytes_per_msg"]
    result.measured = {
        "message_loss": runs.lost / (n * runs.runs),
        "handler_redeliveries": runs.redelivered,
        "compression_saving": ons[0]["saving_vs_off"],
    }
    result.notes += [
        f"compression_saving is the first compression variant ({ons[0]['variant']}) against "
        f"{off['variant']}: nats-server /varz in_bytes while only the publisher is connected "
        "(payload, headers and protocol framing).",
        "Payloads: compression variants carry JSON sensor records (repeated keys and enum values, "
        "varying ids, timestamps and readings); the consume-batching variants carry padded JSON envelopes.",
        "Acks: the runtime acks every message explicitly as its handler returns (no AckAll); acks are "
        "pipelined (sent without waiting for a reply), so batch_size only sets how many messages one "
        "pull asks for and max_inflight/max_ack_pending how many handlers run at once. "
        "acks_sent_per_run counts them (N + 1 warm-up message).",
        "consume_rate = messages handled / time from subscribe() to the last one (the stream was "
        "filled first); medians over the runs, range min..max.",
    ]
    return result


# ---- storage: file vs memory --------------------------------------------------------------------


async def run_persistence_comparison(matrix: Matrix, scenario: Scenario) -> ScenarioResult:
    f = scenario.fault
    kill = f.kind == "broker_kill"
    how = "kill -9" if kill else "graceful stop (SIGTERM)"
    result = _base_result(
        matrix, scenario, f"once all runs are done: {how} of nats-server, {f.duration_s:g} s down, restart"
    )
    n = scenario.load_profile.message_count
    with NatsProcess(name="res-persist") as srv:
        runs = await _run_variants(matrix, scenario, srv, lambda v: padded)
        before = {
            name: [await stream_messages(srv.url, st) for st in sts] for name, sts in runs.streams.items()
        }
        await asyncio.to_thread(srv.kill if kill else srv.stop)
        await asyncio.sleep(f.duration_s)
        await asyncio.to_thread(srv.start)
        after = {
            name: [await stream_messages(srv.url, st) for st in sts] for name, sts in runs.streams.items()
        }
    for row, v in zip(runs.rows, scenario.variants, strict=True):
        row["storage"] = "file" if v.settings.get("durable", True) else "memory"
        row["stored_before_restart"] = sum(before[v.name])
        row["stored_after_restart"] = sum(after[v.name])
        row["retained"] = sum(after[v.name]) / sum(before[v.name]) if sum(before[v.name]) else None
    result.variants = runs.rows
    file_row = next(r for r in runs.rows if r["storage"] == "file")
    mem_row = next(r for r in runs.rows if r["storage"] == "memory")
    result.measured = {
        "message_loss": runs.lost / (n * runs.runs),
        "handler_redeliveries": runs.redelivered,
        "persistence_overhead": 1 - file_row["publish_rate"] / mem_row["publish_rate"],
        "consume_overhead": (
            1 - file_row["consume_rate"] / mem_row["consume_rate"]
            if file_row["consume_rate"] and mem_row["consume_rate"]
            else None
        ),
        "file_retained": file_row["retained"],
        "memory_retained": mem_row["retained"] or 0.0,
    }
    result.notes.append(
        "persistence_overhead = 1 - file / memory publish rate (publish_async as fast as backpressure "
        "allows, every PubAck waited for), consume_overhead likewise for consuming; medians over the "
        "interleaved runs. retained = messages in the variant's streams after the restart / before "
        "it (each stream also holds one warm-up message). The variants differ only in the adapter's "
        "`durable` option, which picks the stream storage (file/memory) and also makes the consumer "
        "durable or ephemeral. On a shared 2-core machine single runs vary by +-20 %; read the ranges."
    )
    return result


RUNNERS: dict[str, Callable[[Matrix, Scenario], Awaitable[ScenarioResult]]] = {
    "baseline_pubsub": run_baseline,
    "high_load_saturation": run_saturation,
    "broker_restart": run_broker_restart,
    "network_partition": run_network_partition,
    "duplicate_msg_id": run_duplicate_msg_id,
    "compression_vs_batch_ack": run_compression_vs_batch_ack,
    "persistence_comparison": run_persistence_comparison,
}


async def run_scenario(matrix: Matrix, scenario: Scenario) -> ScenarioResult:
    """Run one scenario (fresh servers) and judge its assertions."""
    t0 = time.monotonic()
    result = await RUNNERS[scenario.effective_kind](matrix, scenario)
    result.wall_s = time.monotonic() - t0
    result.rows = judge(result.measured, scenario.assertion_thresholds())
    return result
