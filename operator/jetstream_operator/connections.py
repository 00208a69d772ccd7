"""One pooled NATS connection per distinct connection config, shared by every resource using it.

Resources bind to a config (servers + auth + TLS + domain, hashed); the pool opens one
connection per hash, counts its owners and closes it when the last owner lets go, so hundreds
of Streams on one NatsConnection use one TCP connection. The pool also subscribes each
connection to the JetStream advisories that drive event-based drift repair.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import ssl
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client, RawCredentials
from nats.aio.msg import Msg

from adapter_runtime.connection import creds_problems, is_user_seed
from jetstream_operator.jsapi import JetStreamAPI, NatsUnavailable

log = logging.getLogger(__name__)

ADVISORY_SUBJECTS = (
    "$JS.EVENT.ADVISORY.STREAM.DELETED.>",
    "$JS.EVENT.ADVISORY.STREAM.UPDATED.>",
    "$JS.EVENT.ADVISORY.STREAM.CREATED.>",
    "$JS.EVENT.ADVISORY.CONSUMER.DELETED.>",
    "$JS.EVENT.ADVISORY.CONSUMER.CREATED.>",
)
_AUTH_MARKERS = ("authorization violation", "authentication", "permissions violation", "user authentication")


class NatsAuthError(NatsUnavailable):
    """The server refused the credentials: retried, but reported as an auth problem."""


@dataclass(frozen=True)
class ConnectionConfig:
    """What makes two connections interchangeable. Secret values are excluded from repr."""

    servers: tuple[str, ...]
    source: str = "default"  # "namespace/name" of the NatsConnection, for messages only
    js_domain: str | None = None
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    creds: str | None = field(default=None, repr=False)
    nkey_seed: str | None = field(default=None, repr=False)
    tls_ca: bytes | None = field(default=None, repr=False)
    tls_cert: bytes | None = field(default=None, repr=False)
    tls_key: bytes | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        """A stable hash of every field: equal configs share a connection, a rotated Secret does not."""
        material = {
            "servers": list(self.servers),
            "domain": self.js_domain,
            "user": self.user,
            "password": self.password,
            "token": self.token,
            "creds": self.creds,
            "nkey": self.nkey_seed,
            "ca": self.tls_ca.hex() if self.tls_ca else None,
            "cert": self.tls_cert.hex() if self.tls_cert else None,
            "tlskey": self.tls_key.hex() if self.tls_key else None,
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


AdvisoryCallback = Callable[[str, str, str, str | None], Awaitable[None]]
StateCallback = Callable[[str, bool], Awaitable[None]]


def classify_connect_error(exc: BaseException | None) -> type[NatsUnavailable]:
    """Auth failures get their own type so status can say 'credentials rejected'."""
    text = str(exc).lower() if exc else ""
    return NatsAuthError if any(marker in text for marker in _AUTH_MARKERS) else NatsUnavailable


def _ssl_context(config: ConnectionConfig, workdir: Path) -> ssl.SSLContext | None:
    if not (config.tls_ca or config.tls_cert):
        return None
    ctx = ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH)
    if config.tls_ca:
        ctx.load_verify_locations(cadata=config.tls_ca.decode())
    if config.tls_cert and config.tls_key:
        # ssl can only load a client key pair from files: a private 0700 dir, removed on close.
        cert, key = workdir / "tls.crt", workdir / "tls.key"
        cert.write_bytes(config.tls_cert)
        key.touch(mode=0o600)
        key.write_bytes(config.tls_key)
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


def check_key_material(config: ConnectionConfig) -> None:
    """Refuse unusable creds/nkey Secret values before nats-py sees them: it reports a bad seed
    as a bare 'invalid seed' and hangs the whole event loop on a creds value without a JWT."""
    if config.creds is not None:
        problems = creds_problems(config.creds)
        if problems:
            raise NatsAuthError(
                f"credentials of {config.source} are unusable: the creds Secret value is not a"
                f" NATS .creds file ({'; '.join(problems)})"
            )
    if config.nkey_seed is not None and not is_user_seed(config.nkey_seed.strip()):
        raise NatsAuthError(
            f"credentials of {config.source} are unusable: the nkey Secret value is not a user"
            " nkey seed (one line starting with 'SU')"
        )


class _Entry:
    def __init__(self, nc: Client, api: JetStreamAPI, workdir: tempfile.TemporaryDirectory[str]) -> None:
        self.nc = nc
        self.api = api
        self.workdir = workdir
        self.owners: set[str] = set()


class ConnectionPool:
    """Reference-counted connections keyed by `ConnectionConfig.key`."""

    def __init__(
        self,
        *,
        request_timeout: float = 5.0,
        connect_timeout: float = 3.0,
        on_advisory: AdvisoryCallback | None = None,
        on_state: StateCallback | None = None,
    ) -> None:
        self._entries: dict[str, _Entry] = {}
        self._owner_key: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._on_advisory = on_advisory
        self._on_state = on_state
        # Advisories received by event ("stream.deleted", ...), read by the metrics at scrape time.
        self.advisory_counts: Counter[str] = Counter()

    def stats(self) -> dict[str, int]:
        """Owners per open connection key (for tests and the health endpoint)."""
        return {key: len(entry.owners) for key, entry in self._entries.items()}

    def key_of(self, owner: str) -> str | None:
        return self._owner_key.get(owner)

    async def acquire(self, owner: str, config: ConnectionConfig) -> JetStreamAPI:
        """The API client for `config`, binding `owner` to it (and unbinding its previous config)."""
        key = config.key
        entry = self._entries.get(key)
        if entry is None or entry.nc.is_closed:
            lock = self._locks.setdefault(key, asyncio.Lock())
            async with lock:
                entry = self._entries.get(key)
                if entry is None or entry.nc.is_closed:
                    entry = await self._open(key, config)
                    self._entries[key] = entry
        previous = self._owner_key.get(owner)
        if previous is not None and previous != key:
            await self.release(owner)
        entry.owners.add(owner)
        self._owner_key[owner] = key
        return entry.api

    async def release(self, owner: str) -> None:
        """Unbind `owner`; the connection closes when nobody uses it any more."""
        key = self._owner_key.pop(owner, None)
        if key is None:
            return
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.owners.discard(owner)
        if not entry.owners:
            del self._entries[key]
            await self._close(entry)

    async def discard(self, key: str) -> None:
        """Drop a connection now (its credentials changed); owners reconnect on next use."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            for owner in entry.owners:
                self._owner_key.pop(owner, None)
            await self._close(entry)

    async def close_all(self) -> None:
        entries, self._entries = list(self._entries.values()), {}
        self._owner_key.clear()
        for entry in entries:
            await self._close(entry)

    @staticmethod
    async def _close(entry: _Entry) -> None:
        try:
            await entry.nc.close()
        except Exception as exc:  # closing a broken connection must not fail the caller
            log.debug("closing a NATS connection failed: %s", exc)
        entry.workdir.cleanup()

    async def _open(self, key: str, config: ConnectionConfig) -> _Entry:
        check_key_material(config)
        workdir = tempfile.TemporaryDirectory(prefix="seam-op-tls-")
        last_error: list[BaseException] = []
        connected = asyncio.Event()

        async def error_cb(exc: Exception) -> None:
            last_error.append(exc)
            # Never log the exception's args verbatim beyond its text: it carries no secret.
            log.debug("NATS %s: %s", config.source, exc)

        async def disconnected_cb() -> None:
            if connected.is_set() and self._on_state:
                await self._on_state(key, False)

        async def reconnected_cb() -> None:
            if self._on_state:
                await self._on_state(key, True)

        options: dict[str, Any] = {
            "servers": list(config.servers),
            "name": f"seam-jetstream-operator ({config.source})",
            "connect_timeout": self._connect_timeout,
            # Bounded attempts for the first connect (nats-py loops forever with -1), then
            # unlimited reconnects once connected (set below).
            "max_reconnect_attempts": 1,
            "reconnect_time_wait": 0.5,
            "error_cb": error_cb,
            "disconnected_cb": disconnected_cb,
            "reconnected_cb": reconnected_cb,
        }
        if config.user is not None:
            options["user"] = config.user
            options["password"] = config.password or ""
        if config.token is not None:
            options["token"] = config.token
        if config.creds is not None:
            options["user_credentials"] = RawCredentials(config.creds)
        if config.nkey_seed is not None:
            options["nkeys_seed_str"] = config.nkey_seed
        try:
            tls = _ssl_context(config, Path(workdir.name))
        except (ssl.SSLError, ValueError) as exc:
            workdir.cleanup()
            raise NatsUnavailable(f"TLS material of {config.source} is invalid: {exc}") from exc
        if tls is not None:
            options["tls"] = tls
        try:
            nc = await nats.connect(**options)
        except Exception as exc:
            workdir.cleanup()
            cause = next((e for e in last_error if classify_connect_error(e) is NatsAuthError), None)
            cause = cause or (last_error[-1] if last_error else exc)
            error_type = classify_connect_error(cause)
            what = "credentials rejected" if error_type is NatsAuthError else "cannot connect"
            raise error_type(f"{what} by {', '.join(config.servers)}: {cause}") from exc
        nc.options["max_reconnect_attempts"] = -1
        nc.options["reconnect_time_wait"] = 1.0
        connected.set()
        if self._on_advisory is not None:
            for subject in ADVISORY_SUBJECTS:
                await nc.subscribe(subject, cb=self._advisory_handler(key))
        api = JetStreamAPI(nc, domain=config.js_domain, timeout=self._request_timeout)
        log.info("connected to NATS for %s (pool key %s)", config.source, key)
        return _Entry(nc, api, workdir)

    def _advisory_handler(self, key: str) -> Callable[[Msg], Awaitable[None]]:
        async def handle(msg: Msg) -> None:
            parsed = parse_advisory_subject(msg.subject)
            if parsed is None or self._on_advisory is None:
                return
            kind, stream, consumer = parsed
            self.advisory_counts[kind] += 1
            try:
                await self._on_advisory(key, kind, stream, consumer)
            except Exception:
                log.exception("advisory handling failed for %s", msg.subject)

        return handle


def parse_advisory_subject(subject: str) -> tuple[str, str, str | None] | None:
    """`$JS.EVENT.ADVISORY.STREAM.DELETED.S` -> ("stream.deleted", "S", None), consumers likewise."""
    parts = subject.split(".")
    if len(parts) < 6 or parts[:3] != ["$JS", "EVENT", "ADVISORY"]:
        return None
    what, action = parts[3], parts[4]
    if what == "STREAM" and action in ("CREATED", "DELETED", "UPDATED") and len(parts) == 6:
        return f"stream.{action.lower()}", parts[5], None
    if what == "CONSUMER" and action in ("CREATED", "DELETED") and len(parts) == 7:
        return f"consumer.{action.lower()}", parts[5], parts[6]
    return None
