"""NatsConnection with nkeySecretRef / credsSecretRef: Secret values read through the apiserver.

The pool's own logins are covered in tests/integration/test_operator_auth_nkeys.py; this checks the
whole path (Secret -> ConnectionConfig -> pool -> Stream reconcile) and that a broken Secret shows
up as a clear reason on the NatsConnection, with no secret material in status, events or the
operator log, while the operator keeps serving its other connections.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import nats
import pytest
import yaml
from nats.aio.client import RawCredentials

from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsProcess
from seam_harness.nats_auth import DecentralizedAuth, NKey, new_nkey, nkey_users_config
from tests.e2e.operator_process import (
    OperatorProcess,
    apply,
    events,
    install_crds,
    poll,
    ready,
    stream_doc,
    wait_ready,
)

pytestmark = pytest.mark.e2e


def _connection(name: str, servers: list[str], auth: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "jetstream.oppie.xyz/v1alpha1",
        "kind": "NatsConnection",
        "metadata": {"name": name},
        "spec": {"servers": servers, "auth": auth},
    }


def _secret(kube: ControlPlane, ns: str, name: str, key: str, value: str) -> None:
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": {key: value}}
    kube.kubectl("apply", "-n", ns, "-f", "-", input=yaml.safe_dump(doc))


@pytest.fixture
def nkey_user() -> NKey:
    return new_nkey("user")


@pytest.fixture
def trust() -> DecentralizedAuth:
    return DecentralizedAuth.create()


@pytest.fixture
def key_servers(nkey_user: NKey, trust: DecentralizedAuth) -> Iterator[tuple[NatsProcess, NatsProcess]]:
    nkey_server = NatsProcess(name="e2e-nkey", extra_config=nkey_users_config([nkey_user.public]))
    jwt_server = NatsProcess(name="e2e-jwt", extra_config=trust.server_config())
    nkey_server.start()
    try:
        jwt_server.start()
        try:
            yield nkey_server, jwt_server
        finally:
            jwt_server.close()
    finally:
        nkey_server.close()


async def _stream_subjects(url: str, stream: str, **auth: Any) -> list[str]:
    nc = await nats.connect(url, allow_reconnect=False, **auth)
    try:
        info = await nc.jetstream().stream_info(stream)
        return list(info.config.subjects or [])
    finally:
        await nc.close()


def test_nkey_and_creds_secrets_drive_streams_and_a_broken_creds_secret_is_reported(
    kube: ControlPlane,
    kube_namespace: str,
    key_servers: tuple[NatsProcess, NatsProcess],
    nkey_user: NKey,
    trust: DecentralizedAuth,
) -> None:
    ns = kube_namespace
    nkey_server, jwt_server = key_servers
    seed = nkey_user.seed.decode()
    creds = trust.user_creds("operator")
    _secret(kube, ns, "nk", "seed", seed + "\n")
    _secret(kube, ns, "jwt", "user.creds", creds)
    nkey_ref = {"name": "nk", "key": "seed"}
    creds_ref = {"name": "jwt", "key": "user.creds"}
    install_crds(kube)
    op = OperatorProcess(kube, ns, "nats://127.0.0.1:1", resync_seconds=120).start()
    try:
        apply(
            kube,
            ns,
            _connection("by-nkey", [nkey_server.url], {"nkeySecretRef": nkey_ref}),
            _connection("by-creds", [jwt_server.url], {"credsSecretRef": creds_ref}),
            stream_doc("nkorders", subjects=["nk.orders.>"], connectionRef={"name": "by-nkey"}),
            stream_doc("jwtorders", subjects=["jwt.orders.>"], connectionRef={"name": "by-creds"}),
        )
        for kind, name in [
            ("natsconnections", "by-nkey"),
            ("natsconnections", "by-creds"),
            ("streams", "nkorders"),
            ("streams", "jwtorders"),
        ]:
            wait_ready(kube, ns, kind, name, timeout=60)
        # The streams exist on the servers, in the accounts those credentials log into.
        got = asyncio.run(_stream_subjects(nkey_server.url, "nkorders", nkeys_seed_str=seed))
        assert got == ["nk.orders.>"]
        as_user = RawCredentials(creds)
        assert asyncio.run(_stream_subjects(jwt_server.url, "jwtorders", user_credentials=as_user)) == [
            "jwt.orders.>"
        ]

        # A creds Secret without its JWT block (nats-py alone would hang the operator on it).
        broken = creds[creds.index("------END NATS USER JWT------") :]
        _secret(kube, ns, "jwt", "user.creds", broken)
        conn = wait_ready(
            kube, ns, "natsconnections", "by-creds", status="False", reason="CredentialsRejected"
        )
        message = ready(conn)[2] or ""
        assert "is not a NATS .creds file" in message and f"NatsConnection {ns}/by-creds" in message
        # The operator's event loop kept running: a change to the other connection's Stream lands.
        assert op.healthy()
        apply(
            kube,
            ns,
            stream_doc("nkorders", subjects=["nk.orders.>", "nk.more.>"], connectionRef={"name": "by-nkey"}),
        )
        poll(
            lambda: asyncio.run(_stream_subjects(nkey_server.url, "nkorders", nkeys_seed_str=seed)),
            lambda subjects: subjects == ["nk.orders.>", "nk.more.>"],
            timeout=60,
            what="nkorders updated on the server",
        )

        everything = json.dumps(kube.kubectl_json("get", "natsconnections,streams", "-n", ns))
        for name in ("by-nkey", "by-creds", "nkorders", "jwtorders"):
            everything += json.dumps(events(kube, ns, name))
        everything += op.log()
        user_jwt = creds.splitlines()[1]
        creds_seed = next(line for line in creds.splitlines() if line.startswith("SU"))
        for secret in (seed, user_jwt, creds_seed):
            assert secret not in everything and secret[:16] not in everything
    finally:
        op.stop()
