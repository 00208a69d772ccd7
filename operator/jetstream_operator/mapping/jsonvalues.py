"""How spec values are spelled in the JetStream API JSON (times, enum words)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def rfc3339(value: datetime) -> str:
    """UTC RFC 3339 with a ``Z`` suffix, as the NATS server writes times (naive = UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def snake_enum(value: str) -> str:
    """A camelCase CR enum word as the server's snake_case one (``byStartTime`` -> ``by_start_time``)."""
    return _CAMEL_BOUNDARY.sub("_", value).lower()
