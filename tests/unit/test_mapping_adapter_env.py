"""adapter_env: consumer + stream + connection -> pod env, read back by AdapterSettings.from_env."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jetstream_operator.mapping.adapter_env import (
    DEFAULT_SECRET_MOUNT_DIR,
    SecretMount,
    adapter_env,
    adapter_secret_env,
    adapter_secret_mounts,
)
from jetstream_operator.spec import ConsumerSpec, NatsConnectionSpec, SpecError

from adapter_runtime.settings import AdapterSettings, env_name

pytestmark = pytest.mark.unit

SERVERS = ["nats://nats.default.svc:4222", "nats://nats-2.default.svc:4222"]


def consumer(spec: dict[str, Any], name: str = "orders-worker") -> ConsumerSpec:
    return ConsumerSpec.from_resource(
        {"metadata": {"name": name}, "spec": {"streamRef": {"name": "orders"}, **spec}}
    )


def connection(spec: dict[str, Any]) -> NatsConnectionSpec:
    return NatsConnectionSpec.from_resource({"metadata": {"name": "c"}, "spec": {"servers": SERVERS, **spec}})


def test_minimal_env_round_trips() -> None:
    env = adapter_env(consumer({}), "ORDERS", SERVERS)
    settings = AdapterSettings.from_env(env)
    assert settings.server_urls == SERVERS
    assert settings.stream_name == "ORDERS"
    assert settings.consumer_name == "orders-worker"
    assert settings.create_stream is False
    assert settings.durable is True
    assert settings.max_ack_pending == 1000  # the server's default when the consumer leaves it unset
    assert all(k.startswith("SEAM_NATS_") for k in env)
    assert all(isinstance(v, str) for v in env.values())


ADAPTER_CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"adapter": {"batchSize": 50}}, {"batch_size": 50}),
    (
        {"adapter": {"maxInflight": 2000, "batchSize": 500}, "maxAckPending": 5000},
        {"max_inflight": 2000, "batch_size": 500, "max_ack_pending": 5000},
    ),
    (
        {"adapter": {"enableCompression": True, "minCompressSize": "4Ki", "compressionCodec": "lz4"}},
        {"enable_compression": True, "min_compress_size": 4096, "compression_codec": "lz4"},
    ),
    ({"adapter": {"deadLetterSubject": "dlq.orders"}}, {"dead_letter_subject": "dlq.orders"}),
    ({"adapter": {"subjectPrefix": "app."}}, {"subject_prefix": "app."}),
    ({"adapter": {"fetchTimeout": "250ms"}}, {"fetch_timeout": 0.25}),
    ({"adapter": {"nakDelay": "2s", "nakDelayMax": "2m"}}, {"nak_delay": 2.0, "nak_delay_max": 120.0}),
    ({"adapter": {"drainGrace": "40s"}}, {"drain_grace_seconds": 40.0}),
    (
        {"adapter": {"publishAckTimeout": "3s", "connectTimeout": "1s"}},
        {"publish_ack_timeout": 3.0, "connect_timeout": 1.0},
    ),
    (
        {"adapter": {"maxReconnects": 5, "reconnectWait": "1500ms"}},
        {"max_reconnects": 5, "reconnect_wait": 1.5},
    ),
    ({"adapter": {"maxOutstanding": 128}}, {"max_outstanding": 128}),
    (
        {"adapter": {"metricsPort": 0, "healthPort": 8081, "enableOtel": True}},
        {"metrics_port": 0, "health_port": 8081, "enable_otel": True},
    ),
    ({"maxAckPending": 300}, {"max_ack_pending": 300}),
    ({"maxDeliver": 7}, {"max_deliver": 7}),
    ({"ackWait": "1m"}, {"ack_wait": 60.0}),
    ({"filterSubject": "orders.created"}, {"filter_subject": "orders.created"}),
    ({"deliverPolicy": "lastPerSubject"}, {"deliver_policy": "last_per_subject"}),
    ({"durableName": "W"}, {"consumer_name": "W"}),
]


@pytest.mark.parametrize(("spec", "expected"), ADAPTER_CASES, ids=[",".join(c[0]) for c in ADAPTER_CASES])
def test_fields_reach_the_adapter_settings(spec: dict[str, Any], expected: dict[str, Any]) -> None:
    settings = AdapterSettings.from_env(adapter_env(consumer(spec), "ORDERS", SERVERS))
    for field, value in expected.items():
        assert getattr(settings, field) == value, field


def test_every_adapter_block_field_is_covered() -> None:
    from jetstream_operator.spec.adapter import ADAPTER_SETTINGS_FIELDS

    covered = {k for spec, _ in ADAPTER_CASES for k in spec.get("adapter", {})}
    assert set(ADAPTER_SETTINGS_FIELDS) - covered == set()
    assert set(ADAPTER_SETTINGS_FIELDS.values()) <= set(AdapterSettings.model_fields)


def test_unlimited_consumer_limits_are_not_rendered() -> None:
    env = adapter_env(consumer({"maxDeliver": -1}), "ORDERS", SERVERS)
    assert env_name("max_deliver") not in env
    assert env_name("ack_wait") not in env


def test_js_domain_and_extra_options() -> None:
    env = adapter_env(
        consumer({}),
        "ORDERS",
        SERVERS,
        connection=connection({"jsDomain": "hub"}),
        extra={"client_id": "pod-1"},
    )
    settings = AdapterSettings.from_env(env)
    assert (settings.js_domain, settings.client_id) == ("hub", "pod-1")


@pytest.mark.parametrize(
    ("auth", "field", "subdir", "secret", "key"),
    [
        (
            {"credsSecretRef": {"name": "nats-creds", "key": "app.creds"}},
            "creds_file",
            "creds",
            "nats-creds",
            "app.creds",
        ),
        ({"nkeySecretRef": {"name": "nk", "key": "seed"}}, "nkey_seed_file", "nkey", "nk", "seed"),
        ({"tokenSecretRef": {"name": "tok", "key": "token"}}, "token_file", "token", "tok", "token"),
        (
            {"userPasswordSecretRef": {"name": "up", "passwordKey": "pw"}},
            "password_file",
            "password",
            "up",
            "pw",
        ),
    ],
)
def test_credentials_are_file_paths_never_values(
    tmp_path: Path, auth: dict[str, Any], field: str, subdir: str, secret: str, key: str
) -> None:
    conn = connection({"auth": auth})
    mounts = adapter_secret_mounts(conn, str(tmp_path))
    assert mounts == [SecretMount(field, secret, key, f"{tmp_path}/{subdir}/{key}")]
    # The kubelet would mount the Secret there; do the same so the settings' file checks pass.
    (tmp_path / subdir).mkdir()
    (tmp_path / subdir / key).write_text("s3cr3t-value")
    env = adapter_env(consumer({}), "ORDERS", SERVERS, connection=conn, secret_mount_dir=str(tmp_path))
    assert env[env_name(field)] == f"{tmp_path}/{subdir}/{key}"
    assert "s3cr3t-value" not in "".join(env.values())
    if field == "password_file":
        assert adapter_secret_env(conn) == {env_name("user"): {"name": "up", "key": "username"}}
        env = {**env, env_name("user"): "app"}  # what the kubelet fills in from the secretKeyRef
    else:
        assert adapter_secret_env(conn) == {}
    settings = AdapterSettings.from_env(env)
    assert getattr(settings, field) == Path(f"{tmp_path}/{subdir}/{key}")


def test_tls_material_is_mounted(tmp_path: Path) -> None:
    conn = connection(
        {
            "tls": {
                "caSecretRef": {"name": "tls", "key": "ca.crt"},
                "certSecretRef": {"name": "tls", "key": "tls.crt"},
                "keySecretRef": {"name": "tls", "key": "tls.key"},
            }
        }
    )
    mounts = adapter_secret_mounts(conn, str(tmp_path))
    assert [(m.settings_field, m.path) for m in mounts] == [
        ("tls_ca_file", f"{tmp_path}/tls-ca/ca.crt"),
        ("tls_cert_file", f"{tmp_path}/tls-cert/tls.crt"),
        ("tls_key_file", f"{tmp_path}/tls-key/tls.key"),
    ]
    for m in mounts:
        Path(m.path).parent.mkdir(parents=True)
        Path(m.path).write_text("pem")
    env = adapter_env(consumer({}), "ORDERS", SERVERS, connection=conn, secret_mount_dir=str(tmp_path))
    settings = AdapterSettings.from_env(env)
    assert settings.tls_key_file == Path(f"{tmp_path}/tls-key/tls.key")


def test_default_mount_dir_and_no_connection() -> None:
    conn = connection({"auth": {"tokenSecretRef": {"name": "t", "key": "token"}}})
    assert adapter_secret_mounts(conn)[0].path == f"{DEFAULT_SECRET_MOUNT_DIR}/token/token"
    assert adapter_secret_mounts(None) == [] and adapter_secret_env(None) == {}


@pytest.mark.parametrize(
    ("stream", "servers", "kwargs", "problem"),
    [
        ("OR.DERS", SERVERS, {}, "SEAM_NATS_STREAM_NAME"),
        ("ORDERS", [], {}, "SEAM_NATS_SERVER_URLS"),
        ("ORDERS", ["http://x"], {}, "SEAM_NATS_SERVER_URLS"),
        ("ORDERS", SERVERS, {"extra": {"client_id": "a b"}}, "SEAM_NATS_CLIENT_ID"),
    ],
)
def test_invalid_render_inputs_raise_spec_error(
    stream: str, servers: list[str], kwargs: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SpecError) as info:
        adapter_env(consumer({}), stream, servers, **kwargs)
    assert info.value.field == f"spec.adapter ({problem})"
    assert info.value.reason


def test_unnamed_consumer_is_refused() -> None:
    with pytest.raises(ValueError, match="from_resource"):
        adapter_env(ConsumerSpec(stream_name="S"), "S", SERVERS)
