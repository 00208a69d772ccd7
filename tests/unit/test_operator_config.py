"""Operator settings from the command line and the environment."""

import pytest
from jetstream_operator.__main__ import default_priority, parse_args
from jetstream_operator.config import OperatorSettings

pytestmark = pytest.mark.unit


def test_defaults() -> None:
    op = OperatorSettings()
    assert op.nats_servers == ["nats://127.0.0.1:4222"]
    assert op.resync_seconds == 30 and op.liveness_endpoint == "http://0.0.0.0:8080/healthz"


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAM_OPERATOR_NAMESPACES", "a, b")
    monkeypatch.setenv("SEAM_OPERATOR_NATS_URL", "nats://127.0.0.1:1,nats://127.0.0.1:2")
    monkeypatch.setenv("SEAM_OPERATOR_JSON_LOGS", "true")
    op = OperatorSettings()
    assert op.namespaces == ["a", "b"]
    assert op.nats_servers == ["nats://127.0.0.1:1", "nats://127.0.0.1:2"]
    assert op.json_logs is True


def test_cli_overrides() -> None:
    op = parse_args(["-n", "x", "-n", "y", "--resync-seconds", "5", "--health-port", "0", "--standalone"])
    assert op.namespaces == ["x", "y"]
    assert op.resync_seconds == 5 and op.liveness_endpoint is None and op.standalone is True


def test_cli_rejects_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["-n", "x", "--resync-seconds", "-1"])
    assert "resync_seconds" in capsys.readouterr().err


def test_older_replica_has_higher_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.time", lambda: 1_800_000_000.0)
    older = default_priority()
    monkeypatch.setattr("time.time", lambda: 1_800_000_001.0)
    assert older > default_priority() > 0


@pytest.mark.parametrize("argv", [[], ["-n", "a", "--all-namespaces"]])
def test_scope_must_be_exactly_one_of_namespaces_or_cluster(argv: list[str]) -> None:
    from jetstream_operator.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert "--namespace" in str(info.value.code) and "--all-namespaces" in str(info.value.code)
