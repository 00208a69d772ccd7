"""Fixtures shared by integration modules: nats-servers that require nkey or JWT (.creds) logins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from seam_harness.nats import NatsProcess
from seam_harness.nats_auth import DecentralizedAuth, NKey, new_nkey, nkey_users_config


@pytest.fixture(scope="module")
def nkey_user() -> NKey:
    return new_nkey("user")


@pytest.fixture(scope="module")
def nkey_server(nkey_user: NKey) -> Iterator[NatsProcess]:
    """A JetStream server that only admits `nkey_user`."""
    with NatsProcess(name="nkey-auth", extra_config=nkey_users_config([nkey_user.public])) as server:
        yield server


@pytest.fixture(scope="module")
def trust() -> DecentralizedAuth:
    """A throwaway operator whose account has JetStream enabled."""
    return DecentralizedAuth.create()


@pytest.fixture(scope="module")
def jwt_server(trust: DecentralizedAuth) -> Iterator[NatsProcess]:
    """A JetStream server in decentralized-auth mode trusting `trust`'s operator."""
    with NatsProcess(name="jwt-auth", extra_config=trust.server_config()) as server:
        yield server
