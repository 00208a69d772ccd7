"""Resolve an injection request into what the pod needs: env values, Secret-backed env, mounts.

Consumer -> its Stream (``streamRef``) or ``streamName`` -> the NatsConnection (the Stream's
``connectionRef``, or the Consumer's with ``streamName``) -> the Secrets it names. Everything is
read from the pod's own namespace through ``Lookup`` (the webhook passes API reads; tests pass a
dict), validated by the spec models, and rendered through ``mapping.adapter_env`` so the pod env
is exactly what ``AdapterSettings.from_env`` reads back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapter_runtime.settings import AdapterSettings, SettingsError, env_name
from jetstream_operator.injection.request import InjectionDenied, InjectionRequest
from jetstream_operator.mapping.adapter_env import (
    DEFAULT_SECRET_MOUNT_DIR,
    SecretMount,
    adapter_env,
    adapter_secret_env,
    adapter_secret_mounts,
)
from jetstream_operator.spec import ConsumerSpec, NatsConnectionSpec, SpecError, StreamSpec

PLURALS = {"Consumer": "consumers", "Stream": "streams", "NatsConnection": "natsconnections"}


class Lookup(Protocol):
    """Reads in the pod's namespace: a resource body by kind, the key names of a Secret."""

    async def resource(self, kind: str, name: str) -> Mapping[str, Any] | None: ...

    async def secret_keys(self, name: str) -> set[str] | None: ...


@dataclass(frozen=True)
class InjectionPlan:
    """What every selected container gets. No field ever holds a credential value."""

    source: str  # "Consumer/orders-worker", recorded on the pod
    env: dict[str, str]
    secret_env: dict[str, dict[str, str]] = field(default_factory=dict)  # env name -> {name, key}
    mounts: list[SecretMount] = field(default_factory=list)


def publisher_env(
    stream_name: str,
    servers: list[str],
    *,
    connection: NatsConnectionSpec | None = None,
    secret_mount_dir: str = DEFAULT_SECRET_MOUNT_DIR,
) -> dict[str, str]:
    """Pod env for publishing to ``stream_name`` (no consumer): servers, stream, credentials paths."""
    options: dict[str, Any] = {
        "server_urls": list(servers),
        "stream_name": stream_name,
        "create_stream": False,  # the operator owns the stream
    }
    if connection is not None and connection.js_domain is not None:
        options["js_domain"] = connection.js_domain
    try:
        settings = AdapterSettings.from_options(**options)
    except SettingsError as exc:
        raise SpecError.of((f"adapter ({name})", why) for name, why in exc.problems.items()) from None
    env = settings.to_env(exclude_defaults=True)
    for mount in adapter_secret_mounts(connection, secret_mount_dir):
        env[env_name(mount.settings_field)] = mount.path
    return env


async def build_plan(
    request: InjectionRequest,
    namespace: str,
    lookup: Lookup,
    default_servers: list[str],
    *,
    secret_mount_dir: str = DEFAULT_SECRET_MOUNT_DIR,
) -> InjectionPlan:
    """Resolve and validate; raise InjectionDenied naming the annotation and the reason."""
    where = f'in namespace "{namespace}"'
    first = await lookup.resource(request.kind, request.name)
    if first is None:
        raise request.denied(f'{request.kind} "{request.name}" not found {where}')

    consumer: ConsumerSpec | None = None
    connection_ref: str | None
    if request.kind == "Consumer":
        consumer = _parse(request, ConsumerSpec, first, f'Consumer "{request.name}"')
        if consumer.is_push:
            raise request.denied(
                f'Consumer "{request.name}" is a push consumer (spec.deliverSubject); the adapter pulls'
            )
        if consumer.stream_ref is not None:
            stream_body = await lookup.resource("Stream", consumer.stream_ref.name)
            if stream_body is None:
                raise request.denied(
                    f'Consumer "{request.name}" reads Stream "{consumer.stream_ref.name}", '
                    f"which is not found {where}"
                )
            stream = _parse(request, StreamSpec, stream_body, f'Stream "{consumer.stream_ref.name}"')
            stream_name = str(stream.name)
            connection_ref = stream.connection_ref.name if stream.connection_ref else None
        else:
            stream_name = str(consumer.stream_name)
            connection_ref = consumer.connection_ref.name if consumer.connection_ref else None
    else:
        stream = _parse(request, StreamSpec, first, f'Stream "{request.name}"')
        stream_name = str(stream.name)
        connection_ref = stream.connection_ref.name if stream.connection_ref else None

    connection: NatsConnectionSpec | None = None
    servers = list(default_servers)
    if connection_ref is not None:
        conn_body = await lookup.resource("NatsConnection", connection_ref)
        if conn_body is None:
            raise request.denied(f'NatsConnection "{connection_ref}" not found {where}')
        connection = _parse(request, NatsConnectionSpec, conn_body, f'NatsConnection "{connection_ref}"')
        servers = list(connection.servers)

    mounts = adapter_secret_mounts(connection, secret_mount_dir)
    secret_env = adapter_secret_env(connection)
    wanted = [(m.secret, m.key) for m in mounts] + [(r["name"], r["key"]) for r in secret_env.values()]
    keys_of: dict[str, set[str] | None] = {}
    for secret, key in wanted:
        if secret not in keys_of:
            keys_of[secret] = await lookup.secret_keys(secret)
        keys = keys_of[secret]
        used_by = f'(used by NatsConnection "{connection_ref}")'
        if keys is None:
            raise request.denied(f'Secret "{secret}" {used_by} not found {where}')
        if key not in keys:
            raise request.denied(f'Secret "{secret}" {used_by} has no key "{key}"')

    try:
        if consumer is not None:
            env = adapter_env(
                consumer, stream_name, servers, connection=connection, secret_mount_dir=secret_mount_dir
            )
        else:
            env = publisher_env(
                stream_name, servers, connection=connection, secret_mount_dir=secret_mount_dir
            )
    except SpecError as exc:
        what = f'{request.kind} "{request.name}"'
        raise request.denied(f"{what} gives invalid adapter settings: {exc}") from None
    return InjectionPlan(
        source=f"{request.kind}/{request.name}", env=env, secret_env=secret_env, mounts=mounts
    )


def _parse(request: InjectionRequest, model: Any, body: Mapping[str, Any], what: str) -> Any:
    try:
        return model.from_resource(body)
    except SpecError as exc:
        raise request.denied(f"{what} is invalid: {exc}") from None


__all__ = ["PLURALS", "InjectionDenied", "InjectionPlan", "Lookup", "build_plan", "publisher_env"]
