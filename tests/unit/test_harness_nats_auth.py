"""The test harness's nkey and JWT helpers: encoding round trip, signatures, creds layout."""

from __future__ import annotations

import base64
import json

import nkeys
import pytest

from seam_harness.nats_auth import (
    JWT_HEADER,
    DecentralizedAuth,
    JwtError,
    account_claims,
    creds_text,
    decode_jwt,
    decode_public_key,
    encode_jwt,
    new_nkey,
    nkey_from_raw,
    nkey_users_config,
    user_claims,
    verify_jwt,
)

pytestmark = pytest.mark.unit

OPERATOR = nkey_from_raw(bytes(range(32)), "operator")
ACCOUNT = nkey_from_raw(bytes(range(1, 33)), "account")
USER = nkey_from_raw(bytes(range(2, 34)), "user")


@pytest.mark.parametrize(
    ("key", "public_prefix", "seed_prefix"),
    [(OPERATOR, "O", b"SO"), (ACCOUNT, "A", b"SA"), (USER, "U", b"SU")],
)
def test_nkey_prefixes_and_seed_round_trip(key, public_prefix: str, seed_prefix: bytes) -> None:
    assert key.public.startswith(public_prefix) and len(key.public) == 56
    assert key.seed.startswith(seed_prefix)
    assert nkeys.from_seed(bytearray(key.seed)).public_key.decode() == key.public
    assert decode_public_key(key.public)[0] == key.role


def test_same_raw_material_gives_same_key_and_random_keys_differ() -> None:
    assert nkey_from_raw(bytes(range(32)), "operator") == OPERATOR
    assert new_nkey("user").public != new_nkey("user").public


def test_seed_never_in_repr() -> None:
    assert USER.seed.decode() not in repr(USER)
    auth = DecentralizedAuth.create()
    assert auth.app.key.seed.decode() not in repr(auth)
    assert auth.operator.seed.decode() not in repr(auth)


def test_encode_decode_round_trip_keeps_claims_and_sets_issuer() -> None:
    claims = user_claims(USER, "alice")
    token = encode_jwt(claims, ACCOUNT, issued_at=1_700_000_000)
    header, decoded = decode_jwt(token)
    assert header == JWT_HEADER
    assert decoded["sub"] == USER.public and decoded["name"] == "alice"
    assert decoded["iss"] == ACCOUNT.public and decoded["iat"] == 1_700_000_000
    assert decoded["nats"] == claims["nats"]
    assert decoded["jti"] and decoded["jti"] == decoded["jti"].upper()
    assert verify_jwt(token) == decoded


def test_token_is_unpadded_base64url_in_three_parts() -> None:
    token = encode_jwt(account_claims(ACCOUNT, "APP", jetstream=True), OPERATOR, issued_at=1)
    parts = token.split(".")
    assert len(parts) == 3
    assert all("=" not in p and "+" not in p and "/" not in p for p in parts)
    assert json.loads(base64.urlsafe_b64decode(parts[0] + "==")) == JWT_HEADER


def test_jti_depends_on_the_claims() -> None:
    a = decode_jwt(encode_jwt(user_claims(USER, "a"), ACCOUNT, issued_at=1))[1]["jti"]
    b = decode_jwt(encode_jwt(user_claims(USER, "b"), ACCOUNT, issued_at=1))[1]["jti"]
    again = decode_jwt(encode_jwt(user_claims(USER, "a"), ACCOUNT, issued_at=1))[1]["jti"]
    assert a != b and a == again


