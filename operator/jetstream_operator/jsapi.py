"""A thin JetStream API client: raw JSON requests on `$JS.API.*` with the mapping dicts.

Raw requests (instead of nats-py's typed JetStream manager) make every server field usable
the day the mapping emits it, and give the operator the server's exact error codes.
"""

from __future__ import annotations

import json
from typing import Any

import nats.errors
from nats.aio.client import Client

# Server error codes the reconcilers act on (see the nats-server errors.json).
STREAM_NOT_FOUND = 10059
CONSUMER_NOT_FOUND = 10014
CONSUMER_NOT_UPDATABLE_CODES = frozenset({10012, 10013})  # deliver policy etc. cannot be updated


class NatsUnavailable(Exception):
    """The server could not be reached or did not answer: transient, retried."""


class JetStreamError(Exception):
    """An error reply of the JetStream API."""

    def __init__(self, code: int, err_code: int, description: str) -> None:
        super().__init__(f"{description} (code {code}, err_code {err_code})")
        self.code = code
        self.err_code = err_code
        self.description = description

    @property
    def not_found(self) -> bool:
        return self.code == 404 or self.err_code in (STREAM_NOT_FOUND, CONSUMER_NOT_FOUND)


class JetStreamAPI:
    """Requests on one connection, optionally in a JetStream domain."""

    def __init__(self, nc: Client, *, domain: str | None = None, timeout: float = 5.0) -> None:
        self._nc = nc
        self._prefix = f"$JS.{domain}.API" if domain else "$JS.API"
        self._timeout = timeout

    async def _request(self, subject: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(payload).encode() if payload is not None else b""
        try:
            msg = await self._nc.request(f"{self._prefix}.{subject}", data, timeout=self._timeout)
        except nats.errors.NoRespondersError as exc:
            raise NatsUnavailable("JetStream is not enabled or not available (no responders)") from exc
        except (TimeoutError, nats.errors.TimeoutError) as exc:
            raise NatsUnavailable(f"JetStream API request timed out after {self._timeout:g}s") from exc
        except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError) as exc:
            raise NatsUnavailable("connection to NATS is closed or reconnecting") from exc
        except nats.errors.Error as exc:
            raise NatsUnavailable(f"NATS request failed: {exc}") from exc
        reply: dict[str, Any] = json.loads(msg.data or b"{}")
        error = reply.get("error")
        if error:
            raise JetStreamError(
                int(error.get("code", 0)), int(error.get("err_code", 0)), str(error.get("description", ""))
            )
        return reply

    async def account_info(self) -> dict[str, Any]:
        return await self._request("INFO")

    async def stream_info(self, name: str) -> dict[str, Any] | None:
        """The stream's info (config, state, cluster), or None when it does not exist."""
        try:
            return await self._request(f"STREAM.INFO.{name}")
        except JetStreamError as exc:
            if exc.not_found:
                return None
            raise

    async def stream_create(self, config: dict[str, Any]) -> dict[str, Any]:
        return await self._request(f"STREAM.CREATE.{config['name']}", config)

    async def stream_update(self, config: dict[str, Any]) -> dict[str, Any]:
        return await self._request(f"STREAM.UPDATE.{config['name']}", config)

    async def stream_delete(self, name: str) -> bool:
        """Delete a stream; False when it did not exist."""
        try:
            await self._request(f"STREAM.DELETE.{name}")
        except JetStreamError as exc:
            if exc.not_found:
                return False
            raise
        return True

    async def consumer_info(self, stream: str, name: str) -> dict[str, Any] | None:
        try:
            return await self._request(f"CONSUMER.INFO.{stream}.{name}")
        except JetStreamError as exc:
            if exc.not_found:
                return None
            raise

    async def consumer_upsert(self, stream: str, config: dict[str, Any], *, action: str) -> dict[str, Any]:
        """Create (`action="create"`) or update (`"update"`) a durable consumer."""
        name = config.get("durable_name") or config["name"]
        body = {"stream_name": stream, "config": config, "action": action}
        return await self._request(f"CONSUMER.CREATE.{stream}.{name}", body)

    async def consumer_delete(self, stream: str, name: str) -> bool:
        try:
            await self._request(f"CONSUMER.DELETE.{stream}.{name}")
        except JetStreamError as exc:
            if exc.not_found:
                return False
            raise
        return True
