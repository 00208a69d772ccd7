"""Make sure the stream, the dead-letter stream and the durable consumer exist (idempotent)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import api
from nats.js.errors import BadRequestError, NotFoundError, ServiceUnavailableError
from nats.js.manager import JetStreamManager

from adapter_runtime.settings import AdapterSettings
from adapter_runtime.subjects import any_covers

log = logging.getLogger("adapter_runtime")

_ERR_STREAM_NAME_IN_USE = 10058
_ERR_CONSUMER_EXISTS = 10148

# The JetStream API is briefly unavailable while a cluster elects its meta or stream leaders, or
# right after a restart: such answers (or none) are retried, never reported as a setup error.
_TRANSIENT = (NatsTimeoutError, NoRespondersError, ServiceUnavailableError)
_T = TypeVar("_T")


async def retry_transient(op: Callable[[], Awaitable[_T]], *, budget: float, what: str) -> _T:
    """Run a JetStream API operation, retrying transient failures with backoff for `budget` seconds."""
    deadline = time.monotonic() + budget
    delay = 0.1
    while True:
        try:
            return await op()
        except _TRANSIENT as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.info("%s: JetStream API not ready (%s), retrying in %.1fs", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def _setup_budget(settings: AdapterSettings) -> float:
    return max(settings.connect_timeout, 10.0)


class StreamSetupError(RuntimeError):
    """The stream or consumer cannot be created or found (clear reason in the message)."""


class StreamKeeper:
    """Creates/updates streams on demand (create_stream) and serializes that per connection."""

    def __init__(self, jsm: JetStreamManager, settings: AdapterSettings) -> None:
        self.jsm = jsm
        self.s = settings
        self._lock = asyncio.Lock()

    def _storage(self) -> api.StorageType:
        return api.StorageType.FILE if self.s.durable else api.StorageType.MEMORY

    async def ensure_covers(self, subject: str) -> None:
        """The configured stream exists and captures ``subject`` (adds it when subjects are implicit)."""
        await retry_transient(
            lambda: self._ensure_covers(subject), budget=_setup_budget(self.s), what="stream setup"
        )

    async def _ensure_covers(self, subject: str) -> None:
        name = self.s.stream_name
        if not self.s.create_stream:
            try:
                await self.jsm.stream_info(name)
            except NotFoundError:
                raise StreamSetupError(
                    f"stream {name!r} does not exist and create_stream is false "
                    "(the operator should have created it)"
                ) from None
            return
        async with self._lock:
            await self._ensure(name, list(self.s.stream_subjects), subject, self._storage())

    async def ensure_dead_letter(self) -> None:
        if not self.s.create_stream:
            return
        dlq = self.s.effective_dead_letter_subject

        async def once() -> None:
            async with self._lock:
                await self._ensure(self.s.dead_letter_stream, [dlq], dlq, api.StorageType.FILE)

        await retry_transient(once, budget=_setup_budget(self.s), what="dead-letter stream setup")

    async def _ensure(self, name: str, explicit: list[str], subject: str, storage: api.StorageType) -> None:
        try:
            info = await self.jsm.stream_info(name)
        except NotFoundError:
            subjects = explicit or [subject]
            try:
                config = api.StreamConfig(
                    name=name, subjects=subjects, storage=storage, num_replicas=self.s.stream_replicas
                )
                await self.jsm.add_stream(config)
                log.info("created stream %s subjects=%s", name, subjects)
                return
            except BadRequestError as exc:
                if exc.err_code != _ERR_STREAM_NAME_IN_USE:
                    raise StreamSetupError(f"cannot create stream {name!r}: {exc.description}") from None
                info = await self.jsm.stream_info(name)
        current = list(info.config.subjects or [])
        if any_covers(current, subject):
            return
        if explicit:
            raise StreamSetupError(
                f"subject {subject!r} is not captured by stream {name!r} (subjects {current}); "
                "add it to stream_subjects"
            )
        info.config.subjects = [*current, subject]
        try:
            await self.jsm.update_stream(info.config)
        except BadRequestError as exc:
            raise StreamSetupError(
                f"cannot add subject {subject!r} to stream {name!r}: {exc.description}"
            ) from None
        log.info("stream %s now captures %s", name, subject)


def consumer_config(settings: AdapterSettings, name: str, filter_subject: str) -> api.ConsumerConfig:
    """Our consumer: explicit ack, server-side redelivery unlimited (the runtime dead-letters)."""
    return api.ConsumerConfig(
        durable_name=name if settings.durable else None,
        name=name,
        ack_policy=api.AckPolicy.EXPLICIT,
        deliver_policy=api.DeliverPolicy(settings.deliver_policy),
        ack_wait=settings.ack_wait,
        max_deliver=-1,
        max_ack_pending=settings.max_ack_pending,
        filter_subject=filter_subject,
        inactive_threshold=None if settings.durable else max(60.0, settings.ack_wait * 2),
    )


async def ensure_consumer(
    jsm: JetStreamManager, settings: AdapterSettings, name: str, filter_subject: str
) -> api.ConsumerInfo:
    """Bind to the consumer as it is, or create it (idempotent; also after an out-of-band delete)."""
    return await retry_transient(
        lambda: _ensure_consumer_once(jsm, settings, name, filter_subject),
        budget=_setup_budget(settings),
        what=f"consumer {name} setup",
    )


async def _ensure_consumer_once(
    jsm: JetStreamManager, settings: AdapterSettings, name: str, filter_subject: str
) -> api.ConsumerInfo:
    stream = settings.stream_name
    try:
        return await jsm.consumer_info(stream, name)
    except NotFoundError as exc:
        if "stream" in (exc.description or "").lower():
            raise StreamSetupError(f"stream {stream!r} not found: {exc.description}") from None
    try:
        info = await jsm.add_consumer(stream, consumer_config(settings, name, filter_subject))
        log.info("created consumer %s on %s filter=%s", name, stream, filter_subject)
        return info
    except NotFoundError as exc:
        raise StreamSetupError(f"stream {stream!r} not found: {exc.description}") from None
    except BadRequestError as exc:
        if exc.err_code == _ERR_CONSUMER_EXISTS:
            return await jsm.consumer_info(stream, name)
        raise StreamSetupError(f"cannot create consumer {name!r} on {stream!r}: {exc.description}") from None
