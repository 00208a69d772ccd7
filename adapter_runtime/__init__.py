"""Seam adapter runtime: JetStream publisher/consumer used inside pods.

Heavy modules (nats, OpenTelemetry, aiohttp) load lazily on first attribute access, so
``from adapter_runtime.settings import AdapterSettings`` stays cheap and side-effect free.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapter_runtime.client import NatsClient, PublishAck
    from adapter_runtime.server import NatsServer
    from adapter_runtime.settings import AdapterSettings, SettingsError

__all__ = [
    "AdapterSettings",
    "Consumer",
    "NatsClient",
    "NatsServer",
    "PublishAck",
    "Publisher",
    "SettingsError",
]

_LAZY = {
    "NatsClient": ("adapter_runtime.client", "NatsClient"),
    "Publisher": ("adapter_runtime.client", "NatsClient"),
    "PublishAck": ("adapter_runtime.client", "PublishAck"),
    "NatsServer": ("adapter_runtime.server", "NatsServer"),
    "Consumer": ("adapter_runtime.server", "NatsServer"),
    "AdapterSettings": ("adapter_runtime.settings", "AdapterSettings"),
    "SettingsError": ("adapter_runtime.settings", "SettingsError"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'adapter_runtime' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
