"""Credentials from files: user/password and token against a real nats-server with auth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapter_runtime import NatsClient, NatsServer
from seam_harness.nats import NatsProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def auth_server() -> Iterator[NatsProcess]:
    server = NatsProcess(name="auth", extra_config='authorization { user: "bob", password: "s3cret-pw" }')
    server.start()
    try:
        yield server
    finally:
        server.close()


def _opts(server: NatsProcess, **kw: object) -> dict[str, object]:
    return {"server_urls": [server.url], "metrics_port": 0, "health_port": 0, "max_reconnects": 0, **kw}


async def test_user_password_file(auth_server: NatsProcess, tmp_path: Path) -> None:
    pw = tmp_path / "password"
    pw.write_text("s3cret-pw\n")
    async with NatsClient(**_opts(auth_server, user="bob", password_file=pw)) as client:
        ack = await client.publish("auth.x", {"ok": True})
        assert ack.seq == 1
    async with NatsServer(**_opts(auth_server, user="bob", password_file=pw, fetch_timeout=1.0)) as server:
        await server.subscribe("auth.x", lambda *a: None)
        assert server.ready()


async def test_wrong_password_is_refused(auth_server: NatsProcess, tmp_path: Path) -> None:
    pw = tmp_path / "password"
    pw.write_text("wrong")
    client = NatsClient(**_opts(auth_server, user="bob", password_file=pw))
    with pytest.raises(ConnectionError, match=r"authorization refused.*Authorization Violation"):
        await client.connect()


async def test_unreachable_server_fails_after_max_reconnects(tmp_path: Path) -> None:
    from seam_harness.process import free_port

    client = NatsClient(
        server_urls=[f"nats://127.0.0.1:{free_port()}"],
        metrics_port=0,
        health_port=0,
        max_reconnects=1,
        reconnect_wait=0.05,
        connect_timeout=0.5,
    )
    with pytest.raises(ConnectionError, match=r"cannot connect to nats://127\.0\.0\.1:.* after 2 attempt"):
        await client.connect()
