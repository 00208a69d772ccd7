"""AdapterSettings: env parsing, one clear error per bad variable, env round trip, check-env CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter_runtime.settings import AdapterSettings, SettingsError, env_name

pytestmark = pytest.mark.unit


def test_defaults_match_design_note() -> None:
    s = AdapterSettings.from_env({})
    assert s.server_urls == ["nats://127.0.0.1:4222"]
    assert (s.max_ack_pending, s.max_inflight, s.batch_size, s.max_deliver) == (100, 1000, 100, 10)
    assert s.ack_wait == 30 and s.deliver_policy == "all" and s.durable is True
    assert s.max_reconnects == -1 and s.reconnect_wait == 1.0 and s.max_outstanding == 65536
    assert s.metrics_port == 9464 and s.health_port == 8080 and s.enable_otel is False
    assert s.effective_inflight == 100  # the server never has more than max_ack_pending out


def test_env_names_and_aliases() -> None:
    s = AdapterSettings.from_env(
        {
            "SEAM_NATS_SERVER_URLS": "nats://a:4222, tls://b:4443,,",
            "SEAM_NATS_STREAM_SUBJECTS": "orders.>,billing.*",
            "ENABLE_OTEL": "1",
            "POD_NAMESPACE": "shop",
            "POD_NAME": "shop-0",
            "SEAM_NATS_DURABLE": "false",
        }
    )
    assert s.server_urls == ["nats://a:4222", "tls://b:4443"]
    assert s.stream_subjects == ["orders.>", "billing.*"]
    assert s.enable_otel and not s.durable
    assert (s.namespace, s.pod_name) == ("shop", "shop-0")
    assert s.effective_client_id == "shop-0"
    # the prefixed name wins over the downward-API alias
    assert AdapterSettings.from_env({"SEAM_NATS_NAMESPACE": "a", "POD_NAMESPACE": "b"}).namespace == "a"
    assert env_name("enable_otel") == "ENABLE_OTEL"


def test_from_options_ignores_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAM_NATS_BATCH_SIZE", "7")
    assert AdapterSettings.from_options().batch_size == 100
    assert AdapterSettings.from_env().batch_size == 7


@pytest.fixture
def existing_file(tmp_path: Path) -> str:
    f = tmp_path / "f"
    f.write_text("x")
    return str(f)


# (env, variable that must be named, words the reason must contain)
INVALID = [
    ({"SEAM_NATS_SERVER_URLS": "http://x:4222"}, "SEAM_NATS_SERVER_URLS", "scheme"),
    ({"SEAM_NATS_SERVER_URLS": "nats//x"}, "SEAM_NATS_SERVER_URLS", "not a URL"),
    ({"SEAM_NATS_SERVER_URLS": ""}, "SEAM_NATS_SERVER_URLS", "at least one"),
    ({"SEAM_NATS_SERVER_URLS": "nats://x:99999"}, "SEAM_NATS_SERVER_URLS", "port"),
    ({"SEAM_NATS_STREAM_NAME": "a.b"}, "SEAM_NATS_STREAM_NAME", "must not contain"),
    ({"SEAM_NATS_STREAM_NAME": "a b"}, "SEAM_NATS_STREAM_NAME", "must not contain"),
    ({"SEAM_NATS_CONSUMER_NAME": "c*"}, "SEAM_NATS_CONSUMER_NAME", "must not contain"),
    ({"SEAM_NATS_CLIENT_ID": "c>"}, "SEAM_NATS_CLIENT_ID", "must not contain"),
    ({"SEAM_NATS_STREAM_NAME": ""}, "SEAM_NATS_STREAM_NAME", "empty"),
    ({"SEAM_NATS_BATCH_SIZE": "0"}, "SEAM_NATS_BATCH_SIZE", "greater than 0"),
    ({"SEAM_NATS_BATCH_SIZE": "ten"}, "SEAM_NATS_BATCH_SIZE", "integer"),
    ({"SEAM_NATS_MAX_INFLIGHT": "-5"}, "SEAM_NATS_MAX_INFLIGHT", "greater than 0"),
    ({"SEAM_NATS_ACK_WAIT": "0"}, "SEAM_NATS_ACK_WAIT", "greater than 0"),
    ({"SEAM_NATS_ACK_WAIT": "inf"}, "SEAM_NATS_ACK_WAIT", "finite"),
    ({"SEAM_NATS_CONNECT_TIMEOUT": "-1"}, "SEAM_NATS_CONNECT_TIMEOUT", "greater than 0"),
    ({"SEAM_NATS_MAX_RECONNECTS": "-2"}, "SEAM_NATS_MAX_RECONNECTS", "greater than or equal to -1"),
    ({"SEAM_NATS_METRICS_PORT": "70000"}, "SEAM_NATS_METRICS_PORT", "less than or equal"),
    ({"SEAM_NATS_DELIVER_POLICY": "first"}, "SEAM_NATS_DELIVER_POLICY", "'all'"),
    ({"SEAM_NATS_COMPRESSION_CODEC": "gzip"}, "SEAM_NATS_COMPRESSION_CODEC", "'zstd'"),
    ({"SEAM_NATS_DURABLE": "maybe"}, "SEAM_NATS_DURABLE", "boolean"),
    ({"ENABLE_OTEL": "sure"}, "ENABLE_OTEL", "boolean"),
    ({"SEAM_NATS_SUBJECT_PREFIX": "app.*."}, "SEAM_NATS_SUBJECT_PREFIX", "wildcards"),
    ({"SEAM_NATS_STREAM_SUBJECTS": "a.>.b"}, "SEAM_NATS_STREAM_SUBJECTS", "last token"),
    ({"SEAM_NATS_FILTER_SUBJECT": "a..b"}, "SEAM_NATS_FILTER_SUBJECT", "empty token"),
    ({"SEAM_NATS_DEAD_LETTER_SUBJECT": "dlq.*"}, "SEAM_NATS_DEAD_LETTER_SUBJECT", "wildcards"),
    ({"SEAM_NATS_TLS_CA_FILE": "/does/not/exist"}, "SEAM_NATS_TLS_CA_FILE", "does not exist"),
    ({"SEAM_NATS_CREDS_FILE": "/does/not/exist"}, "SEAM_NATS_CREDS_FILE", "does not exist"),
    ({"SEAM_NATS_BATCH_SIZE": "500"}, "SEAM_NATS_BATCH_SIZE", "max_ack_pending"),
    (
        {"SEAM_NATS_BATCH_SIZE": "50", "SEAM_NATS_MAX_INFLIGHT": "10", "SEAM_NATS_MAX_ACK_PENDING": "100"},
        "SEAM_NATS_BATCH_SIZE",
        "max_inflight",
    ),
    ({"SEAM_NATS_NAK_DELAY": "5", "SEAM_NATS_NAK_DELAY_MAX": "1"}, "SEAM_NATS_NAK_DELAY_MAX", "nak_delay"),
    ({"SEAM_NATS_BATCHSIZE": "5"}, "SEAM_NATS_BATCHSIZE", "unknown variable"),
]


@pytest.mark.parametrize(("env", "var", "why"), INVALID, ids=[f"{c[1]}-{c[2]}" for c in INVALID])
def test_invalid_env_names_variable_and_reason(env: dict[str, str], var: str, why: str) -> None:
    with pytest.raises(SettingsError) as info:
        AdapterSettings.from_env(env)
    assert var in info.value.problems, info.value.problems
    assert why in info.value.problems[var], info.value.problems[var]
    assert var in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("extra", "var", "why"),
    [
        ({"SEAM_NATS_TLS_CERT_FILE": "{f}"}, "SEAM_NATS_TLS_KEY_FILE", "together"),
        ({"SEAM_NATS_TLS_KEY_FILE": "{f}"}, "SEAM_NATS_TLS_CERT_FILE", "together"),
        ({"SEAM_NATS_USER": "bob"}, "SEAM_NATS_PASSWORD_FILE", "password_file is required"),
        ({"SEAM_NATS_PASSWORD_FILE": "{f}"}, "SEAM_NATS_USER", "user is required"),
        ({"SEAM_NATS_TOKEN_FILE": "{f}", "SEAM_NATS_CREDS_FILE": "{f}"}, "SEAM_NATS_TOKEN_FILE", "one auth"),
    ],
)
def test_cross_field_rules(existing_file: str, extra: dict[str, str], var: str, why: str) -> None:
    env = {k: v.format(f=existing_file) for k, v in extra.items()}
    with pytest.raises(SettingsError) as info:
        AdapterSettings.from_env(env)
    assert why in info.value.problems[var]


def test_every_bad_variable_is_listed_in_one_error() -> None:
    env = {
        "SEAM_NATS_SERVER_URLS": "http://x",
        "SEAM_NATS_BATCH_SIZE": "0",
        "SEAM_NATS_STREAM_NAME": "a.b",
        "SEAM_NATS_TLS_CA_FILE": "/nope",
        "SEAM_NATS_TYPO": "1",
    }
    with pytest.raises(SettingsError) as info:
        AdapterSettings.from_env(env)
    assert set(info.value.problems) == set(env)


def test_valid_files_and_auth(existing_file: str) -> None:
    s = AdapterSettings.from_env(
        {
            "SEAM_NATS_USER": "bob",
            "SEAM_NATS_PASSWORD_FILE": existing_file,
            "SEAM_NATS_TLS_CERT_FILE": existing_file,
            "SEAM_NATS_TLS_KEY_FILE": existing_file,
        }
    )
    assert s.user == "bob" and str(s.password_file) == existing_file


def test_bad_option_names_the_option() -> None:
    with pytest.raises(SettingsError) as info:
        AdapterSettings.from_options(batch_sz=3)
    assert "batch_sz" in info.value.problems


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789_-", min_size=1, max_size=12)
tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=6)
subjects = st.lists(tokens, min_size=1, max_size=4).map(".".join)
urls = st.builds(
    lambda scheme, host, port: f"{scheme}://{host}:{port}",
    st.sampled_from(["nats", "tls", "ws", "wss"]),
    st.sampled_from(["127.0.0.1", "nats", "nats.ns.svc"]),
    st.integers(1, 65535),
)
pos_float = st.floats(min_value=0.001, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def option_sets(draw: st.DrawFn) -> dict[str, object]:
    ack_pending = draw(st.integers(1, 10_000))
    inflight = draw(st.integers(1, 10_000))
    batch = draw(st.integers(1, min(ack_pending, inflight)))
    nak = draw(st.floats(0, 100, allow_nan=False))
    opts: dict[str, object] = {
        "server_urls": draw(st.lists(urls, min_size=1, max_size=3)),
        "stream_name": draw(names),
        "durable": draw(st.booleans()),
        "subject_prefix": draw(st.one_of(st.just(""), subjects.map(lambda s: s + "."))),
        "connect_timeout": draw(pos_float),
        "max_reconnects": draw(st.integers(-1, 1000)),
        "reconnect_jitter": draw(st.floats(0, 10, allow_nan=False)),
        "enable_compression": draw(st.booleans()),
        "compression_codec": draw(st.sampled_from(["zstd", "lz4"])),
        "max_ack_pending": ack_pending,
        "max_inflight": inflight,
        "batch_size": batch,
        "ack_wait": draw(pos_float),
        "deliver_policy": draw(st.sampled_from(["all", "last", "new", "last_per_subject"])),
        "stream_subjects": draw(st.lists(subjects, max_size=3)),
        "nak_delay": nak,
        "nak_delay_max": nak + draw(st.floats(0, 100, allow_nan=False)),
        "metrics_port": draw(st.integers(0, 65535)),
        "enable_otel": draw(st.booleans()),
    }
    for optional, strat in (
        ("client_id", names),
        ("consumer_name", names),
        ("filter_subject", subjects),
        ("dead_letter_subject", subjects),
        ("namespace", names),
        ("pod_name", names),
    ):
        if draw(st.booleans()):
            opts[optional] = draw(strat)
    return opts


@settings(max_examples=150, deadline=None)
@given(option_sets(), st.booleans())
def test_env_round_trip_is_identity(opts: dict[str, object], exclude_defaults: bool) -> None:
    s = AdapterSettings.from_options(**opts)
    env = s.to_env(exclude_defaults=exclude_defaults)
    assert all(isinstance(v, str) for v in env.values())
    assert AdapterSettings.from_env(env) == s
    assert list(env) == list(s.to_env(exclude_defaults=exclude_defaults))  # stable order


def test_to_env_exclude_defaults_is_minimal() -> None:
    assert AdapterSettings.from_options().to_env(exclude_defaults=True) == {}
    env = AdapterSettings.from_options(batch_size=10).to_env(exclude_defaults=True)
    assert env == {"SEAM_NATS_BATCH_SIZE": "10"}


def _run(code_or_args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *code_or_args], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True
    )


def test_settings_import_has_no_side_effects() -> None:
    code = (
        "import sys; from adapter_runtime.settings import AdapterSettings; import adapter_runtime; "
        "heavy=[m for m in sys.modules if m.split('.')[0] in ('nats','kopf','opentelemetry','aiohttp')]; "
        "print(heavy)"
    )
    out = _run(["-c", code], {})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_check_env_ok_prints_settings_without_secrets(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("s3cr3t-value")
    out = _run(
        ["-m", "adapter_runtime", "check-env"],
        {"SEAM_NATS_USER": "bob", "SEAM_NATS_PASSWORD_FILE": str(pw), "SEAM_NATS_BATCH_SIZE": "10"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("OK\n")
    assert "SEAM_NATS_BATCH_SIZE=10" in out.stdout
    assert f"SEAM_NATS_PASSWORD_FILE={pw}" in out.stdout
    assert "s3cr3t-value" not in out.stdout + out.stderr


def test_check_env_error_exits_2() -> None:
    out = _run(
        ["-m", "adapter_runtime", "check-env"],
        {"SEAM_NATS_BATCH_SIZE": "0", "SEAM_NATS_SERVER_URLS": "http://x"},
    )
    assert out.returncode == 2
    assert "SEAM_NATS_BATCH_SIZE" in out.stderr and "SEAM_NATS_SERVER_URLS" in out.stderr
    assert "OK" not in out.stdout
