"""NatsServer: a durable pull consumer that runs handlers with bounded concurrency.

Per subscription one fetch loop asks for at most ``min(batch_size, free slots)`` messages, where
slots = ``min(max_inflight, max_ack_pending)``, so a slow handler never makes messages pile up in
the client. Each message is acked after its handler returns, nak'ed with exponential delay when it
raises, kept alive with in_progress while the handler runs long, and after ``max_deliver`` failed
deliveries (or at once when the payload cannot be decoded, or does not fit the pydantic model the
handler's `data` is annotated with) published with its payload, headers and
the reason to the dead-letter subject and then terminated.

The loop survives broker restarts (nats.py #504): every fetch is a fresh pull request with an
expiry, an empty fetch re-checks that the consumer exists (a 409 "consumer deleted" looks like an
empty fetch), persistent errors and reconnects re-create the pull subscription, and a deleted
consumer (or stream, with create_stream) is re-created idempotently.

Replies: over JetStream a message's reply subject is the ack subject, so a handler's non-None
return value is sent (core NATS publish) to the subject in the message's ``Seam-Reply-To`` header
if the publisher set one; otherwise it is dropped. ``reply_to`` passed to the handler is that
header's value or None.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import signal
import time
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from adapter_runtime import codec, headers, payload
from adapter_runtime.connection import check_subject, open_connection
from adapter_runtime.delivery import Outcome, after_failure, nak_delay
from adapter_runtime.health import HealthServer
from adapter_runtime.metrics import NoopMetrics, make_metrics
from adapter_runtime.payload_models import PayloadModelError, payload_model, to_model
from adapter_runtime.settings import AdapterSettings
from adapter_runtime.streams import StreamKeeper, ensure_consumer
from adapter_runtime.subjects import durable_name_for

log = logging.getLogger("adapter_runtime")

Handler = Callable[..., Any]

_REBIND_AFTER_ERRORS = 3
# Pull requests expire after at most this long. A stop has to wait for outstanding requests to
# expire (or be filled) so that nothing they deliver is stranded until ack_wait; there is no way to
# cancel a pull request, and dropping the inbox early races with a delivery already under way.
# Short requests keep that wait short; idle they cost one request and one 408 a second, about what
# the idle heartbeats of a 5 s request cost.
_MAX_REQUEST_EXPIRY = 1.0
_ERROR_BACKOFF_MAX = 5.0
# per-consumer counters; the names are also metric keys (adapter_runtime.metrics.COUNTERS)
CONSUMER_COUNTS = ("consumed", "redelivered", "acked", "nak", "term", "dead_lettered")


class _Delivery:
    """One delivered message and whether it was settled (acked/nak'ed/termed) already."""

    __slots__ = ("delivered", "msg", "settled", "started")

    def __init__(self, msg: Msg) -> None:
        self.msg = msg
        self.settled = False
        self.started = 0.0
        self.delivered = _num_delivered(msg)


def _num_delivered(msg: Msg) -> int:
    """Delivery count from the ack subject ($JS.ACK.<stream>.<consumer>.<delivered>... or the
    12+ token form with domain and account hash); cheaper than building msg.metadata."""
    reply = msg.reply or ""
    tokens = reply.split(".")
    try:
        if len(tokens) == 9:
            return int(tokens[4])
        if len(tokens) >= 12:
            return int(tokens[6])
        return int(msg.metadata.num_delivered or 1)
    except Exception:
        return 1


class _Subscription:
    """One subject -> handler binding: its consumer, its pull inbox and its in-flight handlers."""

    def __init__(
        self,
        subject: str,
        full_subject: str,
        handler: Handler,
        consumer: str,
        filt: str,
        metrics: NoopMetrics,
    ) -> None:
        self.subject = subject
        self.full_subject = full_subject
        self.handler = handler
        self.is_async = inspect.iscoroutinefunction(handler)
        self.model = payload_model(handler)  # data: SomeModel -> validated into it, else None
        self.consumer = consumer
        self.filter = filt
        self.inbox = ""
        self.inbox_sub: Any = None
        self.next_subject = ""
        self.limit = 1  # concurrent messages: min(max_inflight, consumer's max_ack_pending)
        self.requested = 0  # asked for by pull requests and neither delivered nor expired yet
        self.last_heard = 0.0  # monotonic time of the last message/status on the inbox
        self.last_check = 0.0
        self.bound = False
        self.inflight: dict[asyncio.Task[None], _Delivery] = {}
        self.wake = asyncio.Event()
        self.loop_task: asyncio.Task[None] | None = None
        self.ticker: asyncio.Task[None] | None = None
        self.backlog = 0
        self.need_rebind = False
        # this consumer's counters (summed into NatsServer.stats, read by its metric series)
        self.counts = dict.fromkeys(CONSUMER_COUNTS, 0)
        self.rec = metrics.consumer(consumer, self.counts)  # its histograms, bound once


class NatsServer:
    """Consumer. ``NatsServer(**options)`` with AdapterSettings fields, or ``NatsServer.from_env()``."""

    def __init__(self, settings: AdapterSettings | None = None, /, **options: Any) -> None:
        self.settings = settings if settings is not None else AdapterSettings.from_options(**options)
        self.client_id = self.settings.effective_client_id
        self._own_counts = {"rebinds": 0, "reconnects": 0}
        self.metrics: NoopMetrics = make_metrics(self.settings, self._own_counts)
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self._keeper: StreamKeeper | None = None
        self._subs: list[_Subscription] = []
        self._stopping = asyncio.Event()
        self._drain_task: asyncio.Future[None] | None = None
        self._requests_settled = asyncio.Event()
        self._health: HealthServer | None = None
        self._backlog_task: asyncio.Task[None] | None = None
        self._used_configured_name = False

    @property
    def stats(self) -> dict[str, int]:
        """Totals over every subscription, plus rebinds and reconnects (a fresh dict each call)."""
        out = dict.fromkeys(CONSUMER_COUNTS, 0)
        for sub in self._subs:
            for key, n in sub.counts.items():
                out[key] += n
        out.update(self._own_counts)
        return out

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> NatsServer:
        return cls(AdapterSettings.from_env(env))

    # ---- lifecycle ----------------------------------------------------------------------------

    async def connect(self) -> None:
        s = self.settings
        self.nc = await open_connection(s, self.client_id, on_reconnect=self._on_reconnect)
        self.js = self.nc.jetstream(domain=s.js_domain)
        self._keeper = StreamKeeper(self.js, s)
        await self._keeper.ensure_dead_letter()
        self._backlog_task = asyncio.create_task(self._poll_backlog(), name="seam-backlog")
        self.metrics.add_backlog_source(self._backlog_observations)
        if s.health_port or s.metrics_port:
            self._health = HealthServer(s, ready=self.ready)
            await self._health.start()

    def ready(self) -> bool:
        """Connected and every subscription bound to its consumer."""
        connected = self.nc is not None and self.nc.is_connected
        return connected and not self._stopping.is_set() and all(sub.bound for sub in self._subs)

    async def subscribe(self, subject: str, handler: Handler, *, consumer_name: str | None = None) -> None:
        """Consume ``subject`` (subject_prefix is prepended) with ``handler(subject, data, reply_to=None)``.

        The consumer is ``consumer_name``, else the configured consumer_name (for the first
        subscription only), else a stable name derived from the subject. Handlers receive the
        subject without the prefix; sync handlers run in the default thread pool.
        """
        if self.nc is None or self.js is None or self._keeper is None:
            raise RuntimeError("call connect() before subscribe()")
        s = self.settings
        full = s.subject_prefix + subject
        name = consumer_name
        if name is None and s.consumer_name and not self._used_configured_name:
            name = s.consumer_name
            self._used_configured_name = True
        name = name or durable_name_for(full)
        if any(sub.consumer == name for sub in self._subs):
            raise ValueError(
                f"consumer {name!r} is already used by another subscription; pass consumer_name="
            )
        filt = s.filter_subject or full
        sub = _Subscription(subject, full, handler, name, filt, self.metrics)
        await self._keeper.ensure_covers(filt)
        await self._bind(sub)
        self._subs.append(sub)
        sub.loop_task = asyncio.create_task(self._pull_loop(sub), name=f"seam-pull-{name}")
        sub.ticker = asyncio.create_task(self._keep_alive(sub), name=f"seam-wpi-{name}")

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT or :meth:`stop`, then drain (see :meth:`stop`)."""
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self._signal_stop)
                installed.append(sig)
            except (NotImplementedError, RuntimeError):  # not the main thread
                pass
        try:
            await self._stopping.wait()
            await self._drain()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    def _signal_stop(self) -> None:
        log.info("signal received: draining")
        self._stopping.set()

    async def stop(self) -> None:
        """Stop fetching, let in-flight handlers finish within drain_grace_seconds, nak the rest,
        drain the connection. Safe to call more than once and with or without :meth:`run`."""
        self._stopping.set()
        await self._drain()

    close = stop

    async def __aenter__(self) -> NatsServer:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _drain(self) -> None:
        """Run the shutdown once; every caller (run() and stop()) waits for the same drain."""
        if self._drain_task is None:
            self._drain_task = asyncio.ensure_future(self._shutdown())
        await asyncio.shield(self._drain_task)

    async def _shutdown(self) -> None:
        s = self.settings
        grace = s.drain_grace_seconds
        for sub in self._subs:
            sub.wake.set()
            if sub.loop_task is not None:
                sub.loop_task.cancel()
        # outstanding pull requests expire within _MAX_REQUEST_EXPIRY (the server answers 408 then);
        # what they still deliver meanwhile is nak'ed at once
        start = time.monotonic()
        self._check_requests_settled()
        expiry = min(s.fetch_timeout, _MAX_REQUEST_EXPIRY)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._requests_settled.wait(), min(grace, expiry + 0.5))
        tasks = [t for sub in self._subs for t in sub.inflight]
        if tasks:
            remaining = max(0.0, grace - (time.monotonic() - start))
            _, late = await asyncio.wait(tasks, timeout=remaining)
            for sub in self._subs:
                for task, d in list(sub.inflight.items()):
                    if task in late and not d.settled:
                        await self._settle_nak(sub, d, 0)
                        task.cancel()
        for sub in self._subs:
            if sub.ticker is not None:
                sub.ticker.cancel()
        if self._backlog_task is not None:
            self._backlog_task.cancel()
        self.metrics.remove_backlog_source(self._backlog_observations)
        if self._health is not None:
            await self._health.stop()
        for sub in self._subs:
            sub.bound = False
            if sub.inbox_sub is not None:
                with contextlib.suppress(Exception):
                    await sub.inbox_sub.unsubscribe()
        if self.nc is not None and not self.nc.is_closed:
            try:
                await self.nc.drain()
            except Exception as exc:
                log.debug("drain: %s", exc)

    # ---- binding ------------------------------------------------------------------------------

    async def _bind(self, sub: _Subscription) -> None:
        """(Re)create the consumer if missing and a fresh pull inbox for it."""
        assert self.js is not None and self.nc is not None
        s = self.settings
        info = await ensure_consumer(self.js, s, sub.consumer, sub.filter)
        server_cap = info.config.max_ack_pending
        sub.limit = (
            min(s.effective_inflight, server_cap) if server_cap and server_cap > 0 else s.effective_inflight
        )
        old = sub.inbox_sub
        sub.inbox = self.nc.new_inbox()
        sub.inbox_sub = await self.nc.subscribe(
            sub.inbox,
            cb=functools.partial(self._on_delivery, sub),
            pending_msgs_limit=s.pending_msgs_limit,
            pending_bytes_limit=s.pending_bytes_limit,
        )
        api_prefix = f"$JS.{s.js_domain}.API" if s.js_domain else "$JS.API"
        sub.next_subject = f"{api_prefix}.CONSUMER.MSG.NEXT.{s.stream_name}.{sub.consumer}"
        sub.requested = 0
        sub.last_heard = sub.last_check = time.monotonic()
        sub.bound = True
        sub.need_rebind = False
        if old is not None:
            with contextlib.suppress(Exception):
                await old.unsubscribe()

    async def _rebind(self, sub: _Subscription, why: str) -> None:
        assert self._keeper is not None
        sub.bound = False
        self._own_counts["rebinds"] += 1
        log.warning("re-binding consumer %s: %s", sub.consumer, why)
        if self.settings.create_stream:
            await self._keeper.ensure_covers(sub.filter)
        await self._bind(sub)

    async def _consumer_exists(self, sub: _Subscription) -> bool:
        assert self.js is not None
        sub.last_check = time.monotonic()
        try:
            info = await self.js.consumer_info(self.settings.stream_name, sub.consumer)
        except NotFoundError:
            return False
        sub.backlog = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        return True

    async def _on_reconnect(self) -> None:
        self._own_counts["reconnects"] += 1
        for sub in self._subs:
            sub.need_rebind = True  # pull requests died with the old connection
            sub.wake.set()

    # ---- pulling ------------------------------------------------------------------------------

    async def _pull_loop(self, sub: _Subscription) -> None:
        """Keep pull requests outstanding for exactly the free handler slots.

        Requests expire after min(fetch_timeout, 1 s), so the server answers (message or 408) at
        least that often; silence for 2 x fetch_timeout + 1 s means the requests were lost (broker
        restart, #504) and the inbox and consumer are re-created. A consumer deleted out of band
        answers 409 or is noticed by the idle consumer check and re-created.
        """
        s = self.settings
        errors = 0
        silence = 2 * s.fetch_timeout + 1.0
        while not self._stopping.is_set():
            try:
                now = time.monotonic()
                if sub.need_rebind:
                    await self._rebind(sub, "reconnected or consumer gone")
                elif sub.requested > 0 and now - sub.last_heard > silence:
                    await self._rebind(sub, f"no answer to pull requests for {now - sub.last_heard:.1f}s")
                elif now - sub.last_check > s.fetch_timeout and now - sub.last_heard > s.fetch_timeout:
                    # idle: a 409 "consumer deleted" may have been missed while disconnected
                    if not await self._consumer_exists(sub):
                        await self._rebind(sub, "consumer not found")
                free = sub.limit - len(sub.inflight) - sub.requested
                want = min(s.batch_size, free)
                # ask in chunks (half a batch at least) unless nothing at all is outstanding
                if want > 0 and (sub.requested == 0 or want >= max(1, min(s.batch_size, sub.limit) // 2)):
                    await self._request(sub, want)
                errors = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                errors += 1
                log.warning("pull loop of %s failed (%d in a row): %r", sub.consumer, errors, exc)
                if errors >= _REBIND_AFTER_ERRORS:
                    sub.need_rebind = True
                await self._backoff(errors)
                continue
            sub.wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(sub.wake.wait(), s.fetch_timeout / 2)

    async def _request(self, sub: _Subscription, n: int) -> None:
        assert self.nc is not None
        s = self.settings
        expiry = min(s.fetch_timeout, _MAX_REQUEST_EXPIRY)
        req: dict[str, Any] = {"batch": n, "expires": int(expiry * 1e9)}
        sub.requested += n
        if sub.requested == n:
            sub.last_heard = time.monotonic()  # the silence clock starts with the first request
        await self.nc.publish(sub.next_subject, json.dumps(req).encode(), reply=sub.inbox)

    async def _on_delivery(self, sub: _Subscription, msg: Msg) -> None:
        """Inbox callback: status messages adjust the request count, messages start handlers."""
        sub.last_heard = time.monotonic()
        status = msg.headers.get("Status") if msg.headers else None
        if status:
            self._on_status(sub, status, msg.headers or {})
            return
        sub.requested = max(0, sub.requested - 1)
        if self._stopping.is_set():
            # arrived during shutdown: hand back at once instead of waiting out ack_wait
            with contextlib.suppress(Exception):
                await msg.nak()
            sub.counts["nak"] += 1
            self._check_requests_settled()
            return
        d = _Delivery(msg)
        task = asyncio.create_task(self._handle(sub, d))
        sub.inflight[task] = d
        task.add_done_callback(functools.partial(self._done, sub))

    def _on_status(self, sub: _Subscription, status: str, hdrs: dict[str, str]) -> None:
        if status == "100":  # idle heartbeat: the server still holds our requests
            return
        pending = hdrs.get("Nats-Pending-Messages")
        if pending and pending.isdigit():
            sub.requested = max(0, sub.requested - int(pending))
        else:
            sub.requested = 0
        desc = hdrs.get("Description", "").lower()
        if status == "409" and ("deleted" in desc or "not found" in desc):
            sub.need_rebind = True
        elif status not in ("404", "408", "409"):
            log.warning("pull status %s on %s: %s", status, sub.consumer, hdrs.get("Description"))
        sub.wake.set()
        self._check_requests_settled()

    def _check_requests_settled(self) -> None:
        if self._stopping.is_set() and all(sub.requested <= 0 for sub in self._subs):
            self._requests_settled.set()

    def _done(self, sub: _Subscription, task: asyncio.Task[None]) -> None:
        sub.inflight.pop(task, None)
        sub.wake.set()

    async def _backoff(self, errors: int) -> None:
        delay = min(0.1 * 2 ** min(errors, 10), _ERROR_BACKOFF_MAX)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    # ---- handling -----------------------------------------------------------------------------

    async def _handle(self, sub: _Subscription, d: _Delivery) -> None:
        msg = d.msg
        s = self.settings
        consumer = sub.consumer
        delivered = d.delivered
        counts = sub.counts
        counts["consumed"] += 1
        if delivered > 1:
            counts["redelivered"] += 1
        hdrs = msg.headers or {}
        try:
            raw = codec.decompress(msg.data, hdrs.get(headers.ENCODING))
            data = payload.decode(raw, hdrs.get(headers.CONTENT_TYPE))
        except (codec.UnknownEncodingError, codec.CorruptPayloadError, payload.PayloadError) as exc:
            await self._dead_letter(sub, d, f"undecodable payload: {exc}", delivered)
            return
        if sub.model is not None:
            try:
                data = to_model(sub.model, data)
            except PayloadModelError as exc:  # redelivery cannot fix it: dead-letter at once
                await self._dead_letter(sub, d, str(exc), delivered)
                return
        if delivered > s.max_deliver:
            # an earlier attempt died mid-handler (crash, drain); do not run it yet another time
            await self._dead_letter(
                sub, d, f"delivered {delivered} times, max_deliver is {s.max_deliver}", delivered
            )
            return
        reply_to = hdrs.get(headers.REPLY_TO)
        subject = msg.subject[len(s.subject_prefix) :] if s.subject_prefix else msg.subject
        started = d.started = time.perf_counter()
        try:
            if sub.is_async:
                result = await sub.handler(subject, data, reply_to)
            else:
                result = await asyncio.to_thread(sub.handler, subject, data, reply_to)
                if inspect.isawaitable(result):
                    result = await result
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            sub.rec.failed((time.perf_counter() - started) * 1000.0)
            if after_failure(delivered, s.max_deliver) is Outcome.NAK:
                log.info("handler failed on %s (delivery %d): %r", consumer, delivered, exc)
                await self._settle_nak(sub, d, nak_delay(delivered, s.nak_delay, s.nak_delay_max))
            else:
                reason = (
                    f"handler failed on delivery {delivered} of {s.max_deliver}: {type(exc).__name__}: {exc}"
                )
                await self._dead_letter(sub, d, reason, delivered)
            return
        now_ns = time.time_ns()
        handler_ms = (time.perf_counter() - started) * 1000.0
        published_at = hdrs.get(headers.PUBLISHED_AT)
        e2e_ms = (now_ns - int(published_at)) / 1e6 if published_at and published_at.isdigit() else None
        if result is not None and reply_to:
            await self._reply(reply_to, result)
        if not d.settled:
            d.settled = True
            try:
                await msg.ack()
                counts["acked"] += 1
            except Exception as exc:  # redelivered after ack_wait: at-least-once
                log.warning("ack failed on %s: %s", consumer, exc)
        sub.rec.handled(handler_ms, e2e_ms)

    async def _keep_alive(self, sub: _Subscription) -> None:
        """Tell the server long handlers are still working so ack_wait does not expire.

        One ticker per subscription (not a task per message): every ack_wait/3 each handler
        running longer than that gets an in_progress (+WPI), which restarts its ack_wait.
        """
        interval = max(self.settings.ack_wait / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            now = time.perf_counter()
            for d in list(sub.inflight.values()):
                if not d.settled and d.started and now - d.started >= interval:
                    with contextlib.suppress(Exception):
                        await d.msg.in_progress()

    async def _reply(self, subject: str, result: Any) -> None:
        assert self.nc is not None
        try:
            raw, ctype = payload.encode(result)
            await self.nc.publish(check_subject(subject), raw, headers={headers.CONTENT_TYPE: ctype})
        except Exception as exc:
            log.warning("reply to %s failed: %s", subject, exc)

    async def _settle_nak(self, sub: _Subscription, d: _Delivery, delay: float) -> None:
        d.settled = True
        try:
            await d.msg.nak(delay=delay or None)
        except Exception as exc:
            log.warning("nak failed on %s: %s", sub.consumer, exc)
            return
        sub.counts["nak"] += 1

    async def _dead_letter(self, sub: _Subscription, d: _Delivery, reason: str, delivered: int) -> None:
        """Publish the message as-is (payload and headers) plus why, to the dead-letter subject; then term.

        If the dead-letter publish fails the message is nak'ed instead, so it is never lost.
        """
        assert self.js is not None
        s = self.settings
        msg = d.msg
        try:
            seq = str(msg.metadata.sequence.stream)
        except Exception:
            seq = ""
        hdrs = dict(msg.headers or {})
        hdrs.update(
            {
                headers.DLQ_REASON: reason.replace("\r", " ").replace("\n", " ")[:1024],
                headers.DLQ_SUBJECT: msg.subject,
                headers.DLQ_STREAM: s.stream_name,
                headers.DLQ_STREAM_SEQ: seq,
                headers.DLQ_CONSUMER: sub.consumer,
                headers.DLQ_DELIVERIES: str(delivered),
                headers.MSG_ID: f"dlq-{s.stream_name}-{seq or hdrs.get(headers.MSG_ID, '')}",
            }
        )
        d.settled = True
        try:
            await self.js.publish(
                s.effective_dead_letter_subject, msg.data, timeout=s.publish_ack_timeout, headers=hdrs
            )
        except Exception as exc:
            log.error(
                "dead-letter publish to %s failed (%s); nak instead", s.effective_dead_letter_subject, exc
            )
            await self._settle_nak(sub, d, nak_delay(delivered, s.nak_delay, s.nak_delay_max))
            return
        log.warning("dead-lettered %s seq %s: %s", msg.subject, seq, reason)
        with contextlib.suppress(Exception):
            await msg.term()
        sub.counts["dead_lettered"] += 1
        sub.counts["term"] += 1

    # ---- backlog ------------------------------------------------------------------------------

    async def _poll_backlog(self) -> None:
        """num_pending + num_ack_pending per consumer, polled (not per message) for the gauge."""
        while True:
            await asyncio.sleep(self.settings.backlog_poll_interval)
            for sub in list(self._subs):
                with contextlib.suppress(Exception):
                    await self._consumer_exists(sub)

    def _backlog_observations(self) -> list[tuple[int, dict[str, str]]]:
        out = []
        for sub in self._subs:
            attrs = self.metrics.attrs(sub.consumer)
            if attrs is not None:
                out.append((sub.backlog, attrs))
        return out
