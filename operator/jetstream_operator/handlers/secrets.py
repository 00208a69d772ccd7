"""Secret changes reach the NatsConnections that read them at once, not at the next resync."""

from __future__ import annotations

from typing import Any

import kopf

from jetstream_operator.handlers.common import runtime
from jetstream_operator.registry import CONNECTION


@kopf.on.event("", "v1", "secrets")
async def secret_event(
    event: kopf.RawEvent, name: str, namespace: str | None, memo: kopf.Memo, **_: Any
) -> None:
    if event.get("type") is None or namespace is None:  # the initial listing: nothing changed
        return
    rt = runtime(memo)
    readers = [
        item
        for item in rt.registry.items()
        if item.key.plural == CONNECTION and item.key.namespace == namespace and name in item.secrets
    ]
    for item in readers:
        rt.configs.invalidate(namespace, item.key.name)
    rt.registry.nudge(readers)
