"""nkey seed files and .creds files (decentralized JWT auth) against real nats-servers.

Each server runs with JetStream; the JWT server trusts a throwaway operator whose account has
JetStream enabled, so stream creation, publish acks and consume acks all go through that auth.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from adapter_runtime import NatsClient, NatsServer
from adapter_runtime.connection import CredentialFileError
from adapter_runtime.settings import SettingsError
from seam_harness.nats import NatsProcess
from seam_harness.nats_auth import DecentralizedAuth, NKey, new_nkey
from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration


def _opts(server: NatsProcess, **kw: object) -> dict[str, Any]:
    return {
        "server_urls": [server.url],
        "metrics_port": 0,
        "health_port": 0,
        "max_reconnects": 0,
        "connect_timeout": 2.0,
        "fetch_timeout": 1.0,
        **kw,
    }


def _accounts_by_client(server: NatsProcess) -> dict[str, str]:
    """Client name -> account it is logged into, from the server's own connection list."""
    with urllib.request.urlopen(f"{server.monitor_url}/connz?auth=true", timeout=5) as resp:
        conns = json.load(resp).get("connections") or []
    return {c.get("name", ""): c.get("account", "") for c in conns}


async def _round_trip(server: NatsProcess, stream: str, subject: str, **auth: object) -> None:
    """Create `stream`, publish 3 messages, consume and ack them all; assert the server saw it."""
    got: list[Any] = []
    opts = _opts(server, stream_name=stream, stream_subjects=[f"{subject}.>"], **auth)
    async with NatsClient(**opts, client_id=f"{stream}-pub") as client:
        acks = [await client.publish(f"{subject}.x", {"n": i}) for i in range(3)]
        assert [a.seq for a in acks] == [1, 2, 3] and {a.stream for a in acks} == {stream}

    async def handler(subj: str, data: Any, reply_to: str | None = None) -> None:
        got.append(data)

    async with NatsServer(**opts, client_id=f"{stream}-sub") as consumer:
        await consumer.subscribe(f"{subject}.x", handler)
        await wait_for(lambda: consumer.stats["acked"] == 3, 30, "3 acked messages")
        assert consumer.js is not None
        info = await consumer.js.consumer_info(stream, consumer._subs[0].consumer)
        for _ in range(40):  # the ack reaches the server a moment after the handler returns
            if info.num_ack_pending == 0 and info.ack_floor.stream_seq == 3:
                break
            await asyncio.sleep(0.05)
            info = await consumer.js.consumer_info(stream, consumer._subs[0].consumer)
        assert info.num_ack_pending == 0 and info.ack_floor.stream_seq == 3
    assert sorted(d["n"] for d in got) == [0, 1, 2]


async def test_nkey_seed_file_publish_and_consume(
    nkey_server: NatsProcess, nkey_user: NKey, tmp_path: Path
) -> None:
    seed = tmp_path / "user.nk"
    seed.write_bytes(nkey_user.seed + b"\n")
    await _round_trip(nkey_server, "NKEYS", "nk", nkey_seed_file=seed)


async def test_creds_file_stream_publish_and_consume_in_the_jwt_account(
    jwt_server: NatsProcess, trust: DecentralizedAuth, tmp_path: Path
) -> None:
    creds = tmp_path / "user.creds"
    creds.write_text(trust.user_creds("adapter"))
    await _round_trip(jwt_server, "CREDS", "cr", creds_file=creds)
    async with NatsClient(**_opts(jwt_server, creds_file=creds, client_id="who-am-i")):
        assert _accounts_by_client(jwt_server)["who-am-i"] == trust.app.key.public


async def test_wrong_nkey_seed_is_refused_naming_the_setting(
    nkey_server: NatsProcess, tmp_path: Path
) -> None:
    seed = tmp_path / "other.nk"
    stranger = new_nkey("user")
    seed.write_bytes(stranger.seed)
    with pytest.raises(ConnectionError) as info:
        await NatsClient(**_opts(nkey_server, nkey_seed_file=seed)).connect()
    text = str(info.value)
    assert "authorization refused" in text and "Authorization Violation" in text
    assert "(check nkey_seed_file)" in text
    assert stranger.seed.decode() not in text


async def test_user_jwt_of_another_account_is_refused(
    jwt_server: NatsProcess, trust: DecentralizedAuth, tmp_path: Path
) -> None:
    creds = tmp_path / "foreign.creds"
    foreign = trust.user_creds("intruder", signer=new_nkey("account"))
    creds.write_text(foreign)
    with pytest.raises(ConnectionError) as info:
        await NatsClient(**_opts(jwt_server, creds_file=creds)).connect()
    text = str(info.value)
    assert "authorization refused" in text and "Authorization Violation" in text
    assert "(check creds_file)" in text
    assert _seed_line(foreign) not in text and foreign.splitlines()[1] not in text


