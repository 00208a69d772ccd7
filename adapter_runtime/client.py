"""NatsClient: publish to JetStream and wait for the PubAck, pipelined and bounded.

Every message carries a ``Nats-Msg-Id``: the caller's ``msg_id`` if given (use a business key so
a re-publish after a crash is de-duplicated by the stream), else ``<client_id>-<boot>-<n>``
generated once per logical message and reused for every retry of it. A PubAck that does not
arrive within ``publish_ack_timeout`` triggers a resend with the same id (the stream drops the
copy within its duplicate window), up to ``publish_retries`` resends.

All publishes, including :meth:`publish`, go through one pipeline: a shared reply inbox, a map of
outstanding messages bounded by ``max_outstanding`` (callers wait for a free slot) and a timer
heap that resends or fails overdue messages. No future can hang: each is bounded by the retry
budget (nats.py #985).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import os
import time
from collections import deque
from typing import Any, NamedTuple

from nats.aio.client import Client
from nats.aio.msg import Msg

from adapter_runtime import codec, headers, payload, wire
from adapter_runtime import headers as hdr
from adapter_runtime.connection import check_subject, open_connection
from adapter_runtime.health import HealthServer
from adapter_runtime.metrics import NoopMetrics, make_metrics
from adapter_runtime.settings import AdapterSettings
from adapter_runtime.streams import StreamKeeper, StreamSetupError

log = logging.getLogger("adapter_runtime")

_RETRY_DELAY_MIN = 0.05
_RETRY_DELAY_MAX = 2.0


class PublishAck(NamedTuple):
    """The stream's acknowledgement: where the message is stored and whether it was a duplicate."""

    stream: str
    seq: int
    duplicate: bool = False
    domain: str | None = None


class PublishError(Exception):
    """The stream rejected the message (reason from the server) or it could not be sent."""


class PublishTimeoutError(PublishError, TimeoutError):
    """No PubAck after every retry."""


class _Pending:
    __slots__ = (
        "attempts",
        "block",
        "future",
        "gen",
        "hdrs",
        "key",
        "msg_id",
        "payload",
        "sent_at",
        "started",
        "subject",
    )

    def __init__(
        self,
        key: str,
        subject: str,
        data: bytes,
        hdrs: dict[str, str],
        msg_id: str,
        future: asyncio.Future[PublishAck],
    ) -> None:
        self.key = key
        self.subject = subject
        self.payload = data
        self.hdrs = hdrs
        self.msg_id = msg_id
        self.future = future
        self.attempts = 0
        self.block = b""  # HPUB header block, built once at the first send and reused by retries
        self.gen = 0
        self.started = 0.0
        self.sent_at = 0.0


