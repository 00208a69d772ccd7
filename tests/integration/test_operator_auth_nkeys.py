"""The operator's connection pool logging in with an nkey seed and with a .creds value (JWT auth).

The pool takes the Secret values directly (ConnectionConfig.nkey_seed / .creds), so these run
against real nats-servers without a control plane; reading the Secrets is covered in e2e.
"""

from __future__ import annotations

import asyncio

import pytest
from jetstream_operator.connections import ConnectionConfig, ConnectionPool, NatsAuthError
from jetstream_operator.reconcile.runner import as_failure

from seam_harness.nats import NatsProcess
from seam_harness.nats_auth import DecentralizedAuth, NKey, new_nkey

pytestmark = pytest.mark.integration


async def _manage_a_stream(pool: ConnectionPool, config: ConnectionConfig, name: str) -> None:
    """Create, update, read and delete a stream through the pool, as the stream reconciler does."""
    api = await pool.acquire(f"streams/ns/{name}", config)
    assert await api.stream_info(name) is None
    created = await api.stream_create({"name": name, "subjects": [f"{name.lower()}.>"], "max_msgs": 5})
    assert created["config"]["max_msgs"] == 5
    await api.stream_update({"name": name, "subjects": [f"{name.lower()}.>"], "max_msgs": 7})
    info = await api.stream_info(name)
    assert info is not None and info["config"]["max_msgs"] == 7
    assert await api.stream_delete(name) is True
    assert await api.stream_info(name) is None
    assert pool.stats() == {config.key: 1}


async def test_pool_logs_in_with_an_nkey_seed_and_manages_a_stream(
    nkey_server: NatsProcess, nkey_user: NKey
) -> None:
    pool = ConnectionPool()
    config = ConnectionConfig(servers=(nkey_server.url,), source="ns/nk", nkey_seed=nkey_user.seed.decode())
    try:
        await _manage_a_stream(pool, config, "NKEYOP")
    finally:
        await pool.close_all()


async def test_pool_logs_in_with_a_creds_value_and_gets_advisories(
    jwt_server: NatsProcess, trust: DecentralizedAuth
) -> None:
    seen: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    async def on_advisory(key: str, kind: str, stream: str, consumer: str | None) -> None:
        await seen.put((kind, stream))

    pool = ConnectionPool(on_advisory=on_advisory)
    config = ConnectionConfig(servers=(jwt_server.url,), source="ns/jwt", creds=trust.user_creds("operator"))
    try:
        await _manage_a_stream(pool, config, "CREDSOP")
        api = await pool.acquire("streams/ns/CREDSOP", config)
        account = await api.account_info()
        assert account["limits"]["max_storage"] == -1  # the JetStream limits of the app account JWT
        kinds = set()
        while ("stream.deleted", "CREDSOP") not in kinds:
            kinds.add(await asyncio.wait_for(seen.get(), 5))
        assert ("stream.created", "CREDSOP") in kinds
    finally:
        await pool.close_all()


async def _refused(pool: ConnectionPool, config: ConnectionConfig) -> str:
    """Acquire must fail with NatsAuthError, bounded in time; returns the status message."""
    with pytest.raises(NatsAuthError) as info:
        await asyncio.wait_for(pool.acquire("owner", config), 15)
    assert pool.stats() == {}
    failure = as_failure(info.value)
    assert failure.reason == "CredentialsRejected"
    return failure.message


async def test_wrong_nkey_seed_is_rejected_without_echoing_it(nkey_server: NatsProcess) -> None:
    stranger = new_nkey("user")
    config = ConnectionConfig(servers=(nkey_server.url,), source="ns/wrong", nkey_seed=stranger.seed.decode())
    message = await _refused(ConnectionPool(connect_timeout=2), config)
    assert message.startswith(f"credentials rejected by {nkey_server.url}")
    assert "Authorization Violation" in message
    assert stranger.seed.decode() not in message and stranger.seed.decode()[:12] not in message


async def test_user_of_another_account_is_rejected(jwt_server: NatsProcess, trust: DecentralizedAuth) -> None:
    creds = trust.user_creds("intruder", signer=new_nkey("account"))
    config = ConnectionConfig(servers=(jwt_server.url,), source="ns/foreign", creds=creds)
    message = await _refused(ConnectionPool(connect_timeout=2), config)
    assert message.startswith(f"credentials rejected by {jwt_server.url}")
    assert "Authorization Violation" in message
    for line in creds.splitlines():
        if line.startswith(("SU", "eyJ")):
            assert line not in message and line[:16] not in message


def _broken_creds(trust: DecentralizedAuth) -> dict[str, str]:
    good = trust.user_creds("broken")
    return {
        "garbage": "hello",
        # nats-py alone would loop forever in the operator's event loop on this one
        "no jwt block": good[good.index("------END NATS USER JWT------") :],
        "no seed block": good[: good.index("************************* IMPORTANT")],
        "a bare seed": new_nkey("user").seed.decode() + "\n",
    }


@pytest.mark.parametrize("case", ["garbage", "no jwt block", "no seed block", "a bare seed"])
async def test_unusable_creds_value_fails_clearly(
    jwt_server: NatsProcess, trust: DecentralizedAuth, case: str
) -> None:
    creds = _broken_creds(trust)[case]
    config = ConnectionConfig(servers=(jwt_server.url,), source="NatsConnection ns/bad", creds=creds)
    message = await _refused(ConnectionPool(connect_timeout=2), config)
    assert message.startswith(
        "credentials of NatsConnection ns/bad are unusable: the creds Secret value is not a NATS .creds file"
    )
    for line in creds.splitlines():
        if line.startswith(("SU", "eyJ")):
            assert line not in message and line[:16] not in message


@pytest.mark.parametrize("seed", ["", "SUNOTASEED", "not a seed at all", "account"])
async def test_unusable_nkey_value_fails_clearly(nkey_server: NatsProcess, seed: str) -> None:
    value = new_nkey("account").seed.decode() if seed == "account" else seed
    config = ConnectionConfig(servers=(nkey_server.url,), source="NatsConnection ns/bad", nkey_seed=value)
    message = await _refused(ConnectionPool(connect_timeout=2), config)
    assert message == (
        "credentials of NatsConnection ns/bad are unusable: the nkey Secret value is not a user nkey seed"
        " (one line starting with 'SU')"
    )


async def test_good_login_after_a_refusal_on_the_same_pool(nkey_server: NatsProcess, nkey_user: NKey) -> None:
    pool = ConnectionPool(connect_timeout=2)
    bad = ConnectionConfig(
        servers=(nkey_server.url,), source="ns/x", nkey_seed=new_nkey("user").seed.decode()
    )
    await _refused(pool, bad)
    good = ConnectionConfig(
        servers=(nkey_server.url,), source="ns/x", nkey_seed=nkey_user.seed.decode() + "\n"
    )
    try:
        api = await pool.acquire("owner", good)
        assert "memory" in await api.account_info()
        assert pool.stats() == {good.key: 1}
    finally:
        await pool.close_all()
