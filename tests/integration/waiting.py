"""Polling for a condition in async integration tests (one copy, shared by the adapter tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def wait_for(pred: Callable[[], Any], limit: float, what: str) -> None:
    """Poll `pred` every 50 ms for `limit` seconds; fail naming `what` if it never holds."""
    for _ in range(int(limit * 20)):
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