class NatsClient:
    """Publisher. ``NatsClient(**options)`` with AdapterSettings fields, or ``NatsClient.from_env()``."""

    def __init__(self, settings: AdapterSettings | None = None, /, **options: Any) -> None:
        self.settings = settings if settings is not None else AdapterSettings.from_options(**options)
        s = self.settings
        self.client_id = s.effective_client_id
        self.nc: Client | None = None
        self._keeper: StreamKeeper | None = None
        self._health: HealthServer | None = None
        self._pending: dict[str, _Pending] = {}
        self._slots = asyncio.Semaphore(s.max_outstanding)
        self._idle = asyncio.Event()
        self._idle.set()
        # ack timeouts all have the same length, so a deque stays ordered; retry delays vary: heap
        self._ack_timers: deque[tuple[float, int, _Pending]] = deque()
        self._timers: list[tuple[float, int, int, _Pending]] = []
        self._timer_seq = itertools.count()
        self._ids = itertools.count(1)  # logical message number in generated msg ids
        self._keyseq = itertools.count(1)  # reply-inbox token per outstanding message
        self._boot = os.urandom(4).hex()
        self._id_prefix = f"{self.client_id}-{self._boot}-"
        self._inbox = ""
        self._sweeper: asyncio.Task[None] | None = None
        self._stream_fix: asyncio.Task[None] | None = None
        self._disconnected_at = 0.0
        self._closed = False
        self.stats = {"published": 0, "duplicates": 0, "retries": 0, "errors": 0, "reconnects": 0}
        self.metrics: NoopMetrics = make_metrics(s, self.stats)  # its counters are these stats
        self.max_outstanding_seen = 0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> NatsClient:
        return cls(AdapterSettings.from_env(env))

    # ---- lifecycle ----------------------------------------------------------------------------

    async def connect(self) -> None:
        s = self.settings
        self.nc = await open_connection(
            s,
            self.client_id,
            on_disconnect=self._on_disconnect,
            on_reconnect=self._on_reconnect,
        )
        js = self.nc.jetstream(domain=s.js_domain)
        self._keeper = StreamKeeper(js, s)
        self._inbox = self.nc.new_inbox()
        await self.nc.subscribe(
            self._inbox + ".*",
            cb=self._handle_ack,
            pending_msgs_limit=s.max_outstanding + 1024,
            pending_bytes_limit=-1,
        )
        self._sweeper = asyncio.create_task(self._sweep(), name="seam-publish-timers")
        if s.health_port or s.metrics_port:
            self._health = HealthServer(s, ready=self._ready)
            await self._health.start()

    def _ready(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def flush(self) -> None:
        """Wait until every outstanding publish is acknowledged or has failed (bound it with
        ``asyncio.timeout`` if needed; each message is already bounded by the retry budget)."""
        await self._idle.wait()

    async def close(self) -> None:
        """Wait for outstanding acks (bounded by the retry budget), then drain the connection."""
        if self._closed:
            return
        try:
            if self.nc is not None and not self.nc.is_closed:
                await self.flush()
        finally:
            self._closed = True
            self._idle.set()
            for task in (self._sweeper, self._stream_fix):
                if task is not None:
                    task.cancel()
            for p in list(self._pending.values()):
                self._fail(p, PublishError("client closed before the PubAck arrived"))
            if self._health is not None:
                await self._health.stop()
            if self.nc is not None and not self.nc.is_closed:
                try:
                    await self.nc.drain()
                except Exception as exc:  # closing a broken connection must not raise
                    log.debug("drain on close: %s", exc)

    async def __aenter__(self) -> NatsClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def outstanding(self) -> int:
        """Messages sent (or waiting to be resent) whose PubAck has not arrived yet."""
        return len(self._pending)

    # ---- publishing ---------------------------------------------------------------------------

    def _prepare(
        self, subject: str, data: Any, msg_id: str | None, extra: dict[str, str] | None
    ) -> tuple[str, bytes, dict[str, str], str]:
        s = self.settings
        raw, ctype = payload.encode(data)
        hdrs: dict[str, str] = dict(extra) if extra else {}
        try:
            # checked once here, so every send can frame the headers without re-checking them
            if extra:
                wire.check_headers(extra)
            if msg_id is not None:
                wire.check_header(headers.MSG_ID, msg_id)
        except wire.HeaderError as exc:
            raise PublishError(str(exc)) from None
        if s.enable_compression:
            raw, enc = codec.compress(raw, s.compression_codec, s.min_compress_size)
            if enc:
                hdrs[headers.ENCODING] = enc
        mid = msg_id or f"{self._id_prefix}{next(self._ids)}"
        hdrs[headers.MSG_ID] = mid
        hdrs[headers.CONTENT_TYPE] = ctype
        hdrs[headers.PUBLISHED_AT] = str(time.time_ns())
        full = s.subject_prefix + subject
        check_subject(full)
        return full, raw, hdrs, mid

    async def publish_async(
        self,
        subject: str,
        data: Any,
        *,
        msg_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> asyncio.Future[PublishAck]:
        """Send without waiting for the PubAck; await the returned future for it.

        Waits (backpressure) while ``max_outstanding`` messages are unacknowledged.
        """
        if self.nc is None or self._closed:
            raise PublishError("client is not connected (call connect() first)")
        full, raw, hdrs, mid = self._prepare(subject, data, msg_id, headers)
        await self._slots.acquire()
        fut: asyncio.Future[PublishAck] = asyncio.get_running_loop().create_future()
        key = f"{next(self._keyseq):x}"
        p = _Pending(key, full, raw, hdrs, mid, fut)
        self._pending[key] = p
        if len(self._pending) > self.max_outstanding_seen:
            self.max_outstanding_seen = len(self._pending)
        self._idle.clear()
        await self._send(p)
        return fut

    async def publish(
        self,
        subject: str,
        data: Any,
        *,
        msg_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> PublishAck:
        """Publish and wait until the stream has stored the message."""
        fut = await self.publish_async(subject, data, msg_id=msg_id, headers=headers)
        return await fut

    async def request(
        self,
        subject: str,
        data: Any,
        *,
        reply_timeout: float = 30.0,
        msg_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Publish durably with a ``Seam-Reply-To`` inbox and wait for the handler's return value.

        Raises TimeoutError when no reply arrives within ``reply_timeout`` (the message itself stays in
        the stream and is still processed).
        """
        assert self.nc is not None
        inbox = self.nc.new_inbox()
        sub = await self.nc.subscribe(inbox, max_msgs=1)
        try:
            await self.publish(subject, data, msg_id=msg_id, headers={**(headers or {}), hdr.REPLY_TO: inbox})
            reply = await sub.next_msg(timeout=reply_timeout)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        return payload.decode(reply.data, (reply.headers or {}).get(hdr.CONTENT_TYPE))

    def _finish(self, p: _Pending) -> None:
        """p is resolved (or cancelled by its caller): free its slot."""
        if self._pending.pop(p.key, None) is not None:
            self._slots.release()
            if not self._pending:
                self._idle.set()

    async def _send(self, p: _Pending) -> None:
        nc = self.nc
        assert nc is not None
        p.attempts += 1
        p.gen += 1
        p.sent_at = now = time.perf_counter()
        if p.attempts == 1:
            p.started = now
            p.block = wire.header_block(p.hdrs)
        reply = f"{self._inbox}.{p.key}"
        try:
            # framed here (headers were checked in _prepare); the public publish() while
            # reconnecting or draining, where nats-py's buffering rules apply
            if not await wire.send_hpub(nc, p.subject, reply, p.block, p.payload):
                await nc.publish(p.subject, p.payload, reply=reply, headers=p.hdrs)
        except Exception as exc:  # buffer full while reconnecting, connection closed ...
            log.debug("send of %s failed: %s", p.msg_id, exc)
            self._schedule(p, self._retry_delay(p))
            return
        self._ack_timers.append((p.sent_at + self.settings.publish_ack_timeout, p.gen, p))

    def _retry_delay(self, p: _Pending) -> float:
        return min(_RETRY_DELAY_MIN * 2 ** min(p.attempts, 10), _RETRY_DELAY_MAX)

    def _schedule(self, p: _Pending, after: float) -> None:
        """Arm the timer of p's current attempt (older timers of p are ignored by generation)."""
        heapq.heappush(self._timers, (time.perf_counter() + after, next(self._timer_seq), p.gen, p))

    async def _sweep(self) -> None:
        """Resend messages whose PubAck is overdue (same Nats-Msg-Id) or fail them past the budget."""
        tick = min(0.05, self.settings.publish_ack_timeout / 4)
        while True:
            await asyncio.sleep(tick)
            now = time.perf_counter()
            due: list[tuple[int, _Pending]] = []
            acks = self._ack_timers
            while acks and acks[0][0] <= now:
                _, gen, p = acks.popleft()
                due.append((gen, p))
            while self._timers and self._timers[0][0] <= now:
                _, _, gen, p = heapq.heappop(self._timers)
                due.append((gen, p))
            for gen, p in due:
                if p.future.done():
                    self._finish(p)  # e.g. cancelled by the caller
                    continue
                if gen != p.gen:
                    continue
                if p.attempts > self.settings.publish_retries:
                    self._fail(
                        p,
                        PublishTimeoutError(
                            f"no PubAck for {p.msg_id} on {p.subject} after {p.attempts} attempt(s)"
                        ),
                    )
                    continue
                self.stats["retries"] += 1
                await self._send(p)

    def _fail(self, p: _Pending, exc: Exception) -> None:
        if not p.future.done():
            self.stats["errors"] += 1
            p.future.set_exception(exc)
            # a caller that never awaits the future must not get "exception never retrieved" noise
            p.future.add_done_callback(_retrieve)
        self._finish(p)

    async def _handle_ack(self, msg: Msg) -> None:
        key = msg.subject[len(self._inbox) + 1 :]
        p = self._pending.get(key)
        if p is None or p.future.done():
            return  # late ack of a message already resolved by an earlier attempt
        status = msg.headers.get("Status") if msg.headers else None
        if status == "503" or (status is None and not msg.data):
            self._no_stream(p)
            return
        try:
            resp = json.loads(msg.data)
        except ValueError:
            self._fail(p, PublishError(f"unreadable PubAck for {p.msg_id}: {msg.data[:200]!r}"))
            return
        err = resp.get("error")
        if err:
            if err.get("code") == 503:  # JetStream temporarily unavailable (restart, leader election)
                p.gen += 1  # the armed ack timer is void; the retry timer drives the resend
                self._schedule(p, self._retry_delay(p))
                return
            self._fail(
                p,
                PublishError(
                    f"stream rejected {p.msg_id} on {p.subject}: {err.get('description')} "
                    f"(code {err.get('code')}, err_code {err.get('err_code')})"
                ),
            )
            return
        now = time.perf_counter()
        ack = PublishAck(
            resp.get("stream", ""), resp.get("seq", 0), resp.get("duplicate", False), resp.get("domain")
        )
        self.stats["published"] += 1
        if ack.duplicate:
            self.stats["duplicates"] += 1
        self.metrics.published((now - p.started) * 1000.0, (now - p.sent_at) * 1000.0)
        p.future.set_result(ack)
        self._finish(p)

    def _no_stream(self, p: _Pending) -> None:
        """No stream captures the subject: create/extend it when allowed, else fail clearly."""
        if not self.settings.create_stream:
            self._fail(
                p,
                PublishError(
                    f"no stream captures subject {p.subject!r} (create_stream is false; "
                    "create the stream or fix the subject)"
                ),
            )
            return
        p.gen += 1
        if p.attempts > self.settings.publish_retries:
            self._fail(
                p, PublishError(f"no stream captures subject {p.subject!r} after {p.attempts} attempts")
            )
            return
        if self._stream_fix is None or self._stream_fix.done():
            self._stream_fix = asyncio.create_task(self._fix_stream(p.subject))
        self._schedule(p, self._retry_delay(p))

    async def _fix_stream(self, subject: str) -> None:
        assert self._keeper is not None
        try:
            await self._keeper.ensure_covers(subject)
        except StreamSetupError as exc:
            for p in list(self._pending.values()):
                if p.subject == subject:
                    self._fail(p, PublishError(str(exc)))
        except Exception as exc:
            log.warning("stream setup for %s failed: %s", subject, exc)

    # ---- connection events --------------------------------------------------------------------

    async def _on_disconnect(self) -> None:
        self._disconnected_at = time.perf_counter()
        if not self._closed:
            log.warning("disconnected from NATS")

    async def _on_reconnect(self) -> None:
        """Resend at once what was in flight when the connection dropped (same ids: no copies)."""
        self.stats["reconnects"] += 1
        log.warning("reconnected to NATS")
        cutoff = self._disconnected_at
        for p in list(self._pending.values()):
            if not p.future.done() and p.sent_at <= cutoff:
                await self._send(p)


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()
