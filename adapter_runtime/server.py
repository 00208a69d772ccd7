"""NatsServer: a durable pull consumer that runs handlers with bounded concurrency.

Per subscription one fetch loop asks for at most ``min(batch_size, free slots)`` messages, where
slots = ``min(max_inflight, max_ack_pending)``, so a slow handler never makes messages pile up in
the client. Each message is acked after its handler returns, nak'ed with exponential delay when it
raises, kept alive with in_progress while the handler runs long, and after ``max_deliver`` failed
deliveries (or at once when the payload cannot be decoded) published with its payload, headers and
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
import inspect
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from adapter_runtime import codec, headers, payload
from adapter_runtime.connection import open_connection
from adapter_runtime.delivery import Outcome, after_failure, nak_delay
from adapter_runtime.health import HealthServer
from adapter_runtime.metrics import NoopMetrics, make_metrics
from adapter_runtime.settings import AdapterSettings
from adapter_runtime.streams import StreamKeeper, StreamSetupError, ensure_consumer
from adapter_runtime.subjects import durable_name_for

log = logging.getLogger("adapter_runtime")

Handler = Callable[..., Any]

_REBIND_AFTER_ERRORS = 3
_ERROR_BACKOFF_MAX = 5.0


class _Delivery:
    """One delivered message and whether it was settled (acked/nak'ed/termed) already."""

    __slots__ = ("msg", "settled")

    def __init__(self, msg: Msg) -> None:
        self.msg = msg
        self.settled = False


class _Subscription:
    def __init__(self, subject: str, full_subject: str, handler: Handler, consumer: str, filt: str) -> None:
        self.subject = subject
        self.full_subject = full_subject
        self.handler = handler
        self.is_async = inspect.iscoroutinefunction(handler)
        self.consumer = consumer
        self.filter = filt
        self.psub: JetStreamContext.PullSubscription | None = None
        self.bound = False
        self.inflight: dict[asyncio.Task[None], _Delivery] = {}
        self.slot_freed = asyncio.Event()
        self.loop_task: asyncio.Task[None] | None = None
        self.backlog = 0
        self.need_rebind = False


class NatsServer:
    """Consumer. ``NatsServer(**options)`` with AdapterSettings fields, or ``NatsServer.from_env()``."""

    def __init__(self, settings: AdapterSettings | None = None, /, **options: Any) -> None:
        self.settings = settings if settings is not None else AdapterSettings.from_options(**options)
        self.client_id = self.settings.effective_client_id
        self.metrics: NoopMetrics = make_metrics(self.settings)
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self._keeper: StreamKeeper | None = None
        self._subs: list[_Subscription] = []
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._health: HealthServer | None = None
        self._backlog_task: asyncio.Task[None] | None = None
        self._used_configured_name = False
        self.stats = {
            "consumed": 0,
            "acked": 0,
            "nak": 0,
            "term": 0,
            "dead_lettered": 0,
            "redelivered": 0,
            "rebinds": 0,
            "reconnects": 0,
        }

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
        sub = _Subscription(subject, full, handler, name, filt)
        await self._keeper.ensure_covers(filt)
        await self._bind(sub)
        self._subs.append(sub)
        sub.loop_task = asyncio.create_task(self._fetch_loop(sub), name=f"seam-fetch-{name}")

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
        if self._stopped.is_set():
            return
        self._stopped.set()
        grace = self.settings.drain_grace_seconds
        for sub in self._subs:
            sub.slot_freed.set()
        loops = [sub.loop_task for sub in self._subs if sub.loop_task is not None]
        if loops:
            # a fetch in progress returns within fetch_timeout; its messages are nak'ed by the loop
            _, pending = await asyncio.wait(loops, timeout=min(grace, self.settings.fetch_timeout) + 1)
            for task in pending:
                task.cancel()
        tasks = [t for sub in self._subs for t in sub.inflight]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for sub in self._subs:
                for task, d in list(sub.inflight.items()):
                    if task in late and not d.settled:
                        d.settled = True
                        await self._settle_nak(sub, d, 0)
                        task.cancel()
        if self._backlog_task is not None:
            self._backlog_task.cancel()
        self.metrics.remove_backlog_source(self._backlog_observations)
        if self._health is not None:
            await self._health.stop()
        for sub in self._subs:
            sub.bound = False
            if sub.psub is not None:
                # unread status messages in a pull inbox would make drain wait for its full timeout
                with contextlib.suppress(Exception):
                    await sub.psub.unsubscribe()
        if self.nc is not None and not self.nc.is_closed:
            try:
                await self.nc.drain()
            except Exception as exc:
                log.debug("drain: %s", exc)

    # ---- binding ------------------------------------------------------------------------------

    async def _bind(self, sub: _Subscription) -> None:
        """(Re)create the consumer if missing and a fresh pull subscription on it."""
        assert self.js is not None
        s = self.settings
        await ensure_consumer(self.js, s, sub.consumer, sub.filter)
        old = sub.psub
        sub.psub = await self.js.pull_subscribe_bind(
            durable=sub.consumer,
            stream=s.stream_name,
            pending_msgs_limit=s.pending_msgs_limit,
            pending_bytes_limit=s.pending_bytes_limit,
        )
        sub.bound = True
        sub.need_rebind = False
        if old is not None:
            with contextlib.suppress(Exception):
                await old.unsubscribe()

    async def _rebind(self, sub: _Subscription, why: str) -> None:
        assert self._keeper is not None
        sub.bound = False
        self.stats["rebinds"] += 1
        log.warning("re-binding consumer %s: %s", sub.consumer, why)
        if self.settings.create_stream:
            await self._keeper.ensure_covers(sub.filter)
        await self._bind(sub)

    async def _consumer_exists(self, sub: _Subscription) -> bool:
        assert self.js is not None
        try:
            info = await self.js.consumer_info(self.settings.stream_name, sub.consumer)
        except NotFoundError:
            return False
        sub.backlog = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        return True

    async def _on_reconnect(self) -> None:
        self.stats["reconnects"] += 1
        self.metrics.reconnect()
        for sub in self._subs:
            sub.need_rebind = True

    # ---- fetching -----------------------------------------------------------------------------

    def _free_slots(self, sub: _Subscription) -> int:
        return self.settings.effective_inflight - len(sub.inflight)

    async def _fetch_loop(self, sub: _Subscription) -> None:
        s = self.settings
        errors = 0
        while not self._stopping.is_set():
            free = self._free_slots(sub)
            if free <= 0:
                sub.slot_freed.clear()
                await sub.slot_freed.wait()
                continue
            try:
                if sub.need_rebind or sub.psub is None:
                    await self._rebind(sub, "reconnected")
                assert sub.psub is not None
                msgs = await sub.psub.fetch(min(s.batch_size, free), timeout=s.fetch_timeout)
            except (TimeoutError, nats.errors.TimeoutError):
                errors = 0
                # an empty fetch may hide a deleted consumer (409): check it is still there
                try:
                    if not await self._consumer_exists(sub):
                        await self._rebind(sub, "consumer not found")
                except Exception as exc:
                    errors += 1
                    log.warning("consumer check for %s failed: %s", sub.consumer, exc)
                continue
            except asyncio.CancelledError:
                raise
            except StreamSetupError as exc:
                errors += 1
                log.error("%s", exc)
                await self._backoff(errors)
                continue
            except Exception as exc:
                errors += 1
                log.warning("fetch on %s failed (%d in a row): %r", sub.consumer, errors, exc)
                if errors >= _REBIND_AFTER_ERRORS or _looks_deleted(exc):
                    sub.need_rebind = True
                await self._backoff(errors)
                continue
            errors = 0
            if self._stopping.is_set():
                # fetched while shutting down: hand back at once instead of waiting for ack_wait
                for msg in msgs:
                    with contextlib.suppress(Exception):
                        await msg.nak()
                    self.stats["nak"] += 1
                break
            for msg in msgs:
                d = _Delivery(msg)
                task = asyncio.create_task(self._handle(sub, d))
                sub.inflight[task] = d
                task.add_done_callback(lambda t, sub=sub: self._done(sub, t))

    def _done(self, sub: _Subscription, task: asyncio.Task[None]) -> None:
        sub.inflight.pop(task, None)
        sub.slot_freed.set()

    async def _backoff(self, errors: int) -> None:
        delay = min(0.1 * 2 ** min(errors, 10), _ERROR_BACKOFF_MAX)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    # ---- handling -----------------------------------------------------------------------------

    async def _handle(self, sub: _Subscription, d: _Delivery) -> None:
        msg = d.msg
        s = self.settings
        consumer = sub.consumer
        try:
            md = msg.metadata
            delivered = int(md.num_delivered or 1)
        except Exception:
            delivered = 1
        self.stats["consumed"] += 1
        if delivered > 1:
            self.stats["redelivered"] += 1
        self.metrics.consumed(consumer, delivered > 1)
        hdrs = msg.headers or {}
        try:
            raw = codec.decompress(msg.data, hdrs.get(headers.ENCODING))
            data = payload.decode(raw, hdrs.get(headers.CONTENT_TYPE))
        except (codec.UnknownEncodingError, codec.CorruptPayloadError, payload.PayloadError) as exc:
            await self._dead_letter(sub, d, f"undecodable payload: {exc}", delivered)
            return
        if delivered > s.max_deliver:
            # an earlier attempt died mid-handler (crash, drain); do not run it yet another time
            await self._dead_letter(
                sub, d, f"delivered {delivered} times, max_deliver is {s.max_deliver}", delivered
            )
            return
        reply_to = hdrs.get(headers.REPLY_TO)
        subject = msg.subject[len(s.subject_prefix) :] if s.subject_prefix else msg.subject
        keepalive = asyncio.create_task(self._keep_alive(d))
        started = time.perf_counter()
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
            keepalive.cancel()
            self.metrics.handler_duration(consumer, (time.perf_counter() - started) * 1000.0)
            if after_failure(delivered, s.max_deliver) is Outcome.NAK:
                log.info("handler failed on %s (delivery %d): %r", consumer, delivered, exc)
                await self._settle_nak(sub, d, nak_delay(delivered, s.nak_delay, s.nak_delay_max))
            else:
                reason = (
                    f"handler failed on delivery {delivered} of {s.max_deliver}: {type(exc).__name__}: {exc}"
                )
                await self._dead_letter(sub, d, reason, delivered)
            return
        finally:
            keepalive.cancel()
        now_ns = time.time_ns()
        self.metrics.handler_duration(consumer, (time.perf_counter() - started) * 1000.0)
        published_at = hdrs.get(headers.PUBLISHED_AT)
        if published_at and published_at.isdigit():
            self.metrics.e2e_latency(consumer, (now_ns - int(published_at)) / 1e6)
        if result is not None and reply_to:
            await self._reply(reply_to, result)
        if d.settled:
            return
        d.settled = True
        try:
            await msg.ack()
        except Exception as exc:  # redelivered after ack_wait: at-least-once
            log.warning("ack failed on %s: %s", consumer, exc)
            return
        self.stats["acked"] += 1
        self.metrics.outcome(consumer, "acked")

    async def _keep_alive(self, d: _Delivery) -> None:
        """Tell the server a long handler is still working so ack_wait does not expire."""
        interval = max(self.settings.ack_wait / 3, 0.05)
        while not d.settled:
            await asyncio.sleep(interval)
            if d.settled:
                return
            with contextlib.suppress(Exception):
                await d.msg.in_progress()

    async def _reply(self, subject: str, result: Any) -> None:
        assert self.nc is not None
        try:
            raw, ctype = payload.encode(result)
            await self.nc.publish(subject, raw, headers={headers.CONTENT_TYPE: ctype})
        except Exception as exc:
            log.warning("reply to %s failed: %s", subject, exc)

    async def _settle_nak(self, sub: _Subscription, d: _Delivery, delay: float) -> None:
        d.settled = True
        try:
            await d.msg.nak(delay=delay or None)
        except Exception as exc:
            log.warning("nak failed on %s: %s", sub.consumer, exc)
            return
        self.stats["nak"] += 1
        self.metrics.outcome(sub.consumer, "nak")

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
        self.stats["dead_lettered"] += 1
        self.stats["term"] += 1
        self.metrics.outcome(sub.consumer, "dead_lettered")
        self.metrics.outcome(sub.consumer, "term")

    # ---- backlog ------------------------------------------------------------------------------

    async def _poll_backlog(self) -> None:
        """num_pending + num_ack_pending per consumer, polled (not per message) for the gauge."""
        while True:
            await asyncio.sleep(self.settings.backlog_poll_interval)
            for sub in list(self._subs):
                with contextlib.suppress(Exception):
                    await self._consumer_exists(sub)

    def _backlog_observations(self) -> list[tuple[int, dict[str, str]]]:
        attrs = getattr(self.metrics, "attrs", None)
        if attrs is None:
            return []
        return [(sub.backlog, attrs(sub.consumer)) for sub in self._subs]


def _looks_deleted(exc: Exception) -> bool:
    text = str(exc).lower()
    return "consumer deleted" in text or "consumer not found" in text or "409" in text


async def serve(settings: AdapterSettings, routes: dict[str, Callable[..., Awaitable[Any]]]) -> None:
    """Connect, subscribe every subject -> handler and run until a signal (helper for entrypoints)."""
    server = NatsServer(settings)
    await server.connect()
    for subject, handler in routes.items():
        await server.subscribe(subject, handler)
    await server.run()
