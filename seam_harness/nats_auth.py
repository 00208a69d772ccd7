"""Test support for nats-servers with key-based auth: nkey users and decentralized (JWT) auth.

Decentralized auth is the operator -> account -> user chain of NATS JWT v2: each level is an
ed25519 nkey, and each JWT is signed by the level above. The server trusts the operator JWT and
learns accounts from a MEMORY resolver preloaded with their JWTs; a client presents its user JWT
plus a nonce signature made with the user seed (the two halves of a ``.creds`` file).

Everything except key generation is pure. Seeds are kept out of ``repr`` so a failed assertion or
a log line never prints one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import nacl.exceptions
import nacl.signing
import nkeys

Role = Literal["operator", "account", "user"]

_PREFIX: dict[Role, int] = {
    "operator": nkeys.PREFIX_BYTE_OPERATOR,
    "account": nkeys.PREFIX_BYTE_ACCOUNT,
    "user": nkeys.PREFIX_BYTE_USER,
}
_ROLE_OF_PREFIX = {v: k for k, v in _PREFIX.items()}
JWT_HEADER = {"typ": "JWT", "alg": "ed25519-nkey"}
UNLIMITED = -1


class JwtError(ValueError):
    """A JWT that is malformed or whose signature does not verify."""


# ---- nkeys -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NKey:
    """One nkey: the public key (``O``/``A``/``U`` prefix) and its seed (``SO``/``SA``/``SU``)."""

    role: Role
    public: str
    seed: bytes = field(repr=False)

    def sign(self, data: bytes) -> bytes:
        return bytes(nkeys.from_seed(bytearray(self.seed)).sign(data))


def nkey_from_raw(raw: bytes, role: Role) -> NKey:
    """The nkey for 32 bytes of ed25519 seed material (deterministic: tests pin keys this way)."""
    seed = bytes(nkeys.encode_seed(raw, _PREFIX[role]))
    public = nkeys.from_seed(bytearray(seed)).public_key.decode()
    return NKey(role=role, public=public, seed=seed)


def new_nkey(role: Role) -> NKey:
    """A fresh random nkey."""
    return nkey_from_raw(os.urandom(32), role)


def decode_public_key(public: str) -> tuple[Role, bytes]:
    """Role and raw ed25519 verify key of an encoded public nkey; checks prefix and CRC16."""
    try:
        raw = base64.b32decode(public)
    except (binascii.Error, ValueError) as exc:
        raise JwtError(f"public key {public[:8]}... is not base32") from exc
    if len(raw) != 35:
        raise JwtError(f"public key {public[:8]}... has {len(raw)} bytes, want 35")
    body, crc = raw[:-2], int.from_bytes(raw[-2:], "little")
    if nkeys.crc16(bytearray(body)) != crc:
        raise JwtError(f"public key {public[:8]}... fails its CRC16 check")
    role = _ROLE_OF_PREFIX.get(body[0])
    if role is None:
        raise JwtError(f"public key {public[:8]}... is not an operator, account or user key")
    return role, bytes(body[1:])


def nkey_users_config(public_keys: list[str]) -> str:
    """nats-server ``authorization`` block admitting these user nkeys (pass as ``extra_config``)."""
    users = ", ".join(f'{{ nkey: "{pk}" }}' for pk in public_keys)
    return f"authorization {{ users: [ {users} ] }}"


# ---- JWT encoding ----------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jti(claims: dict[str, Any]) -> str:
    """Claim id as nats-io/jwt computes it: base32 (no padding) of SHA-512/256 of the claims JSON."""
    blank = {**claims, "jti": ""}
    digest = hashlib.new("sha512_256", json.dumps(blank, sort_keys=True).encode()).digest()
    return base64.b32encode(digest).decode().rstrip("=")


def encode_jwt(claims: dict[str, Any], signer: NKey, *, issued_at: int | None = None) -> str:
    """Sign ``claims`` as ``signer``: sets ``iss``, ``iat`` and ``jti``; returns ``header.claims.sig``."""
    body = {**claims, "iss": signer.public, "iat": issued_at if issued_at is not None else int(time.time())}
    body["jti"] = _jti(body)
    head = _b64url(json.dumps(JWT_HEADER, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    signing_input = f"{head}.{payload}".encode()
    return f"{head}.{payload}.{_b64url(signer.sign(signing_input))}"


def decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a JWT, without checking the signature."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise JwtError(f"a JWT has 3 dot-separated parts, got {len(parts)}")
    try:
        header = json.loads(_unb64url(parts[0]))
        claims = json.loads(_unb64url(parts[1]))
    except (binascii.Error, ValueError) as exc:
        raise JwtError(f"JWT header or claims are not base64url JSON: {exc}") from exc
    if header != JWT_HEADER:
        raise JwtError(f"unexpected JWT header {header}")
    return header, claims


def verify_jwt(token: str) -> dict[str, Any]:
    """The claims of a JWT whose signature verifies against its own ``iss`` key."""
    _, claims = decode_jwt(token)
    issuer = claims.get("iss")
    if not isinstance(issuer, str):
        raise JwtError("JWT has no issuer (iss)")
    _, raw_key = decode_public_key(issuer)
    head, payload, sig = token.strip().split(".")
    try:
        nacl.signing.VerifyKey(raw_key).verify(f"{head}.{payload}".encode(), _unb64url(sig))
    except (nacl.exceptions.BadSignatureError, binascii.Error, ValueError) as exc:
        raise JwtError(f"JWT signature does not verify against issuer {issuer}") from exc
    return claims


# ---- JWT v2 claims ---------------------------------------------------------------------------


def operator_claims(operator: NKey, name: str, system_account: str | None) -> dict[str, Any]:
    nats: dict[str, Any] = {"type": "operator", "version": 2}
    if system_account:
        nats["system_account"] = system_account
    return {"sub": operator.public, "name": name, "nats": nats}


def account_claims(account: NKey, name: str, *, jetstream: bool) -> dict[str, Any]:
    """Account claims with no limits; JetStream is on only when storage limits are non-zero."""
    limits: dict[str, Any] = {
        "subs": UNLIMITED,
        "data": UNLIMITED,
        "payload": UNLIMITED,
        "imports": UNLIMITED,
        "exports": UNLIMITED,
        "wildcards": True,
        "conn": UNLIMITED,
        "leaf": UNLIMITED,
    }
    if jetstream:
        limits.update(mem_storage=UNLIMITED, disk_storage=UNLIMITED, streams=UNLIMITED, consumer=UNLIMITED)
    return {
        "sub": account.public,
        "name": name,
        "nats": {
            "limits": limits,
            "default_permissions": {"pub": {}, "sub": {}},
            "type": "account",
            "version": 2,
        },
    }


def user_claims(user: NKey, name: str) -> dict[str, Any]:
    """User claims with no permission limits (issued directly by the account key)."""
    return {
        "sub": user.public,
        "name": name,
        "nats": {
            "pub": {},
            "sub": {},
            "subs": UNLIMITED,
            "data": UNLIMITED,
            "payload": UNLIMITED,
            "type": "user",
            "version": 2,
        },
    }


def creds_text(user_jwt: str, user_seed: bytes) -> str:
    """The ``.creds`` file layout nsc writes: user JWT block, then user seed block."""
    return (
        "-----BEGIN NATS USER JWT-----\n"
        f"{user_jwt}\n"
        "------END NATS USER JWT------\n\n"
        "************************* IMPORTANT *************************\n"
        "NKEY Seed printed below can be used to sign and prove identity.\n"
        "NKEYs are sensitive and should be treated as secrets.\n\n"
        "-----BEGIN USER NKEY SEED-----\n"
        f"{user_seed.decode()}\n"
        "------END USER NKEY SEED------\n\n"
        "*************************************************************\n"
    )


# ---- a whole trust chain ---------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    key: NKey
    jwt: str = field(repr=False)


@dataclass(frozen=True)
class DecentralizedAuth:
    """Operator, system account and one JetStream-enabled app account, with their JWTs."""

    operator: NKey
    operator_jwt: str = field(repr=False)
    system: Account
    app: Account

    @classmethod
    def create(cls, name: str = "seam") -> DecentralizedAuth:
        operator = new_nkey("operator")
        system_key, app_key = new_nkey("account"), new_nkey("account")
        return cls(
            operator=operator,
            operator_jwt=encode_jwt(operator_claims(operator, name, system_key.public), operator),
            system=Account(
                system_key, encode_jwt(account_claims(system_key, "SYS", jetstream=False), operator)
            ),
            app=Account(app_key, encode_jwt(account_claims(app_key, "APP", jetstream=True), operator)),
        )

    def server_config(self) -> str:
        """nats-server config (``NatsProcess(extra_config=...)``): trust the operator, preload accounts."""
        return "\n".join(
            [
                f"operator: {self.operator_jwt}",
                f"system_account: {self.system.key.public}",
                "resolver: MEMORY",
                "resolver_preload: {",
                f"  {self.system.key.public}: {self.system.jwt}",
                f"  {self.app.key.public}: {self.app.jwt}",
                "}",
            ]
        )

    def user_creds(self, name: str = "app-user", *, signer: NKey | None = None) -> str:
        """``.creds`` text for a new user of the app account (``signer`` overrides the issuing key)."""
        user = new_nkey("user")
        return creds_text(encode_jwt(user_claims(user, name), signer or self.app.key), user.seed)
