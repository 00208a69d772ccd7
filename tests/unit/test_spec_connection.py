"""NatsConnectionSpec: servers, exactly one auth method, TLS pairs, no cross-namespace Secrets."""

from __future__ import annotations

from typing import Any

import pytest
from jetstream_operator.spec import NatsConnectionSpec, SpecError

pytestmark = pytest.mark.unit

SERVERS = {"servers": ["nats://nats.default.svc:4222"]}


def load(spec: dict[str, Any]) -> NatsConnectionSpec:
    return NatsConnectionSpec.from_resource(
        {"kind": "NatsConnection", "metadata": {"name": "c"}, "spec": spec}
    )


@pytest.mark.parametrize(
    ("auth", "method"),
    [
        ({"credsSecretRef": {"name": "s", "key": "user.creds"}}, "credsSecretRef"),
        ({"nkeySecretRef": {"name": "s", "key": "seed"}}, "nkeySecretRef"),
        ({"tokenSecretRef": {"name": "s", "key": "token"}}, "tokenSecretRef"),
        ({"userPasswordSecretRef": {"name": "s"}}, "userPasswordSecretRef"),
    ],
)
def test_each_auth_method(auth: dict[str, Any], method: str) -> None:
    assert load({**SERVERS, "auth": auth}).auth.method == method  # type: ignore[union-attr]


def test_user_password_keys_default_to_basic_auth_secret() -> None:
    ref = load({**SERVERS, "auth": {"userPasswordSecretRef": {"name": "s"}}}).auth.user_password_secret_ref  # type: ignore[union-attr]
    assert ref is not None and (ref.username_key, ref.password_key) == ("username", "password")


def test_full_connection() -> None:
    conn = load(
        {
            "servers": ["tls://a:4222", "nats://b", "wss://[::1]:443/"],
            "jsDomain": "hub",
            "tls": {
                "caSecretRef": {"name": "tls", "key": "ca.crt"},
                "certSecretRef": {"name": "tls", "key": "tls.crt"},
                "keySecretRef": {"name": "tls", "key": "tls.key"},
            },
        }
    )
    assert conn.js_domain == "hub" and conn.tls is not None and conn.auth is None


INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({}, "spec.servers", "required"),
    ({"servers": []}, "spec.servers", "at least 1"),
    ({"servers": ["http://a:80"]}, "spec.servers[0]", "invalid server URL"),
    ({"servers": ["nats://a:4222/path"]}, "spec.servers[0]", "invalid server URL"),
    ({"servers": ["nats://app:hunter2@a:4222"]}, "spec.servers[0]", "must not carry credentials"),
    ({**SERVERS, "auth": {}}, "spec.auth.credsSecretRef", "exactly one"),
    (
        {
            **SERVERS,
            "auth": {"tokenSecretRef": {"name": "a", "key": "t"}, "nkeySecretRef": {"name": "a", "key": "n"}},
        },
        "spec.auth.tokenSecretRef",
        "got nkeySecretRef, tokenSecretRef",
    ),
    (
        {**SERVERS, "auth": {"credsSecretRef": {"name": "a", "key": "k", "namespace": "other"}}},
        "spec.auth.credsSecretRef.namespace",
        "cross-namespace",
    ),
    (
        {**SERVERS, "auth": {"userPasswordSecretRef": {"name": "a", "namespace": "other"}}},
        "spec.auth.userPasswordSecretRef.namespace",
        "cross-namespace",
    ),
    ({**SERVERS, "auth": {"tokenSecretRef": {"name": "a"}}}, "spec.auth.tokenSecretRef.key", "required"),
    (
        {**SERVERS, "auth": {"tokenSecretRef": {"name": "", "key": "k"}}},
        "spec.auth.tokenSecretRef.name",
        "at least 1",
    ),
    (
        {**SERVERS, "tls": {"certSecretRef": {"name": "t", "key": "tls.crt"}}},
        "spec.tls.keySecretRef",
        "set together",
    ),
    (
        {**SERVERS, "tls": {"caSecretRef": {"name": "t", "key": "ca.crt", "namespace": "x"}}},
        "spec.tls.caSecretRef.namespace",
        "cross-namespace",
    ),
    ({**SERVERS, "jsDomain": "a.b"}, "spec.jsDomain", "invalid NATS name"),
    ({**SERVERS, "password": "hunter2"}, "spec.password", "unknown field"),
]


@pytest.mark.parametrize(
    ("spec", "field", "reason"), INVALID, ids=[f"{i}-{c[1]}" for i, c in enumerate(INVALID)]
)
def test_invalid_spec_names_field_and_reason(spec: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(SpecError) as info:
        load(spec)
    assert info.value.field == field, info.value.problems
    assert reason in info.value.reason, info.value.reason


@pytest.mark.parametrize(
    "spec",
    [
        {**SERVERS, "password": "hunter2-secret"},
        {"servers": ["nats://app:hunter2-secret@a:4222"]},
    ],
)
def test_secret_values_never_appear_in_errors(spec: dict[str, Any]) -> None:
    with pytest.raises(SpecError) as info:
        load(spec)
    assert "hunter2-secret" not in str(info.value)