def test_tampered_claims_fail_verification() -> None:
    head, payload, sig = encode_jwt(user_claims(USER, "alice"), ACCOUNT).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["name"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(JwtError, match="signature does not verify"):
        verify_jwt(f"{head}.{forged}.{sig}")


def test_signature_by_another_key_fails_verification() -> None:
    token = encode_jwt(user_claims(USER, "alice"), ACCOUNT)
    head, payload, _ = token.split(".")
    other_sig = base64.urlsafe_b64encode(OPERATOR.sign(f"{head}.{payload}".encode())).rstrip(b"=").decode()
    with pytest.raises(JwtError, match="signature does not verify"):
        verify_jwt(f"{head}.{payload}.{other_sig}")


@pytest.mark.parametrize(
    ("token", "match"),
    [
        ("a.b", "3 dot-separated parts"),
        ("!!!.###.sig", "not base64url JSON"),
        (
            base64.urlsafe_b64encode(b'{"alg":"HS256"}').decode().rstrip("=") + ".e30.x",
            "unexpected JWT header",
        ),
    ],
)
def test_malformed_tokens_are_rejected(token: str, match: str) -> None:
    with pytest.raises(JwtError, match=match):
        verify_jwt(token)


def test_bad_public_keys_are_rejected() -> None:
    flipped = USER.public[:-1] + ("A" if USER.public[-1] != "A" else "B")
    with pytest.raises(JwtError):
        decode_public_key(flipped)
    with pytest.raises(JwtError, match="bytes"):
        decode_public_key(USER.public[:16])


def test_account_jetstream_limits_only_when_enabled() -> None:
    on = account_claims(ACCOUNT, "APP", jetstream=True)["nats"]["limits"]
    off = account_claims(ACCOUNT, "SYS", jetstream=False)["nats"]["limits"]
    assert on["disk_storage"] == -1 and on["mem_storage"] == -1
    assert "disk_storage" not in off and "mem_storage" not in off


def test_trust_chain_signatures() -> None:
    auth = DecentralizedAuth.create()
    op = verify_jwt(auth.operator_jwt)
    assert op["iss"] == op["sub"] == auth.operator.public
    assert op["nats"]["system_account"] == auth.system.key.public
    for account in (auth.system, auth.app):
        claims = verify_jwt(account.jwt)
        assert claims["iss"] == auth.operator.public and claims["sub"] == account.key.public


def test_server_config_trusts_operator_and_preloads_both_accounts() -> None:
    auth = DecentralizedAuth.create()
    config = auth.server_config()
    assert f"operator: {auth.operator_jwt}" in config
    assert f"system_account: {auth.system.key.public}" in config
    assert "resolver: MEMORY" in config
    assert f"{auth.app.key.public}: {auth.app.jwt}" in config
    assert f"{auth.system.key.public}: {auth.system.jwt}" in config
    assert auth.operator.seed.decode() not in config and auth.app.key.seed.decode() not in config


def test_creds_text_layout_and_user_issuer() -> None:
    auth = DecentralizedAuth.create()
    creds = auth.user_creds("alice")
    lines = creds.splitlines()
    jwt = lines[lines.index("-----BEGIN NATS USER JWT-----") + 1]
    seed = lines[lines.index("-----BEGIN USER NKEY SEED-----") + 1]
    claims = verify_jwt(jwt)
    assert claims["iss"] == auth.app.key.public and claims["name"] == "alice"
    assert nkeys.from_seed(bytearray(seed.encode())).public_key.decode() == claims["sub"]
    other = new_nkey("account")
    foreign = auth.user_creds(signer=other)
    foreign_jwt = foreign.splitlines()[1]
    assert verify_jwt(foreign_jwt)["iss"] == other.public


def test_creds_text_exact_blocks() -> None:
    text = creds_text("H.C.S", b"SUXYZ")
    assert text.startswith("-----BEGIN NATS USER JWT-----\nH.C.S\n------END NATS USER JWT------\n")
    assert "-----BEGIN USER NKEY SEED-----\nSUXYZ\n------END USER NKEY SEED------\n" in text


def test_nkey_users_config() -> None:
    config = nkey_users_config([USER.public, "UOTHER"])
    assert config == f'authorization {{ users: [ {{ nkey: "{USER.public}" }}, {{ nkey: "UOTHER" }} ] }}'
