"""HPUB framing for the publish hot path: the one module that touches private nats-py names.

Why: nats-py's ``Client.publish`` re-validates and re-encodes every header of every message (a
regex match on each name, strip/translate on each value, several bytearray appends); with the
three headers every adapter message carries that is about a fifth of the publisher's CPU per
message. The adapter checks caller headers once (:func:`check_headers`), builds the header block
as bytes (:func:`header_block`) and queues the HPUB command itself (:func:`send_hpub`).

Private nats-py names used (nats-py 2.x): ``Client._send_command``, ``Client._flush_pending`` and
``Client._flush_queue`` -- the same three steps ``Client._send_publish`` takes. :func:`fast_path_ok`
checks once per client class, on first use (never at import), that they exist; if a nats-py
release renames them, :func:`send_hpub` returns False and the caller uses the public
``publish()``, which is also what it does while reconnecting or draining (so nats-py's reconnect
buffering and drain rules stay in charge there).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("adapter_runtime")

# RFC 7230 token characters: what NATS (and nats-py) accept in a header name.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_STATUS_LINE = b"NATS/1.0\r\n"
_PRIVATE = ("_send_command", "_flush_pending", "_flush_queue", "stats", "is_draining_pubs", "max_payload")
_capable: dict[type, bool] = {}


class HeaderError(ValueError):
    """A header name or value that cannot go on the wire unchanged."""


def check_header(name: Any, value: Any) -> None:
    """Reject what nats-py would drop or silently rewrite (empty/non-token names, CR/LF in values)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise HeaderError(
            f"header name {name!r} is invalid: it must be a non-empty token "
            "(letters, digits and !#$%&'*+-.^_`|~)"
        )
    if not isinstance(value, str):
        raise HeaderError(f"header {name!r}: value must be a str, got {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise HeaderError(f"header {name!r}: value must not contain CR or LF")


def check_headers(hdrs: Mapping[str, str]) -> None:
    """:func:`check_header` for every item (run once per message, before the first send)."""
    for name, value in hdrs.items():
        check_header(name, value)


def header_block(hdrs: Mapping[str, str]) -> bytes:
    """The HPUB header block, byte for byte what nats-py builds for the same (checked) headers."""
    lines = "".join([f"{k}: {v.strip()}\r\n" for k, v in hdrs.items()])
    return _STATUS_LINE + lines.encode() + b"\r\n"


def hpub(subject: str, reply: str, block: bytes, payload: bytes) -> bytes:
    """The HPUB protocol command (subject and reply must already be valid subjects)."""
    size = len(block)
    return f"HPUB {subject} {reply} {size} {size + len(payload)}\r\n".encode() + block + payload + b"\r\n"


def fast_path_ok(nc: Any) -> bool:
    """Whether this nats-py Client still has the private names :func:`send_hpub` needs (cached)."""
    cls = type(nc)
    ok = _capable.get(cls)
    if ok is None:
        ok = _capable[cls] = all(hasattr(nc, n) for n in _PRIVATE)
        if not ok:
            log.warning("nats-py %s lacks the HPUB fast path names; publishing via publish()", cls)
    return ok


async def send_hpub(nc: Any, subject: str, reply: str, block: bytes, payload: bytes) -> bool:
    """Queue one HPUB and kick the flusher like ``Client._send_publish`` does.

    Returns False (nothing sent) when the public ``publish()`` must be used instead: the client
    is not connected (reconnect buffering), draining, the payload is over max_payload, or the
    private names are gone.
    """
    if not (fast_path_ok(nc) and nc.is_connected) or nc.is_draining_pubs or len(payload) > nc.max_payload:
        return False
    await nc._send_command(hpub(subject, reply, block, payload))
    stats = nc.stats
    stats["out_msgs"] += 1
    stats["out_bytes"] += len(payload)
    if nc._flush_queue is not None and nc._flush_queue.empty():
        await nc._flush_pending()
    return True
