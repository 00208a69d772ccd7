"""HPUB framing of the publish fast path (pure): byte-exact header block, header checks, fallback."""

from __future__ import annotations

from typing import Any

import pytest
from nats.protocol.command import hpub_cmd

from adapter_runtime import wire

pytestmark = pytest.mark.unit

ADAPTER_HEADERS = {
    "Nats-Msg-Id": "svc-0a1b2c3d-42",
    "Seam-Content-Type": "bytes",
    "Seam-Published-At": "1795000000123456789",
}


def test_header_block_is_byte_exact() -> None:
    assert wire.header_block(ADAPTER_HEADERS) == (
        b"NATS/1.0\r\n"
        b"Nats-Msg-Id: svc-0a1b2c3d-42\r\n"
        b"Seam-Content-Type: bytes\r\n"
        b"Seam-Published-At: 1795000000123456789\r\n"
        b"\r\n"
    )


def test_header_block_trims_values_and_keeps_utf8_like_nats_py() -> None:
    assert wire.header_block({"X-Tag": "  caf\u00e9 "}) == b"NATS/1.0\r\nX-Tag: caf\xc3\xa9\r\n\r\n"


def test_hpub_command_matches_nats_py_framing() -> None:
    block = wire.header_block(ADAPTER_HEADERS)
    payload = b"p" * 1024
    cmd = wire.hpub("orders.created", "_INBOX.abc.1f", block, payload)
    assert cmd == hpub_cmd("orders.created", "_INBOX.abc.1f", block, payload)
    assert cmd.startswith(f"HPUB orders.created _INBOX.abc.1f {len(block)} {len(block) + 1024}\r\n".encode())
    assert cmd.endswith(payload + b"\r\n")


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("X-Tag", "a\r\nInjected: 1", "must not contain CR or LF"),
        ("X-Tag", "line\nbreak", "must not contain CR or LF"),
        ("X-Tag", 7, "value must be a str, got int"),
        ("", "v", "header name '' is invalid"),
        ("Bad Name", "v", "header name 'Bad Name' is invalid"),
        ("Bad:Name", "v", "header name 'Bad:Name' is invalid"),
        (3, "v", "header name 3 is invalid"),
    ],
)
def test_invalid_headers_are_rejected_with_the_reason(name: Any, value: Any, reason: str) -> None:
    with pytest.raises(wire.HeaderError, match=reason.replace("'", ".").replace("(", r"\(")):
        wire.check_headers({name: value})


def test_valid_headers_pass() -> None:
    wire.check_headers({**ADAPTER_HEADERS, "X-Trace_id.v2": "  spaced value ", "Seam-Reply-To": "_INBOX.x"})


class _OldClient:
    """A client class without the private names (as if nats-py renamed them)."""

    is_connected = True
    is_draining_pubs = False
    max_payload = 1 << 20


async def test_send_hpub_declines_when_private_names_are_missing() -> None:
    client = _OldClient()
    assert wire.fast_path_ok(client) is False
    assert await wire.send_hpub(client, "a.b", "_INBOX.x", b"NATS/1.0\r\n\r\n", b"x") is False
