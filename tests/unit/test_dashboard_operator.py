"""The operator's Grafana dashboard: generated, and querying only what the operator exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jetstream_operator.connections import ConnectionPool
from jetstream_operator.metrics import METRIC_NAMES, OperatorMetrics
from jetstream_operator.registry import Registry
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dashboards import build_operator
from dashboards.promql_selectors import PROMQL_WORDS, bare_words, grouping_labels, selectors

pytestmark = pytest.mark.unit

# Labels Prometheus' Kubernetes pod discovery adds to every scraped series.
TARGET_LABELS = {"namespace", "pod"}


@pytest.fixture(scope="module")
def exported() -> dict[str, set[str]]:
    """Sample name -> its label names, from a live metrics registry (not a hand-written list)."""
    metrics = OperatorMetrics()
    metrics.track_state(Registry(), ConnectionPool())
    text = generate_latest(metrics.registry).decode()
    out: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, set()).update(sample.labels)
    return out


@pytest.fixture(scope="module")
def dash() -> dict[str, Any]:
    return dict(json.loads(build_operator.OUTPUT.read_text()))


def panels(dash: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dash["panels"] if p["type"] != "row"]


def exprs(dash: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in panels(dash) for t in p["targets"]]


def test_committed_json_is_the_generator_output() -> None:
    assert build_operator.main(["--check"]) == 0


def test_check_flags_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "operator.json"
    stale.write_text("{}\n")
    assert build_operator.main(["--check", "--output", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err


def test_every_metric_is_on_a_panel(dash: dict[str, Any]) -> None:
    used = {s.metric for e in exprs(dash) for s in selectors(e)}
    for metric in METRIC_NAMES:
        assert any(u == metric or (u or "").startswith(f"{metric}_") for u in used), metric


def test_queries_use_only_exported_series_and_labels(
    dash: dict[str, Any], exported: dict[str, set[str]]
) -> None:
    for expr in exprs(dash):
        labels: set[str] = set()
        for sel in selectors(expr):
            assert sel.metric in exported, f"{sel.metric} is not exported"
            labels |= exported[sel.metric] | TARGET_LABELS
            for matcher in sel.matchers:
                assert matcher.label in exported[sel.metric] | TARGET_LABELS, expr
        assert grouping_labels(expr) <= labels, expr
        assert bare_words(expr) <= PROMQL_WORDS, expr


def test_every_query_carries_the_variable_filters(dash: dict[str, Any]) -> None:
    for expr in exprs(dash):
        for sel in selectors(expr):
            ops = {m.label: (m.op, m.value) for m in sel.matchers}
            assert ops["namespace"] == ("=~", "$namespace") and ops["pod"] == ("=~", "$pod"), expr


def test_legends_use_only_grouped_labels(dash: dict[str, Any]) -> None:
    for panel in panels(dash):
        for t in panel["targets"]:
            used = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", t["legendFormat"]))
            assert used <= grouping_labels(t["expr"]), (panel["title"], t["legendFormat"])


def test_ids_unique_units_set_and_layout_in_bounds(dash: dict[str, Any]) -> None:
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels(dash):
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
    names = [v["name"] for v in dash["templating"]["list"]]
    assert names == ["datasource", "namespace", "pod"]
