"""Connection config hashing, advisory subject parsing and connect-error classification."""

import pytest
from jetstream_operator.connections import (
    ConnectionConfig,
    NatsAuthError,
    classify_connect_error,
    parse_advisory_subject,
)
from jetstream_operator.jsapi import NatsUnavailable

pytestmark = pytest.mark.unit


def test_equal_configs_share_a_key_and_secrets_change_it() -> None:
    a = ConnectionConfig(servers=("nats://127.0.0.1:4222",), source="ns/a", user="u", password="p1")
    b = ConnectionConfig(servers=("nats://127.0.0.1:4222",), source="other/b", user="u", password="p1")
    rotated = ConnectionConfig(servers=("nats://127.0.0.1:4222",), source="ns/a", user="u", password="p2")
    assert a.key == b.key  # the display name is not part of the identity
    assert a.key != rotated.key


@pytest.mark.parametrize(
    "change",
    [
        {"servers": ("nats://127.0.0.1:4223",)},
        {"js_domain": "hub"},
        {"token": "t"},
        {"creds": "jwt"},
        {"nkey_seed": "SU..."},
        {"tls_ca": b"ca"},
    ],
)
def test_every_field_is_part_of_the_key(change: dict) -> None:
    base = ConnectionConfig(servers=("nats://127.0.0.1:4222",))
    assert ConnectionConfig(**{"servers": base.servers, **change}).key != base.key


def test_repr_never_shows_secret_values() -> None:
    config = ConnectionConfig(
        servers=("nats://127.0.0.1:4222",),
        password="hunter2",
        token="tok-123",
        creds="JWTDATA",
        tls_key=b"KEYDATA",
    )
    text = repr(config)
    for secret in ("hunter2", "tok-123", "JWTDATA", "KEYDATA"):
        assert secret not in text
    assert "nats://127.0.0.1:4222" in text


@pytest.mark.parametrize(
    ("subject", "parsed"),
    [
        ("$JS.EVENT.ADVISORY.STREAM.DELETED.ORDERS", ("stream.deleted", "ORDERS", None)),
        ("$JS.EVENT.ADVISORY.STREAM.UPDATED.ORDERS", ("stream.updated", "ORDERS", None)),
        ("$JS.EVENT.ADVISORY.CONSUMER.DELETED.ORDERS.worker", ("consumer.deleted", "ORDERS", "worker")),
        ("$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS", ("stream.created", "ORDERS", None)),
        ("$JS.EVENT.ADVISORY.CONSUMER.CREATED.ORDERS.w", ("consumer.created", "ORDERS", "w")),
        ("$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.ORDERS", None),
        ("$JS.EVENT.ADVISORY.API", None),
        ("orders.created", None),
        ("$JS.EVENT.ADVISORY.CONSUMER.DELETED.ORDERS", None),
    ],
)
def test_parse_advisory_subject(subject: str, parsed: tuple | None) -> None:
    assert parse_advisory_subject(subject) == parsed


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (Exception("nats: 'Authorization Violation'"), NatsAuthError),
        (Exception("nats: 'User Authentication Expired'"), NatsAuthError),
        (ConnectionRefusedError("Connect call failed"), NatsUnavailable),
        (None, NatsUnavailable),
    ],
)
def test_classify_connect_error(error: Exception | None, kind: type) -> None:
    assert classify_connect_error(error) is kind
