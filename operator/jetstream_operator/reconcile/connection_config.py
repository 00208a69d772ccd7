"""Turn a NatsConnection resource (and its Secrets, same namespace only) into a ConnectionConfig."""

from __future__ import annotations

import time

from jetstream_operator.connections import ConnectionConfig
from jetstream_operator.failures import ReconcileFailure
from jetstream_operator.kubeapi import KubeAPI, SecretKeyMissing, SecretNotFound
from jetstream_operator.registry import CONNECTION
from jetstream_operator.spec.connection import NatsConnectionSpec
from jetstream_operator.spec.errors import SpecError


def default_config(servers: list[str]) -> ConnectionConfig:
    return ConnectionConfig(servers=tuple(servers), source="operator default")


def secret_names(spec: NatsConnectionSpec) -> set[str]:
    """Every Secret a connection reads, so Secret events can find their dependents."""
    names: set[str] = set()
    for holder in (spec.auth, spec.tls):
        if holder is None:
            continue
        for value in holder.__dict__.values():
            name = getattr(value, "name", None)
            if name:
                names.add(name)
    return names


async def config_from_spec(
    kube: KubeAPI, namespace: str, name: str, spec: NatsConnectionSpec
) -> ConnectionConfig:
    """Read the referenced Secret keys from `namespace` (the resource's own) into a config."""

    async def read(secret: str, key: str) -> bytes:
        try:
            return await kube.read_secret_key(namespace, secret, key)
        except SecretNotFound as exc:
            raise ReconcileFailure("SecretNotFound", str(exc)) from None
        except SecretKeyMissing as exc:
            raise ReconcileFailure("SecretKeyMissing", str(exc)) from None

    values: dict[str, object] = {}
    auth = spec.auth
    if auth is not None:
        if auth.creds_secret_ref is not None:
            ref = auth.creds_secret_ref
            values["creds"] = (await read(ref.name, ref.key)).decode()
        elif auth.nkey_secret_ref is not None:
            ref = auth.nkey_secret_ref
            values["nkey_seed"] = (await read(ref.name, ref.key)).decode().strip()
        elif auth.token_secret_ref is not None:
            ref = auth.token_secret_ref
            values["token"] = (await read(ref.name, ref.key)).decode().strip()
        elif auth.user_password_secret_ref is not None:
            up = auth.user_password_secret_ref
            values["user"] = (await read(up.name, up.username_key)).decode().strip()
            values["password"] = (await read(up.name, up.password_key)).decode().strip()
    tls = spec.tls
    if tls is not None:
        if tls.ca_secret_ref is not None:
            values["tls_ca"] = await read(tls.ca_secret_ref.name, tls.ca_secret_ref.key)
        if tls.cert_secret_ref is not None and tls.key_secret_ref is not None:
            values["tls_cert"] = await read(tls.cert_secret_ref.name, tls.cert_secret_ref.key)
            values["tls_key"] = await read(tls.key_secret_ref.name, tls.key_secret_ref.key)
    return ConnectionConfig(
        servers=tuple(spec.servers),
        source=f"NatsConnection {namespace}/{name}",
        js_domain=spec.js_domain,
        **values,  # type: ignore[arg-type]
    )


async def resolve_connection(
    kube: KubeAPI, namespace: str, ref: str | None, default_servers: list[str]
) -> ConnectionConfig:
    """The config for a resource's connectionRef (None: the operator's default servers)."""
    if ref is None:
        return default_config(default_servers)
    body = await kube.get(CONNECTION, namespace, ref)
    if body is None:
        raise ReconcileFailure("ConnectionNotFound", f"NatsConnection {namespace}/{ref} does not exist")
    try:
        spec = NatsConnectionSpec.from_resource(body)
    except SpecError as exc:
        raise ReconcileFailure("ConnectionInvalid", f"NatsConnection {namespace}/{ref}: {exc}") from None
    return await config_from_spec(kube, namespace, ref, spec)


class ConfigCache:
    """Resolved NatsConnection configs, so a resync of hundreds of Streams does not re-read the
    same NatsConnection and Secrets each time. Entries expire after `ttl` and are dropped at once
    when the NatsConnection or one of its Secrets changes (see handlers)."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._entries: dict[tuple[str, str], tuple[float, ConnectionConfig]] = {}

    def get(self, namespace: str, name: str) -> ConnectionConfig | None:
        entry = self._entries.get((namespace, name))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, namespace: str, name: str, config: ConnectionConfig) -> None:
        self._entries[(namespace, name)] = (time.monotonic() + self._ttl, config)

    def invalidate(self, namespace: str, name: str | None = None) -> None:
        """Drop one connection's entry, or every entry of the namespace."""
        for key in list(self._entries):
            if key[0] == namespace and (name is None or key[1] == name):
                del self._entries[key]
