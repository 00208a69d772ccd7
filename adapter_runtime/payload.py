"""Turn handler data into bytes and back (pure): JSON for dict/list/pydantic models, UTF-8 for str,
raw bytes.

The content type travels in ``Seam-Content-Type`` so a consumer hands the handler the same kind of
value the publisher passed. Messages without the header (foreign publishers) are tried as JSON
and otherwise handed over as bytes.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

JSON = "json"
TEXT = "text"
BYTES = "bytes"


class PayloadError(ValueError):
    """The payload cannot be encoded or decoded as its content type says."""


def encode(data: Any) -> tuple[bytes, str]:
    """Serialize publishable data; returns (bytes, content type)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), BYTES
    if isinstance(data, str):
        return data.encode(), TEXT
    if isinstance(data, (dict, list)):
        try:
            return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(), JSON
        except (TypeError, ValueError) as exc:
            raise PayloadError(f"data is not JSON serializable: {exc}") from None
    if isinstance(data, BaseModel):
        return data.model_dump_json().encode(), JSON
    raise PayloadError(f"data must be dict, list, str, bytes or a pydantic model, got {type(data).__name__}")


def decode(raw: bytes, content_type: str | None) -> Any:
    """Inverse of :func:`encode`; raises PayloadError for undecodable payloads."""
    if content_type == BYTES:
        return raw
    if content_type == TEXT:
        try:
            return raw.decode()
        except UnicodeDecodeError as exc:
            raise PayloadError(f"payload is not UTF-8 text: {exc}") from None
    if content_type == JSON:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise PayloadError(f"payload is not valid JSON: {exc}") from None
    if content_type is None:
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    raise PayloadError(f"unknown Seam-Content-Type {content_type!r}")
