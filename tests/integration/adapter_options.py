"""Adapter settings for tests against the harness nats-server.

Metrics and health servers are off (port 0) so tests can run side by side, and fetches are short
so a test sees a change within a second rather than after the production fetch timeout.
"""

from __future__ import annotations

from typing import Any


def adapter_options(url: str, **overrides: Any) -> dict[str, Any]:
    """NatsClient/NatsServer keyword options for the server at `url`; `overrides` win."""
    return {"server_urls": [url], "metrics_port": 0, "health_port": 0, "fetch_timeout": 1.0, **overrides}
