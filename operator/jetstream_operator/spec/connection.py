"""The validated spec of a ``NatsConnection`` resource: servers, auth and TLS by Secret reference.

Secrets are always read from the connection's own namespace; the models never hold secret values,
only where to find them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from jetstream_operator.spec.errors import NO_ECHO, check, validate_model
from jetstream_operator.spec.fields import NatsName, SecretKeyRef, SpecModel, refuse_namespace

SERVER_URL_PATTERN = r"^(nats|tls|ws|wss)://[^\s/@]+(:[0-9]{1,5})?/?$"
_SERVER_URL_RE = re.compile(SERVER_URL_PATTERN)


def _check_url(url: str) -> str:
    if "@" in url:
        # NO_ECHO: the URL holds a password, so the error must not quote the input.
        raise PydanticCustomError(
            NO_ECHO, "server URLs must not carry credentials (user:password@); use spec.auth with a Secret"
        )
    if not _SERVER_URL_RE.match(url):
        raise ValueError(f"invalid server URL {url!r}: use nats://host:4222 (schemes nats, tls, ws, wss)")
    return url


ServerUrl = Annotated[str, Field(max_length=512), AfterValidator(_check_url)]


class UserPasswordSecretRef(SpecModel):
    """A Secret holding a user name and a password (the keys of a kubernetes.io/basic-auth Secret)."""

    name: str = Field(min_length=1, max_length=253)
    username_key: str = Field("username", min_length=1, max_length=253)
    password_key: str = Field("password", min_length=1, max_length=253)

    @model_validator(mode="before")
    @classmethod
    def _no_namespace(cls, data: Any) -> Any:
        return refuse_namespace(data)


class ConnectionAuth(SpecModel):
    """Exactly one way to authenticate."""

    creds_secret_ref: SecretKeyRef | None = None
    nkey_secret_ref: SecretKeyRef | None = None
    token_secret_ref: SecretKeyRef | None = None
    user_password_secret_ref: UserPasswordSecretRef | None = None

    @property
    def method(self) -> str:
        """The camelCase name of the one field that is set."""
        return next(iter(self.model_dump(by_alias=True, exclude_none=True)))

    @model_validator(mode="after")
    def _exactly_one(self) -> ConnectionAuth:
        chosen = list(self.model_dump(by_alias=True, exclude_none=True))
        if len(chosen) != 1:
            got = ", ".join(chosen) if chosen else "none"
            check(
                {
                    chosen[1] if len(chosen) > 1 else "credsSecretRef": (
                        "set exactly one of credsSecretRef, nkeySecretRef, tokenSecretRef,"
                        f" userPasswordSecretRef (got {got})"
                    )
                }
            )
        return self


class ConnectionTls(SpecModel):
    """TLS material from Secrets: a CA to trust and, for mutual TLS, a client certificate and key."""

    ca_secret_ref: SecretKeyRef | None = None
    cert_secret_ref: SecretKeyRef | None = None
    key_secret_ref: SecretKeyRef | None = None

    @model_validator(mode="after")
    def _pair(self) -> ConnectionTls:
        if (self.cert_secret_ref is None) != (self.key_secret_ref is None):
            missing = "keySecretRef" if self.key_secret_ref is None else "certSecretRef"
            check({missing: "certSecretRef and keySecretRef must be set together"})
        return self


class NatsConnectionSpec(SpecModel):
    """How the operator and the pods reach one NATS deployment."""

    servers: list[ServerUrl] = Field(min_length=1, max_length=32)
    auth: ConnectionAuth | None = None
    tls: ConnectionTls | None = None
    js_domain: NatsName | None = None

    @classmethod
    def from_resource(cls, body: Mapping[str, Any]) -> NatsConnectionSpec:
        """Validate a whole NatsConnection CR body."""
        return validate_model(cls, dict(body.get("spec") or {}))
