"""Consumer (+ its stream and connection) -> the env that pods running the adapter runtime get.

Everything goes through :class:`adapter_runtime.settings.AdapterSettings`, so the env is exactly what
``AdapterSettings.from_env`` reads back. Credentials never appear as values: Secrets are mounted as
files (see :func:`adapter_secret_mounts`) and the env carries only their paths; the user name of a
user/password Secret comes from a ``secretKeyRef`` (see :func:`adapter_secret_env`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapter_runtime.settings import AdapterSettings, SettingsError, env_name
from jetstream_operator.spec.connection import NatsConnectionSpec
from jetstream_operator.spec.consumer import ConsumerSpec
from jetstream_operator.spec.errors import SpecError

DEFAULT_SECRET_MOUNT_DIR = "/var/run/seam-nats"


@dataclass(frozen=True)
class SecretMount:
    """One Secret key the pod needs as a file: mount ``secret``/``key`` at ``path``."""

    settings_field: str
    secret: str
    key: str
    path: str


def adapter_secret_mounts(
    connection: NatsConnectionSpec | None, mount_dir: str = DEFAULT_SECRET_MOUNT_DIR
) -> list[SecretMount]:
    """The Secret keys to mount as files, with the AdapterSettings path field each one feeds."""
    if connection is None:
        return []
    wanted: list[tuple[str, str, str, str]] = []  # (field, subdir, secret, key)
    auth = connection.auth
    if auth is not None:
        if auth.creds_secret_ref:
            wanted.append(("creds_file", "creds", auth.creds_secret_ref.name, auth.creds_secret_ref.key))
        if auth.nkey_secret_ref:
            wanted.append(("nkey_seed_file", "nkey", auth.nkey_secret_ref.name, auth.nkey_secret_ref.key))
        if auth.token_secret_ref:
            wanted.append(("token_file", "token", auth.token_secret_ref.name, auth.token_secret_ref.key))
        if auth.user_password_secret_ref:
            up = auth.user_password_secret_ref
            wanted.append(("password_file", "password", up.name, up.password_key))
    tls = connection.tls
    if tls is not None:
        for field, subdir, tls_ref in (
            ("tls_ca_file", "tls-ca", tls.ca_secret_ref),
            ("tls_cert_file", "tls-cert", tls.cert_secret_ref),
            ("tls_key_file", "tls-key", tls.key_secret_ref),
        ):
            if tls_ref is not None:
                wanted.append((field, subdir, tls_ref.name, tls_ref.key))
    base = mount_dir.rstrip("/")
    return [SecretMount(f, secret, key, f"{base}/{subdir}/{key}") for f, subdir, secret, key in wanted]


def adapter_secret_env(connection: NatsConnectionSpec | None) -> dict[str, dict[str, str]]:
    """Env variables filled from a Secret key by the kubelet (``valueFrom.secretKeyRef``)."""
    if connection is None or connection.auth is None or connection.auth.user_password_secret_ref is None:
        return {}
    ref = connection.auth.user_password_secret_ref
    return {env_name("user"): {"name": ref.name, "key": ref.username_key}}


def adapter_env(
    consumer: ConsumerSpec,
    stream_name: str,
    servers: list[str],
    *,
    connection: NatsConnectionSpec | None = None,
    secret_mount_dir: str = DEFAULT_SECRET_MOUNT_DIR,
    extra: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Pod env for the adapter consuming ``consumer`` on ``stream_name`` via ``servers``.

    Only values differing from the AdapterSettings defaults are rendered (the pod runs the same
    settings model). ``extra`` adds AdapterSettings options (e.g. ``client_id``) and wins.
    Raises SpecError (field ``spec.adapter``) when the combination is invalid for the adapter.
    """
    if consumer.durable_name is None:
        raise ValueError("adapter_env needs a named consumer: build it with ConsumerSpec.from_resource")
    options: dict[str, Any] = {
        **consumer.adapter_settings_options(),
        "server_urls": list(servers),
        "stream_name": stream_name,
        "consumer_name": consumer.durable_name,
        "durable": True,
        "create_stream": False,  # the operator owns the stream and the consumer
    }
    if connection is not None and connection.js_domain is not None:
        options["js_domain"] = connection.js_domain
    options.update(extra or {})
    try:
        settings = AdapterSettings.from_options(**options)
    except SettingsError as exc:
        raise SpecError.of((f"spec.adapter ({name})", why) for name, why in exc.problems.items()) from None
    env = settings.to_env(exclude_defaults=True)
    for mount in adapter_secret_mounts(connection, secret_mount_dir):
        env[env_name(mount.settings_field)] = mount.path
    return env
