"""The resilience report's Markdown and the command's exit codes on bad input (no server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.resilience.__main__ import main
from benchmarks.resilience.report import claims, fmt, render
from benchmarks.resilience.result import ScenarioResult
from benchmarks.resilience.verdict import judge

pytestmark = pytest.mark.unit


def result(name: str, measured: dict[str, float | None], assertions: dict[str, float]) -> ScenarioResult:
    r = ScenarioResult(
        name=name,
        description=f"{name} description",
        fault="none",
        load={"message_count": 100, "message_size": 1024, "publish_rate": 0},
        settings={},
        measured=measured,
        wall_s=1.25,
    )
    r.rows = judge(measured, assertions)
    return r


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        ("message_loss", 0.0, "0.00 %"),
        ("compression_saving", 0.8312, "83.12 %"),
        ("latency_p99_ms", 12.345, "12.35 ms"),
        ("recovery_s", 0.5, "0.50 s"),
        ("throughput", 12345.6, "12,346 msg/s"),
        ("rss_growth_mb", 3.04, "3.0 MB"),
        ("stored_duplicates", 0, "0"),
        ("peak_backlog", 1500.0, "1,500"),
        ("recovery_s", None, "n/a"),
        ("latency_p50_ms", float("nan"), "n/a"),
    ],
)
def test_fmt(metric: str, value: float | None, expected: str) -> None:
    assert fmt(metric, value) == expected


def test_render_summary_tables_and_misses() -> None:
    a = result(
        "baseline_pubsub",
        {"message_loss": 0.0, "latency_p50_ms": 1.0},
        {"max_message_loss": 0, "max_latency_p50": 5},
    )
    b = result(
        "broker_restart", {"message_loss": 0.0, "recovery_s": 3.0, "reconnects": 2}, {"max_recovery_s": 2}
    )
    text = render([a, b], {"command": "cmd", "when": "now", "scale": "1", "CPU": "test cpu"})
    assert "**2/3 assertions met** over 2 scenario(s)" in text
    assert "| [broker_restart](#broker_restart) | 0/1 | max_recovery_s | 1.2 s |" in text
    assert "| max_recovery_s | recovery_s | 3.00 s | <= 2.00 s | MISS |" in text
    assert "| max_latency_p50 | latency_p50_ms | 1.00 ms | <= 5.00 ms | PASS |" in text
    assert "Other figures: message_loss 0.00 %, reconnects 2." in text  # measured but not judged
    assert "- CPU: test cpu" in text and "## Method" in text


def test_render_variant_table() -> None:
    r = result("compression_vs_batch_ack", {"compression_saving": 0.5}, {"min_compression_saving": 0.3})
    r.variants = [
        {
            "variant": "off",
            "settings": {"enable_compression": False},
            "wire_bytes": 2000,
            "publish_rate": 1000.0,
        },
        {"variant": "on", "settings": {"enable_compression": True}, "wire_bytes": 1000, "saving_vs_off": 0.5},
    ]
    text = render([r], {})
    assert "| variant | wire_bytes | publish_rate | saving_vs_off |" in text
    assert "| on | 1,000 | n/a | 50.00 % |" in text
    assert "`off`: enable_compression=False; `on`: enable_compression=True" in text


def test_bad_matrix_exits_2_with_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text(
        "scenarios:\n  - name: baseline_pubsub\n    description: x\n"
        "    load_profile: {message_count: -1, message_size: 100, publish_rate: 0}\n"
    )
    assert main(["--matrix", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "scenario 'baseline_pubsub': load_profile.message_count: Input should be greater than 0" in err


def test_unknown_only_scenario_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--only", "baseline_pubsub,nope"]) == 2
    assert "unknown scenario 'nope'" in capsys.readouterr().err


def test_bad_scale_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        main(["--scale", "0"])
    assert info.value.code == 2


def test_claims_put_the_design_note_next_to_the_figures() -> None:
    rs = [
        result("baseline_pubsub", {"latency_p50_ms": 0.5, "latency_p99_ms": 1.4}, {}),
        result(
            "broker_restart",
            {"message_loss": 0.0, "recovery_s": 0.7, "catch_up_s": 1.2, "handler_redeliveries": 27},
            {},
        ),
        result(
            "network_partition", {"message_loss": 0.01, "recovery_s": 0.65, "handler_redeliveries": 0}, {}
        ),
        result("compression_vs_batch_ack", {"compression_saving": 0.8153}, {}),
    ]
    lines = claims(rs)
    assert lines[0] == "Low latency, median < 5 ms in the baseline: p50 0.50 ms, p99 1.40 ms."
    assert "99.00 % of messages delivered in broker_restart, network_partition" in lines[1]  # the worst
    assert "handler redeliveries broker_restart 27, network_partition 0" in lines[1]
    assert lines[2].startswith("Recovery < 2 s: broker_restart 0.70 s, network_partition 0.65 s from the end")
    assert lines[2].endswith("the backlog gone after broker_restart 1.20 s, network_partition n/a.")
    assert "81.53 % on the wire" in lines[3]
    assert len(lines) == 4  # no persistence scenario ran: no persistence line
    assert claims([]) == []
