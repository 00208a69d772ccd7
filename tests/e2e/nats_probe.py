"""Read and change JetStream directly (as `nats` CLI would), independent of the operator's code."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats


async def _request(url: str, subject: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    nc = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=1)
    try:
        msg = await nc.request(
            subject, json.dumps(payload).encode() if payload is not None else b"", timeout=5
        )
        return dict(json.loads(msg.data))
    finally:
        await nc.close()


def js(url: str, api: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """One `$JS.API.<api>` request; the raw JSON reply (with "error" on failure)."""
    return asyncio.run(_request(url, f"$JS.API.{api}", payload))


def stream_config(url: str, name: str) -> dict[str, Any] | None:
    reply = js(url, f"STREAM.INFO.{name}")
    return None if "error" in reply else dict(reply["config"])


def consumer_config(url: str, stream: str, name: str) -> dict[str, Any] | None:
    reply = js(url, f"CONSUMER.INFO.{stream}.{name}")
    return None if "error" in reply else dict(reply["config"])


def stream_names(url: str) -> list[str]:
    return list(js(url, "STREAM.NAMES", {}).get("streams") or [])


def publish(url: str, subject: str, data: bytes, count: int = 1) -> None:
    async def go() -> None:
        nc = await nats.connect(url)
        try:
            jsctx = nc.jetstream()
            for _ in range(count):
                await jsctx.publish(subject, data, timeout=5)
        finally:
            await nc.close()

    asyncio.run(go())
