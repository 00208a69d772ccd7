"""Open a NATS connection from AdapterSettings: auth files, TLS, jittered unlimited reconnects.

Credential files are read here, at the edge, and their contents go only to nats-py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import nats
from nats.aio.client import Client

from adapter_runtime.settings import AdapterSettings

log = logging.getLogger("adapter_runtime")

Callback = Callable[[], Awaitable[None]]


class JitteredReconnect:
    """nats-py reconnect_to_server_handler: rotate servers, wait reconnect_wait + random jitter.

    Jitter spreads a fleet of pods so a restarted broker is not hit by all of them at once.
    """

    def __init__(self, settings: AdapterSettings, rng: random.Random | None = None) -> None:
        self.wait = settings.reconnect_wait
        self.jitter = settings.reconnect_jitter
        self.jitter_tls = settings.reconnect_jitter_tls
        self.tls = _uses_tls(settings)
        self._rng = rng or random.Random()
        self._turn = 0

    def delay(self) -> float:
        return self.wait + self._rng.uniform(0, self.jitter_tls if self.tls else self.jitter)

    def __call__(self, servers: list[Any], _info: dict[str, Any]) -> tuple[Any, float]:
        server = servers[self._turn % len(servers)]
        self._turn += 1
        return server, self.delay()


class BadSubjectError(ValueError):
    """A subject the runtime refuses to publish to (it could corrupt the protocol stream)."""


@functools.lru_cache(maxsize=4096)
def check_subject(subject: str) -> str:
    """Reject empty subjects, whitespace, CR/LF and empty tokens; cached (subjects repeat)."""
    if (
        not subject
        or any(c.isspace() for c in subject)
        or ".." in subject
        or subject[0] == "."
        or subject[-1] == "."
    ):
        raise BadSubjectError(f"invalid subject {subject!r}: empty token or whitespace")
    return subject


def _uses_tls(settings: AdapterSettings) -> bool:
    schemes = {urlparse(u).scheme for u in settings.server_urls}
    return (
        bool(schemes & {"tls", "wss"})
        or settings.tls_ca_file is not None
        or settings.tls_cert_file is not None
    )


def _tls_context(settings: AdapterSettings) -> ssl.SSLContext | None:
    if not _uses_tls(settings):
        return None
    ctx = ssl.create_default_context(cafile=str(settings.tls_ca_file) if settings.tls_ca_file else None)
    if settings.tls_cert_file and settings.tls_key_file:
        ctx.load_cert_chain(str(settings.tls_cert_file), str(settings.tls_key_file))
    return ctx


class CredentialFileError(ValueError):
    """A credential file that exists but cannot be used; names the setting, never the contents."""


class ReconnectCredentialError(nats.errors.Error):
    """CredentialFileError met during a reconnect: nats-py reports it and tries again later.

    nats-py's reconnect loop only survives its own error types; any other exception ends the
    reconnect task and the client would stay disconnected for good.
    """


def is_user_seed(seed: str) -> bool:
    """True for a well-formed user nkey seed (``SU...``, valid base32 and checksum)."""
    import nkeys  # nats-py[nkeys]; imported here so plain user/token setups never load it

    if not seed.startswith("SU"):
        return False
    try:
        raw = base64.b32decode(seed + "=" * (-len(seed) % 8))
        nkeys.from_seed(bytearray(seed.encode()))
    except (nkeys.NkeysError, ValueError, TypeError):
        return False
    # nkeys (Python) skips the CRC16 that the Go tools check: a typo would be a different key.
    return len(raw) == 36 and nkeys.crc16(bytearray(raw[:-2])) == int.from_bytes(raw[-2:], "little")


def _creds_lines(text: str) -> tuple[str | None, str | None]:
    """The raw lines after the JWT and the seed markers of a .creds text (None: not found)."""
    lines = text.splitlines(keepends=True)

    def after(marker: str) -> str | None:
        for i, line in enumerate(lines[:-1]):
            if marker in line:
                return lines[i + 1]
        return None

    return after("BEGIN NATS USER JWT"), after("BEGIN USER NKEY SEED")


def creds_problems(text: str) -> list[str]:
    """Why ``text`` is not a .creds file nats-py can use (empty: it is). Never quotes the text.

    Without this check nats-py fails with a bare TypeError or, with no JWT block, loops forever
    inside the event loop (the whole process hangs).
    """
    jwt, seed = _creds_lines(text)
    problems = []
    if jwt is None or jwt.strip().count(".") != 2:
        problems.append("no user JWT after a '-----BEGIN NATS USER JWT-----' line")
    # nats-py reads the seed line up to its newline, so the newline is required too.
    if seed is None or not seed.endswith("\n") or not is_user_seed(seed.strip()):
        problems.append("no user nkey seed (SU...) line after a '-----BEGIN USER NKEY SEED-----' line")
    return problems


def _read_text(path: Path, setting: str) -> str:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise CredentialFileError(f"{setting} {str(path)!r} is not a text file") from None


def check_nkey_seed_file(path: Path) -> None:
    """nats-py reports a bad seed as a bare 'nkeys: invalid seed'; say which setting is wrong."""
    if not is_user_seed(_read_text(path, "nkey_seed_file").strip()):
        raise CredentialFileError(
            f"nkey_seed_file {str(path)!r} does not hold a user nkey seed (one line starting with 'SU')"
        )


def read_creds_file(path: Path) -> tuple[str, str]:
    """The user JWT and seed of a checked .creds file; raises CredentialFileError naming the problem."""
    text = _read_text(path, "creds_file")
    problems = creds_problems(text)
    if problems:
        raise CredentialFileError(
            f"creds_file {str(path)!r} is not a NATS .creds file: {'; '.join(problems)}"
        )
    jwt, seed = _creds_lines(text)
    assert jwt is not None and seed is not None  # creds_problems found both
    return jwt.strip(), seed.strip()


def check_creds_file(path: Path) -> None:
    read_creds_file(path)


def creds_callbacks(path: Path) -> tuple[Callable[[], bytearray], Callable[[str], bytes]]:
    """nats-py ``user_jwt_cb`` and ``signature_cb`` that read and check ``path`` on every (re)connect.

    Handing nats-py the path instead would let it re-read the file on a reconnect unchecked: a
    file rotated into a broken one (no JWT block) makes it loop forever inside the event loop.
    A broken file now fails that reconnect attempt with a ReconnectCredentialError (reported
    through the error callback) and the next attempt reads the file again.
    """

    def read() -> tuple[str, str]:
        try:
            return read_creds_file(path)
        except CredentialFileError as exc:
            raise ReconnectCredentialError(str(exc)) from None

    def user_jwt() -> bytearray:
        return bytearray(read()[0].encode())

    def sign(nonce: str) -> bytes:
        import nkeys

        key = nkeys.from_seed(bytearray(read()[1].encode()))
        try:
            return base64.b64encode(key.sign(nonce.encode()))
        finally:
            key.wipe()

    return user_jwt, sign


def connect_kwargs(settings: AdapterSettings, name: str) -> dict[str, Any]:
    """nats.connect keyword arguments (without callbacks); reads credential files."""
    kw: dict[str, Any] = {
        "servers": list(settings.server_urls),
        "name": name,
        "connect_timeout": settings.connect_timeout,
        "reconnect_time_wait": settings.reconnect_wait,
        "max_reconnect_attempts": settings.max_reconnects,
        "allow_reconnect": True,
        "reconnect_to_server_handler": JitteredReconnect(settings),
        "pending_size": settings.pending_bytes_limit,
        # subjects are checked once per distinct subject by check_subject (cached) instead
        "skip_subject_validation": True,
    }
    tls = _tls_context(settings)
    if tls is not None:
        kw["tls"] = tls
    if settings.creds_file:
        check_creds_file(settings.creds_file)  # the first attempt fails clearly, before any I/O
        kw["user_jwt_cb"], kw["signature_cb"] = creds_callbacks(settings.creds_file)
    if settings.nkey_seed_file:
        check_nkey_seed_file(settings.nkey_seed_file)
        kw["nkeys_seed"] = str(settings.nkey_seed_file)
    if settings.token_file:
        kw["token"] = settings.token_file.read_text().strip()
    if settings.user:
        kw["user"] = settings.user
        assert settings.password_file is not None  # enforced by settings validation
        kw["password"] = settings.password_file.read_text().strip()
    return kw


def _auth_setting(settings: AdapterSettings) -> str:
    """The setting to check after a refusal: the configured auth method, not a list of all."""
    for setting in ("creds_file", "nkey_seed_file", "token_file"):
        if getattr(settings, setting) is not None:
            return setting
    return "user/password_file" if settings.user else "credentials: none are set"


def _is_auth_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "authorization" in text or "authentication" in text or "permissions violation" in text


async def _attempt(settings: AdapterSettings, name: str, callbacks: dict[str, Any]) -> Client:
    """One bounded connect attempt; an auth refusal ends it at once instead of looping inside nats-py."""
    kw = connect_kwargs(settings, name)  # re-read credential files on every attempt (rotation)
    refused: list[BaseException] = []
    refused_event = asyncio.Event()
    user_err = callbacks["error_cb"]

    async def error_cb(exc: Exception) -> None:
        if _is_auth_error(exc):
            refused.append(exc)
            refused_event.set()
        await user_err(exc)

    nc = Client()
    connect = asyncio.ensure_future(nc.connect(**kw, **{**callbacks, "error_cb": error_cb}))
    refusal = asyncio.ensure_future(refused_event.wait())
    try:
        await asyncio.wait(
            {connect, refusal}, timeout=2 * settings.connect_timeout + 1, return_when="FIRST_COMPLETED"
        )
    finally:
        refusal.cancel()
    if connect.done() and not refused:
        connect.result()  # raises the connect error, if any
        return nc
    connect.cancel()
    with contextlib.suppress(BaseException):
        await connect
    with contextlib.suppress(Exception):
        await nc.close()
    if refused:
        raise PermissionError(f"authorization refused: {refused[0]} (check {_auth_setting(settings)})")
    raise TimeoutError(f"no connection within {2 * settings.connect_timeout + 1:.1f}s")


async def open_connection(
    settings: AdapterSettings,
    name: str,
    *,
    on_disconnect: Callback | None = None,
    on_reconnect: Callback | None = None,
    on_error: Callable[[Exception], Awaitable[None]] | None = None,
) -> Client:
    """Connect, retrying the first connection like a reconnect (forever when max_reconnects=-1)."""
    reconnect = JitteredReconnect(settings)

    async def _noop() -> None:
        return None

    async def _err(exc: Exception) -> None:
        if on_error is not None:
            await on_error(exc)
        else:
            log.warning("nats error: %s", exc)

    callbacks = {
        "disconnected_cb": on_disconnect or _noop,
        "reconnected_cb": on_reconnect or _noop,
        "error_cb": _err,
    }
    attempt = 0
    while True:
        try:
            return await _attempt(settings, name, callbacks)
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            attempt += 1
            if 0 <= settings.max_reconnects < attempt:
                raise ConnectionError(
                    f"cannot connect to {', '.join(settings.server_urls)} after {attempt} attempt(s): {exc}"
                ) from exc
            delay = reconnect.delay()
            log.warning("connect failed (%s), retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
