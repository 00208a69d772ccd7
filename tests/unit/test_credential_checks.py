"""Checks on nkey seeds and .creds text before nats-py sees them (adapter files, operator Secrets)."""

from __future__ import annotations

import pytest
from jetstream_operator.connections import ConnectionConfig, NatsAuthError, check_key_material

from adapter_runtime.connection import creds_problems, is_user_seed
from seam_harness.nats_auth import creds_text, encode_jwt, nkey_from_raw, user_claims

pytestmark = pytest.mark.unit

ACCOUNT = nkey_from_raw(bytes(range(32)), "account")
USER = nkey_from_raw(bytes(range(1, 33)), "user")
JWT = encode_jwt(user_claims(USER, "u"), ACCOUNT, issued_at=1)
GOOD = creds_text(JWT, USER.seed)


def _flip(text: str, i: int) -> str:
    return text[:i] + ("B" if text[i] != "B" else "C") + text[i + 1 :]


NO_JWT = "no user JWT after a '-----BEGIN NATS USER JWT-----' line"
NO_SEED = "no user nkey seed (SU...) line after a '-----BEGIN USER NKEY SEED-----' line"


@pytest.mark.parametrize(
    ("seed", "ok"),
    [
        (USER.seed.decode(), True),
        (ACCOUNT.seed.decode(), False),  # an account seed cannot log in as a user
        (_flip(USER.seed.decode(), 20), False),  # fails the CRC16 checksum
        (USER.seed.decode()[:30], False),
        ("", False),
        ("SU", False),
        (USER.public, False),  # the public key, not the seed
    ],
)
def test_is_user_seed(seed: str, ok: bool) -> None:
    assert is_user_seed(seed) is ok


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (GOOD, []),
        (GOOD.replace("\n", "\r\n"), []),
        ("", [NO_JWT, NO_SEED]),
        ("garbage\n", [NO_JWT, NO_SEED]),
        (GOOD.replace(JWT, "not-a-jwt"), [NO_JWT]),
        (GOOD[GOOD.index("------END NATS USER JWT------") :], [NO_JWT]),
        (GOOD[: GOOD.index("************************* IMPORTANT")], [NO_SEED]),
        (GOOD.replace(USER.seed.decode(), ACCOUNT.seed.decode()), [NO_SEED]),
        (GOOD.replace(USER.seed.decode(), USER.seed.decode()[:20]), [NO_SEED]),
        # nats-py reads the seed up to its newline: a seed on the last line without one is cut short
        (GOOD[: GOOD.index(USER.seed.decode()) + len(USER.seed)], [NO_SEED]),
        ("-----BEGIN NATS USER JWT-----", [NO_JWT, NO_SEED]),
    ],
)
def test_creds_problems(text: str, problems: list[str]) -> None:
    assert creds_problems(text) == problems


def test_creds_problems_never_quote_the_text() -> None:
    broken = GOOD.replace(JWT, "x.y")
    assert all(USER.seed.decode() not in p and "x.y" not in p for p in creds_problems(broken))


def test_operator_check_passes_good_material_and_plain_configs() -> None:
    check_key_material(ConnectionConfig(servers=("nats://h:4222",), creds=GOOD))
    check_key_material(ConnectionConfig(servers=("nats://h:4222",), nkey_seed=USER.seed.decode() + "\n"))
    check_key_material(ConnectionConfig(servers=("nats://h:4222",), user="u", password="p"))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("creds", "junk", f"the creds Secret value is not a NATS .creds file ({NO_JWT}; {NO_SEED})"),
        ("nkey_seed", ACCOUNT.seed.decode(), "the nkey Secret value is not a user nkey seed"),
        ("nkey_seed", "", "the nkey Secret value is not a user nkey seed"),
    ],
)
def test_operator_check_refuses_unusable_material(field: str, value: str, expected: str) -> None:
    config = ConnectionConfig(servers=("nats://h:4222",), source="NatsConnection ns/c", **{field: value})
    with pytest.raises(NatsAuthError) as info:
        check_key_material(config)
    assert str(info.value).startswith("credentials of NatsConnection ns/c are unusable: ")
    assert expected in str(info.value)
    assert not value or value not in str(info.value)
