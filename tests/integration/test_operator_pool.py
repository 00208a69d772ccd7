"""The operator's NATS edge against a real nats-server: pooled connections, advisories, raw API."""

from __future__ import annotations

import asyncio
import json
import tempfile
import urllib.request
from pathlib import Path

import nats
import pytest
from jetstream_operator.connections import ConnectionConfig, ConnectionPool, NatsAuthError
from jetstream_operator.jsapi import (
    CONSUMER_NOT_UPDATABLE_CODES,
    JetStreamAPI,
    JetStreamError,
    NatsUnavailable,
)

from seam_harness.certs import TinyCA
from seam_harness.nats import NatsProcess

pytestmark = pytest.mark.integration


def operator_connections(server: NatsProcess) -> list[dict]:
    with urllib.request.urlopen(f"{server.monitor_url}/connz?subs=1", timeout=5) as resp:
        connz = json.load(resp)
    return [
        c
        for c in connz.get("connections") or []
        if str(c.get("name", "")).startswith("seam-jetstream-operator")
    ]


async def test_two_hundred_owners_share_one_connection(nats_server: NatsProcess) -> None:
    pool = ConnectionPool()
    config = ConnectionConfig(servers=(nats_server.url,), source="test")
    apis = [await pool.acquire(f"streams/ns/s{i}", config) for i in range(200)]
    assert len({id(api) for api in apis}) == 1
    assert pool.stats() == {config.key: 200}
    assert len(operator_connections(nats_server)) == 1
    for i in range(199):
        await pool.release(f"streams/ns/s{i}")
    assert len(operator_connections(nats_server)) == 1
    await pool.release("streams/ns/s199")
    await asyncio.sleep(0.2)
    assert pool.stats() == {}
    assert operator_connections(nats_server) == []


async def test_rebinding_to_a_new_config_closes_the_old_connection(nats_server: NatsProcess) -> None:
    pool = ConnectionPool()
    old = ConnectionConfig(servers=(nats_server.url,), source="old")
    new = ConnectionConfig(
        servers=(nats_server.url,), source="new", token="rotated"
    )  # no-auth server: accepted
    await pool.acquire("owner", old)
    await pool.acquire("owner", new)
    await asyncio.sleep(0.2)
    names = [c["name"] for c in operator_connections(nats_server)]
    assert names == ["seam-jetstream-operator (new)"]
    assert pool.stats() == {new.key: 1}
    await pool.close_all()
    await asyncio.sleep(0.2)
    assert operator_connections(nats_server) == []


async def test_wrong_credentials_are_reported_as_auth_error() -> None:
    server = NatsProcess(extra_config="authorization { user: app, password: right }")
    server.start()
    try:
        pool = ConnectionPool()
        bad = ConnectionConfig(servers=(server.url,), source="ns/bad", user="app", password="wrong")
        with pytest.raises(NatsAuthError) as info:
            await pool.acquire("owner", bad)
        assert "credentials rejected" in str(info.value)
        assert "wrong" not in str(info.value)
        good = ConnectionConfig(servers=(server.url,), source="ns/good", user="app", password="right")
        api = await pool.acquire("owner", good)
        assert "memory" in await api.account_info()
        await pool.close_all()
    finally:
        server.stop()


async def test_unreachable_server_fails_fast() -> None:
    pool = ConnectionPool(connect_timeout=1)
    config = ConnectionConfig(servers=("nats://127.0.0.1:1",), source="nowhere")
    with pytest.raises(NatsUnavailable) as info:
        await asyncio.wait_for(pool.acquire("owner", config), 15)
    assert "cannot connect" in str(info.value)
    assert pool.stats() == {}


async def test_advisories_reach_the_callback(nats_server: NatsProcess) -> None:
    seen: asyncio.Queue[tuple[str, str, str | None]] = asyncio.Queue()

    async def on_advisory(key: str, kind: str, stream: str, consumer: str | None) -> None:
        await seen.put((kind, stream, consumer))

    pool = ConnectionPool(on_advisory=on_advisory)
    api = await pool.acquire("owner", ConnectionConfig(servers=(nats_server.url,)))
    await api.stream_create({"name": "ADV", "subjects": ["adv.>"]})
    await api.consumer_upsert("ADV", {"durable_name": "w", "ack_policy": "explicit"}, action="create")

    async def expect(wanted: tuple[str, str, str | None]) -> None:
        # Creations (ours above) are advisories too; wait for the wanted one in order.
        while (got := await asyncio.wait_for(seen.get(), 2)) != wanted:
            assert got[0].endswith(".created"), got

    other = await nats.connect(nats_server.url)
    try:
        js = other.jetstream()
        await js.delete_consumer("ADV", "w")
        await expect(("consumer.deleted", "ADV", "w"))
        await js.update_stream(name="ADV", subjects=["adv.>", "more.>"])
        await expect(("stream.updated", "ADV", None))
        await js.delete_stream("ADV")
        await expect(("stream.deleted", "ADV", None))
        await js.add_stream(name="NEW", subjects=["new.>"])
        await expect(("stream.created", "NEW", None))
    finally:
        await other.close()
        await pool.close_all()


