"""The resilience matrix: the shipped file loads; each kind of bad matrix is one clear error."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.resilience.matrix import (
    DEFAULT_MATRIX,
    MIN_SCALED_COUNT,
    SCENARIO_KINDS,
    MatrixError,
    load_matrix,
    parse_matrix,
)
from benchmarks.resilience.verdict import ASSERTION_METRICS

pytestmark = pytest.mark.unit

SHIPPED: dict[str, Any] = yaml.safe_load(DEFAULT_MATRIX.read_text())


def test_shipped_matrix_has_the_seven_design_note_scenarios() -> None:
    m = load_matrix()
    assert [s.name for s in m.scenarios] == list(SCENARIO_KINDS)
    base = m.scenarios[0]
    assert base.load_profile.message_count == 10000 and base.load_profile.message_size == 1024
    assert base.assertion_thresholds() == {
        "max_message_loss": 0.0,
        "max_latency_p50": 5.0,
        "max_latency_p95": 20.0,
        "max_latency_p99": 50.0,
        "max_stored_duplicates": 0.0,
        "max_handler_redeliveries": 0.0,
    }
    for s in m.scenarios:
        assert s.assertion_thresholds(), f"{s.name} asserts nothing"


def test_assertion_fields_are_exactly_the_judged_metrics() -> None:
    m = load_matrix()
    assert set(type(m.scenarios[0].assertions).model_fields) == set(ASSERTION_METRICS)


def test_adapter_options_merge_matrix_scenario_and_variant() -> None:
    m = load_matrix()
    s = next(s for s in m.scenarios if s.name == "compression_vs_batch_ack")
    v = s.variants[-1]
    opts = m.adapter_options(s, v)
    assert opts["batch_size"] == 500 and opts["metrics_port"] == 0 and opts["publish_retries"] == 60


@pytest.mark.parametrize(("factor", "expected"), [(1.0, 10000), (0.05, 500), (0.0001, MIN_SCALED_COUNT)])
def test_scaled_changes_only_the_message_count(factor: float, expected: int) -> None:
    s = load_matrix().scenarios[0]
    scaled = s.scaled(factor)
    assert scaled.load_profile.message_count == expected
    assert scaled.load_profile.message_size == s.load_profile.message_size
    assert scaled.assertions == s.assertions


def test_select_unknown_scenario_is_an_error() -> None:
    m = load_matrix()
    assert [s.name for s in m.select(["broker_restart"])] == ["broker_restart"]
    with pytest.raises(MatrixError, match="unknown scenario 'nope'"):
        m.select(["nope"])


def mutate(path: list[Any], value: Any, *, delete: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(SHIPPED)
    node = data
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


BAD = [
    pytest.param(
        mutate(["scenarios", 0, "load_profile", "message_count"], -5),
        "scenario 'baseline_pubsub': load_profile.message_count: Input should be greater than 0 (got -5)",
        id="negative-count",
    ),
    pytest.param(
        mutate(["scenarios", 0, "load_profile", "message_size"], 10),
        "scenario 'baseline_pubsub': load_profile.message_size: Input should be greater than or equal to 64",
        id="tiny-message",
    ),
    pytest.param(
        mutate(["scenarios", 0, "load_profile", "publish_rate"], -1),
        "scenario 'baseline_pubsub': load_profile.publish_rate: Input should be greater than or equal to 0",
        id="negative-rate",
    ),
    pytest.param(
        mutate(["scenarios", 1, "assertions", "max_latency_p999"], 5),
        "scenario 'high_load_saturation': assertions.max_latency_p999: unknown key",
        id="unknown-assertion",
    ),
    pytest.param(
        mutate(["scenarios", 0, "assertions", "max_latency_p50"], -1),
        "scenario 'baseline_pubsub': assertions.max_latency_p50: Input should be greater than or equal to 0",
        id="negative-threshold",
    ),
    pytest.param(
        mutate(["scenarios", 2, "fault", "kind"], "meteor"),
        "scenario 'broker_restart': fault.kind: Input should be 'none', 'slow_consumer'",
        id="unknown-fault",
    ),
    pytest.param(
        mutate(["scenarios", 0, "fault", "kind"], "broker_kill"),
        "scenario 'baseline_pubsub': fault.kind: 'broker_kill' is not supported by baseline_pubsub "
        "(supported: none)",
        id="fault-not-supported",
    ),
    pytest.param(
        mutate(["scenarios", 2, "fault", "duration_s"], 0),
        "scenario 'broker_restart': fault.duration_s: must be > 0 for broker_kill",
        id="zero-outage",
    ),
    pytest.param(
        mutate(["scenarios", 1, "fault", "handler_delay_ms"], 0),
        "scenario 'high_load_saturation': fault.handler_delay_ms: must be > 0 for slow_consumer",
        id="slow-consumer-without-delay",
    ),
    pytest.param(
        mutate(["scenarios", 2, "fault", "at_fraction"], 1.5),
        "scenario 'broker_restart': fault.at_fraction: Input should be less than or equal to 1 (got 1.5)",
        id="fault-after-the-end",
    ),
    pytest.param(
        mutate(["scenarios", 0, "name"], "baseline_fast"),
        "scenario 'baseline_fast': name: 'baseline_fast' is not a scenario kind; set kind: to one of",
        id="unknown-kind",
    ),
    pytest.param(
        mutate(
            ["scenarios", 1],
            {**SHIPPED["scenarios"][1], "name": "baseline_pubsub", "kind": "high_load_saturation"},
        ),
        "scenario 'baseline_pubsub': name: used by an earlier scenario",
        id="duplicate-name",
    ),
    pytest.param(
        mutate(["scenarios", 1, "settings", "batch_size"], 500),
        "scenario 'high_load_saturation': settings: SEAM_NATS_BATCH_SIZE: "
        "batch_size (500) must be <= max_inflight",
        id="bad-adapter-settings",
    ),
    pytest.param(
        mutate(["scenarios", 5, "variants", 0, "settings", "compression_codec"], "gzip"),
        "scenario 'compression_vs_batch_ack': variants[0].settings: "
        "SEAM_NATS_COMPRESSION_CODEC: Input should be",
        id="bad-variant-settings",
    ),
    pytest.param(
        mutate(["scenarios", 5, "variants", 0, "settings", "enable_compression"], True),
        "scenario 'compression_vs_batch_ack': variants: "
        "needs one variant setting enable_compression: true and one",
        id="compression-without-baseline",
    ),
    pytest.param(
        mutate(["scenarios", 6, "variants", 1], {"name": "file", "settings": {"durable": True}}),
        "scenario 'persistence_comparison': variants[0].name: 'file' is used twice",
        id="duplicate-variant",
    ),
    pytest.param(
        mutate(["scenarios", 6, "variants", 1], {"name": "disk", "settings": {"durable": True}}),
        "scenario 'persistence_comparison': variants: needs one variant setting durable: true (file)",
        id="persistence-without-memory",
    ),
    pytest.param(
        mutate(["scenarios", 3, "description"], None, delete=True),
        "scenario 'network_partition': description: Field required",
        id="missing-description",
    ),
    pytest.param(
        mutate(["scenarios", 3, "load_profile", "message_count"], "lots"),
        "scenario 'network_partition': load_profile.message_count: Input should be a valid integer",
        id="count-not-a-number",
    ),
    pytest.param(
        mutate(["settings", "reconnect_wait"], 0),
        "settings: SEAM_NATS_RECONNECT_WAIT: Input should be greater than 0",
        id="bad-matrix-settings",
    ),
    pytest.param(
        mutate(["settings", "colour"], "blue"),
        "settings: colour: unknown option",
        id="unknown-adapter-option",
    ),
    pytest.param(
        mutate(["scenarios", 5, "repeat"], 0),
        "scenario 'compression_vs_batch_ack': repeat: Input should be greater than or equal to 1 (got 0)",
        id="zero-repeat",
    ),
    pytest.param(mutate(["scenarios"], []), "scenarios: must be a non-empty list", id="no-scenarios"),
    pytest.param(
        mutate(["scenarios", 0], "baseline"),
        "scenarios[0]: (top level): Input should be a valid dictionary",
        id="scenario-not-a-mapping",
    ),
    pytest.param([1, 2], "(top level): must be a mapping with 'scenarios', got list", id="top-level-list"),
    pytest.param(mutate(["retries"], 3), "retries: unknown key", id="unknown-top-level-key"),
]


@pytest.mark.parametrize(("data", "expected"), BAD)
def test_bad_matrix_is_one_clear_error(data: Any, expected: str) -> None:
    with pytest.raises(MatrixError) as info:
        parse_matrix(data, "m.yaml")
    text = str(info.value)
    assert text.startswith("invalid resilience matrix m.yaml (1 problem(s)):"), text
    assert expected in text, text


def test_every_problem_is_listed_in_the_one_error() -> None:
    data = mutate(["scenarios", 0, "load_profile", "message_count"], 0)
    data["scenarios"][2]["fault"]["kind"] = "meteor"
    with pytest.raises(MatrixError) as info:
        parse_matrix(data)
    assert len(info.value.problems) == 2
    assert "baseline_pubsub" in info.value.problems[0] and "broker_restart" in info.value.problems[1]


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(MatrixError, match="cannot read"):
        load_matrix(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios: [\n")
    with pytest.raises(MatrixError, match="not valid YAML"):
        load_matrix(bad)