async def test_missing_creds_file_is_a_settings_error(jwt_server: NatsProcess, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        NatsClient(**_opts(jwt_server, creds_file=tmp_path / "absent.creds"))
    assert list(info.value.problems) == ["SEAM_NATS_CREDS_FILE"]
    assert "does not exist" in info.value.problems["SEAM_NATS_CREDS_FILE"]


def _seed_line(creds: str) -> str:
    lines = creds.splitlines()
    return lines[lines.index("-----BEGIN USER NKEY SEED-----") + 1]


def _malformed_creds(trust: DecentralizedAuth) -> dict[str, str]:
    good = trust.user_creds("broken")
    jwt_block_end = good.index("------END NATS USER JWT------")
    return {
        "garbage": "not a creds file\n",
        # nats-py alone loops forever inside the event loop on a file without the JWT block
        "seed block only": good[jwt_block_end:],
        "jwt block only": good[: good.index("************************* IMPORTANT")],
        "truncated seed": good.replace(_seed_line(good), _seed_line(good)[:20]),
        "seed without newline": good[: good.index(_seed_line(good)) + len(_seed_line(good))],
    }


@pytest.mark.parametrize(
    "case", ["garbage", "seed block only", "jwt block only", "truncated seed", "seed without newline"]
)
async def test_malformed_creds_file_fails_once_and_clearly(
    jwt_server: NatsProcess, trust: DecentralizedAuth, tmp_path: Path, case: str
) -> None:
    text = _malformed_creds(trust)[case]
    creds = tmp_path / "bad.creds"
    creds.write_text(text)
    client = NatsClient(**_opts(jwt_server, creds_file=creds, max_reconnects=3))
    with pytest.raises(CredentialFileError) as info:
        await asyncio.wait_for(client.connect(), 10)
    message = str(info.value)
    assert message.startswith(f"creds_file {str(creds)!r} is not a NATS .creds file")
    for line in text.splitlines():
        if line.startswith(("SU", "eyJ")):
            assert line not in message and line[:20] not in message


@pytest.mark.parametrize("content", [b"", b"SUNOTAREALSEED\n", b"\xff\xfe binary", b"account"])
async def test_malformed_nkey_seed_file_fails_clearly(
    nkey_server: NatsProcess, tmp_path: Path, content: bytes
) -> None:
    seed = tmp_path / "bad.nk"
    seed.write_bytes(content)
    expected = r"^nkey_seed_file '.*bad\.nk' (does not hold a user nkey seed|is not a text file)"
    with pytest.raises(CredentialFileError, match=expected):
        await asyncio.wait_for(NatsClient(**_opts(nkey_server, nkey_seed_file=seed)).connect(), 10)


async def test_account_seed_instead_of_user_seed_is_rejected_locally(
    nkey_server: NatsProcess, tmp_path: Path
) -> None:
    account = new_nkey("account")
    seed = tmp_path / "account.nk"
    seed.write_bytes(account.seed)
    with pytest.raises(CredentialFileError, match="does not hold a user nkey seed") as info:
        await NatsClient(**_opts(nkey_server, nkey_seed_file=seed)).connect()
    assert account.seed.decode() not in str(info.value)


async def test_no_credentials_against_an_nkey_server_says_none_are_set(nkey_server: NatsProcess) -> None:
    with pytest.raises(ConnectionError, match=r"authorization refused.*\(check credentials: none are set\)"):
        await NatsClient(**_opts(nkey_server)).connect()


async def test_creds_file_broken_by_rotation_fails_reconnects_clearly_and_a_fixed_one_recovers(
    trust: DecentralizedAuth, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The file is re-read and checked on every reconnect: nats-py would hang on a file with no JWT."""
    creds = tmp_path / "rotating.creds"
    good = trust.user_creds("rotating")
    creds.write_text(good)
    server = NatsProcess(name="jwt-rotate", extra_config=trust.server_config()).start()
    ticks = 0

    async def ticker() -> None:  # proves the event loop keeps running while reconnects fail
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    beat = asyncio.create_task(ticker())
    try:
        opts = _opts(server, creds_file=creds, max_reconnects=-1, reconnect_wait=0.1, stream_name="ROT")
        async with NatsClient(**opts, stream_subjects=["rot.>"]) as client:
            assert (await client.publish("rot.a", {"n": 1})).seq == 1
            creds.write_text("-----BEGIN NATS USER JWT-----\n")  # rotated into a broken file
            caplog.clear()
            server.restart()
            await wait_for(
                lambda: "is not a NATS .creds file" in caplog.text, 20, "a clear error on reconnect"
            )
            before = ticks
            await asyncio.sleep(0.5)
            assert ticks > before, "the event loop must not hang on the broken file"
            assert not client.nc.is_connected
            creds.write_text(good)
            await wait_for(lambda: client.nc.is_connected, 20, "reconnect with the fixed file")
            assert (await client.publish("rot.a", {"n": 2})).seq == 2
        seed = next(line for line in good.splitlines() if line.startswith("SU"))
        assert seed not in caplog.text  # the seed is never logged
    finally:
        beat.cancel()
        server.close()
