"""The resilience suite at small scale against real servers: correctness only, never timing.

Every scenario of the shipped matrix runs (its own nats-server, Toxiproxy for the partition);
the tests check that nothing was lost or stored twice and that each fault really happened and
was recovered from. Latency, throughput and recovery-time thresholds belong in the report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.resilience.__main__ import main
from benchmarks.resilience.matrix import Matrix, load_matrix
from benchmarks.resilience.result import ScenarioResult
from benchmarks.resilience.scenarios import run_scenario

pytestmark = pytest.mark.integration

SCALE = 0.05  # a few hundred messages per scenario


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load_matrix()


async def run(matrix: Matrix, name: str) -> ScenarioResult:
    (scenario,) = matrix.select([name])
    result = await run_scenario(matrix, scenario.scaled(SCALE))
    m = result.measured
    assert m["message_loss"] == 0, result.notes
    assert m.get("publish_failed", 0) == 0
    assert m.get("handler_redeliveries") is not None
    assert [r.assertion for r in result.rows] == list(scenario.assertion_thresholds())
    return result


def figures(result: ScenarioResult) -> dict[str, Any]:
    return dict(result.measured)


async def test_baseline_pubsub(matrix: Matrix) -> None:
    m = figures(await run(matrix, "baseline_pubsub"))
    assert m["stored_duplicates"] == 0 and m["handler_redeliveries"] == 0 and m["reconnects"] == 0
    assert m["latency_p50_ms"] is not None and 0 < m["latency_p50_ms"] <= m["latency_p99_ms"]


async def test_high_load_saturation_consumer_lags_and_buffers_stay_bounded(matrix: Matrix) -> None:
    r = await run(matrix, "high_load_saturation")
    m = figures(r)
    assert m["stored_duplicates"] == 0
    assert m["peak_backlog"] > r.settings["max_inflight"]  # the slow consumer really lagged
    assert m["max_outstanding_seen"] <= r.settings["max_outstanding"]  # publisher backpressure held


@pytest.mark.parametrize("name", ["broker_restart", "network_partition"])
async def test_fault_happens_and_everything_recovers(matrix: Matrix, name: str) -> None:
    m = figures(await run(matrix, name))
    assert m["stored_duplicates"] == 0  # retried publishes were de-duplicated
    assert m["reconnects"] >= 2  # publisher and consumer both lost the server and came back
    assert m["outage_s"] is not None and m["outage_s"] > 0
    assert m["recovery_s"] is not None and m["recovery_s"] >= 0  # a message handled and acked after it
    assert m["catch_up_s"] is not None and m["catch_up_s"] >= 0  # every message came through after it


async def test_duplicate_msg_id_is_stored_and_handled_once(matrix: Matrix) -> None:
    m = figures(await run(matrix, "duplicate_msg_id"))
    assert m["stored_duplicates"] == 0
    assert m["handler_redeliveries"] == 0
    assert m["duplicates_detected"] == 1.0 and m["first_pass_duplicate_acks"] == 0


async def test_compression_vs_batch_ack_variants(matrix: Matrix) -> None:
    r = await run(matrix, "compression_vs_batch_ack")
    n = r.load["message_count"]
    assert [v["variant"] for v in r.variants] == [v.name for v in matrix.select([r.name])[0].variants]
    for v in r.variants:
        assert v["runs"] == 3 and v["messages_per_run"] == n
        assert v["handled_per_run"] == n  # decoded for the handler, compressed or not
        assert v["acks_sent_per_run"] == n + 1  # every message acked on its own (+ the warm-up message)
        assert v["consume_rate"] is not None
    off = next(v for v in r.variants if v["variant"] == "compression_off")
    for v in r.variants:
        if v["settings"].get("enable_compression"):
            assert v["wire_bytes_per_msg"] < off["wire_bytes_per_msg"]  # compressed on the wire


async def test_persistence_file_survives_restart_memory_does_not(matrix: Matrix) -> None:
    r = await run(matrix, "persistence_comparison")
    by_storage = {v["storage"]: v for v in r.variants}
    n = r.load["message_count"]
    stored = by_storage["file"]["runs"] * (n + 1)  # every run's stream, each with a warm-up message
    assert (
        by_storage["file"]["stored_before_restart"] == by_storage["memory"]["stored_before_restart"] == stored
    )
    assert by_storage["file"]["stored_after_restart"] == stored and r.measured["file_retained"] == 1.0
    assert by_storage["memory"]["stored_after_restart"] < stored


def test_command_writes_report_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, js = tmp_path / "report.md", tmp_path / "r.json"
    code = main(["--scale", "0.02", "--only", "baseline_pubsub", "--out", str(out), "--json", str(js)])
    assert code == 0
    text = out.read_text()
    assert "assertions met** over 1 scenario(s)" in text and "## baseline_pubsub:" in text
    (dumped,) = json.loads(js.read_text())
    assert dumped["name"] == "baseline_pubsub" and dumped["load"]["message_count"] == 200
    assert {row["verdict"] for row in dumped["rows"]} <= {"PASS", "MISS"}