async def test_jsapi_round_trip_and_error_codes(nats_server: NatsProcess) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        api = JetStreamAPI(nc, timeout=3)
        assert await api.stream_info("RT") is None
        created = await api.stream_create({"name": "RT", "subjects": ["rt.>"], "max_age": 60_000_000_000})
        assert created["config"]["max_age"] == 60_000_000_000
        updated = await api.stream_update({"name": "RT", "subjects": ["rt.>"], "max_msgs": 10})
        assert updated["config"]["max_msgs"] == 10
        with pytest.raises(JetStreamError) as info:
            await api.stream_update({"name": "RT", "subjects": ["rt.>"], "storage": "memory"})
        assert "storage" in info.value.description
        await api.consumer_upsert("RT", {"durable_name": "c", "ack_policy": "explicit"}, action="create")
        with pytest.raises(JetStreamError) as info:
            await api.consumer_upsert(
                "RT",
                {"durable_name": "c", "ack_policy": "explicit", "deliver_policy": "new"},
                action="update",
            )
        assert info.value.err_code in CONSUMER_NOT_UPDATABLE_CODES
        assert (await api.consumer_info("RT", "c"))["config"]["deliver_policy"] == "all"
        assert await api.consumer_delete("RT", "c") is True
        assert await api.consumer_delete("RT", "c") is False
        assert await api.stream_delete("RT") is True
        assert await api.stream_delete("RT") is False
    finally:
        await nc.close()


async def test_requests_fail_as_unavailable_when_the_server_is_down(nats_server: NatsProcess) -> None:
    pool = ConnectionPool(request_timeout=1)
    api = await pool.acquire("owner", ConnectionConfig(servers=(nats_server.url,)))
    nats_server.stop()
    with pytest.raises(NatsUnavailable):
        await api.stream_info("ANY")
    await pool.close_all()


async def test_token_auth(tmp_path: Path) -> None:
    server = NatsProcess(name="tok", extra_config='authorization { token: "t0ken-value" }')
    server.start()
    try:
        pool = ConnectionPool()
        with pytest.raises(NatsAuthError):
            await pool.acquire("a", ConnectionConfig(servers=(server.url,), token="bad"))
        api = await pool.acquire("a", ConnectionConfig(servers=(server.url,), token="t0ken-value"))
        assert "memory" in await api.account_info()
        await pool.close_all()
    finally:
        server.close()


def _tls_key_files() -> list[Path]:
    """Client keys the pool wrote for ssl (it cannot load them from memory)."""
    return [
        p / "tls.key" for p in Path(tempfile.gettempdir()).glob("seam-op-tls-*") if (p / "tls.key").exists()
    ]


async def test_mutual_tls_from_pem_material(tmp_path: Path) -> None:
    ca = TinyCA()
    server_crt, server_key = ca.serving_cert(["127.0.0.1", "localhost"]).write(tmp_path, "server")
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(ca.cert_pem)
    server = NatsProcess(
        name="tls",
        extra_config=(
            f'tls {{ cert_file: "{server_crt}", key_file: "{server_key}", '
            f'ca_file: "{ca_file}", verify: true }}'
        ),
    )
    server.start()
    try:
        client = ca.client_cert("operator")
        pool = ConnectionPool()
        good = ConnectionConfig(
            servers=(f"tls://127.0.0.1:{server.port}",),
            tls_ca=ca.cert_pem,
            tls_cert=client.cert_pem,
            tls_key=client.key_pem,
        )
        api = await pool.acquire("a", good)
        assert "memory" in await api.account_info()
        key_files = _tls_key_files()
        assert key_files and all(path.stat().st_mode & 0o077 == 0 for path in key_files)
        await pool.release("a")
        assert not any(path.exists() for path in key_files)  # key material removed on close

        # Without a client certificate the server refuses the handshake.
        no_cert = ConnectionConfig(servers=(f"tls://127.0.0.1:{server.port}",), tls_ca=ca.cert_pem)
        with pytest.raises(NatsUnavailable):
            await pool.acquire("b", no_cert)
        # Garbage CA material is a clear configuration error, not a crash.
        with pytest.raises(NatsUnavailable) as info:
            await pool.acquire("c", ConnectionConfig(servers=(server.url,), tls_ca=b"not a pem"))
        assert "TLS material" in str(info.value)
        await pool.close_all()
    finally:
        server.close()
