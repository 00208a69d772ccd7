"""The shipped Grafana dashboard: generated, well-formed, and only querying what the runtime exports."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from adapter_runtime.metrics import COUNTERS, HISTOGRAMS
from dashboards import build
from dashboards.promql_selectors import (
    PROMQL_WORDS,
    Matcher,
    PromQLReadError,
    Selector,
    bare_words,
    grouping_labels,
    histogram_quantile,
    label_values_query,
    regex_value,
    selectors,
    substitute,
)

pytestmark = pytest.mark.unit

DASHBOARD = Path(build.__file__).with_name("nats_adapter.json")

# The design note's metric table (keep these names).
DESIGN_NOTE_METRICS = (
    "nats.publish.latency",
    "nats.e2e.latency",
    "nats.messages.published",
    "nats.consumer.backlog",
    "nats.client.reconnects",
    "nats.messages.redelivered",
    "nats.messages.duplicates",
    "nats.persistence.write.latency",
)
GAUGES = ("nats.consumer.backlog",)
# Series the runtime labels with `consumer` (docs/adapter.md: "plus consumer on consumer series").
CONSUMER_SERIES = {
    "nats.messages.consumed",
    "nats.messages.redelivered",
    "nats.messages.acked",
    "nats.messages.nak",
    "nats.messages.term",
    "nats.messages.dead_lettered",
    "nats.e2e.latency",
    "nats.handler.duration",
    "nats.consumer.backlog",
}


def prometheus_names() -> dict[str, str]:
    """Prometheus sample name -> design-note name, derived from the runtime's instrument tables."""
    out: dict[str, str] = {}
    for name in COUNTERS.values():
        out[name.replace(".", "_") + "_total"] = name
    for name in HISTOGRAMS.values():
        base = name.replace(".", "_") + "_milliseconds"
        for suffix in ("_bucket", "_sum", "_count"):
            out[base + suffix] = name
    for name in GAUGES:
        out[name.replace(".", "_")] = name
    return out


@pytest.fixture(scope="module")
def dash() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def graph_panels(dash: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dash["panels"] if p["type"] != "row"]


def exprs(dash: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in graph_panels(dash) for t in p["targets"]]


def variables(dash: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dash["templating"]["list"]}


# ---- generated file ---------------------------------------------------------------------------


def test_committed_json_is_the_generator_output() -> None:
    assert DASHBOARD.read_text() == build.render(), "stale: run python -m dashboards.build"
    assert build.main(["--check"]) == 0


def test_check_flags_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "d.json"
    stale.write_text("{}\n")
    assert build.main(["--check", "--output", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err
    assert build.main(["--output", str(stale)]) == 0
    assert stale.read_text() == build.render()
    assert build.main(["--check", "--output", str(stale)]) == 0


# ---- dashboard shape --------------------------------------------------------------------------


def test_schema_and_prometheus_datasource_variable(dash: dict[str, Any]) -> None:
    assert dash["schemaVersion"] >= 39
    assert dash["uid"] and dash["title"]
    ds = variables(dash)["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"
    for panel in graph_panels(dash):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for t in panel["targets"]:
            assert t["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_filter_variables_are_multi_with_all(dash: dict[str, Any]) -> None:
    vs = variables(dash)
    for name in ("namespace", "stream", "consumer", "pod"):
        v = vs[name]
        assert v["type"] == "query" and v["datasource"]["uid"] == "${datasource}"
        assert v["multi"] and v["includeAll"] and v["allValue"] == ".*", name
        _sel, label = label_values_query(v["query"])
        assert label == name
        assert v["definition"] == v["query"]


def test_namespace_variable_covers_publisher_and_consumer_only_pods(dash: dict[str, Any]) -> None:
    sel, _ = label_values_query(variables(dash)["namespace"]["query"])
    assert sel.matches("nats_messages_published_total", {"namespace": "pubs"})
    # a consumer pod that has not published anything, even one that has not consumed yet
    assert sel.matches("nats_consumer_backlog", {"namespace": "subs", "consumer": "c"})
    assert sel.matches("nats_messages_consumed_total", {"namespace": "subs", "consumer": "c"})
    # a publisher whose every publish failed
    assert sel.matches("nats_publish_errors_total", {"namespace": "failing"})
    assert not sel.matches("go_goroutines", {"namespace": "other"})


def test_dependent_variables_are_filtered_by_namespace(dash: dict[str, Any]) -> None:
    vs = variables(dash)
    for name in ("stream", "consumer", "pod"):
        sel, _ = label_values_query(vs[name]["query"])
        assert sel.label_ops().get("namespace") == "=~", name
        assert '"$namespace"' in vs[name]["query"]


def test_panel_ids_unique_and_layout_in_bounds(dash: dict[str, Any]) -> None:
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for p in dash["panels"]:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']} overlaps another panel"
                cells.add((x, y))


def test_units_are_set(dash: dict[str, Any]) -> None:
    for panel in graph_panels(dash):
        unit = panel["fieldConfig"]["defaults"]["unit"]
        assert unit, panel["title"]
        first = panel["targets"][0]["expr"]
        if "histogram_quantile" in first:
            assert unit == "ms", panel["title"]
        elif first.startswith("sum by") and "(rate(" in first:
            assert unit == "mps", panel["title"]  # msg/s


def test_ref_ids_unique_per_panel(dash: dict[str, Any]) -> None:
    for panel in graph_panels(dash):
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]


# ---- queries ----------------------------------------------------------------------------------


def test_queries_reference_only_exported_metrics(dash: dict[str, Any]) -> None:
    known = prometheus_names()
    for expr in exprs(dash):
        sels = selectors(expr)
        assert sels, expr
        for sel in sels:
            assert sel.metric in known, f"{sel.metric} is not exported by adapter_runtime.metrics"
        assert bare_words(expr) <= PROMQL_WORDS, f"unexpected words in {expr}"


def test_every_design_note_metric_is_on_the_dashboard(dash: dict[str, Any]) -> None:
    known = prometheus_names()
    used = {known[s.metric] for e in exprs(dash) for s in selectors(e) if s.metric in known}
    missing = set(DESIGN_NOTE_METRICS) - used
    assert not missing, f"not on the dashboard: {sorted(missing)}"
    # and the runtime's other instruments too
    assert set(COUNTERS.values()) | set(HISTOGRAMS.values()) <= used


def test_every_query_carries_the_variable_filters(dash: dict[str, Any]) -> None:
    known = prometheus_names()
    for expr in exprs(dash):
        for sel in selectors(expr):
            ops = {m.label: (m.op, m.value) for m in sel.matchers}
            for var in ("namespace", "stream", "pod"):
                assert ops.get(var) == ("=~", f"${var}"), f"{var} filter missing in {expr}"
            consumer_series = known[sel.metric or ""] in CONSUMER_SERIES
            # publisher series have no consumer label: filtering them by consumer would blank them
            assert ("consumer" in ops) == consumer_series, expr
            if consumer_series:
                assert ops["consumer"] == ("=~", "$consumer")


def test_rate_windows_use_rate_interval(dash: dict[str, Any]) -> None:
    for expr in exprs(dash):
        for window in re.findall(r"\[([^\]]+)\]", expr):
            assert window == "$__rate_interval", expr


def test_legends_use_only_grouped_labels(dash: dict[str, Any]) -> None:
    for panel in graph_panels(dash):
        for t in panel["targets"]:
            used = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", t["legendFormat"]))
            assert used <= grouping_labels(t["expr"]), (panel["title"], t["legendFormat"])


def test_latency_quantiles(dash: dict[str, Any]) -> None:
    by_metric: dict[str, set[str]] = {}
    for expr in exprs(dash):
        m = re.match(r"histogram_quantile\(([\d.]+), sum by \(le\) \(rate\((\w+)\{", expr)
        if m:
            by_metric.setdefault(m.group(2), set()).add(m.group(1))
    assert by_metric["nats_publish_latency_milliseconds_bucket"] >= {"0.5", "0.95", "0.99"}
    assert by_metric["nats_persistence_write_latency_milliseconds_bucket"] >= {"0.5", "0.95", "0.99"}
    assert by_metric["nats_e2e_latency_milliseconds_bucket"] >= {"0.5", "0.99"}
    assert "nats_handler_duration_milliseconds_bucket" in by_metric


# ---- the PromQL reader ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "labels", "expected"),
    [
        (Matcher("ns", "=", "a"), {"ns": "a"}, True),
        (Matcher("ns", "=", "a"), {"ns": "ab"}, False),
        (Matcher("ns", "!=", "a"), {"ns": "b"}, True),
        (Matcher("ns", "=~", "a"), {"ns": "ab"}, False),  # anchored
        (Matcher("ns", "=~", "a.*"), {"ns": "ab"}, True),
        (Matcher("ns", "=~", ".*"), {}, True),  # missing label is ""
        (Matcher("ns", "=~", "(a|b)"), {"ns": "b"}, True),
        (Matcher("ns", "!~", "(a|b)"), {"ns": "b"}, False),
        (Matcher("consumer", "=~", "c1"), {}, False),
    ],
)
def test_matcher(matcher: Matcher, labels: dict[str, str], expected: bool) -> None:
    assert matcher.matches(labels) is expected


def test_selectors_read_names_and_matchers() -> None:
    expr = 'sum by (a, le) (rate(m_total{a=~"x|y", b!="q\\"z"}[5m])) / on() {__name__="n", c="1"}'
    sels = selectors(expr)
    assert sels == [
        Selector("m_total", (Matcher("a", "=~", "x|y"), Matcher("b", "!=", 'q"z'))),
        Selector(None, (Matcher("__name__", "=", "n"), Matcher("c", "=", "1"))),
    ]
    assert grouping_labels(expr) == {"a", "le"}
    assert sels[1].matches("n", {"c": "1"}) and not sels[1].matches("m", {"c": "1"})


def test_bare_metric_names_are_visible() -> None:
    assert bare_words('sum by (le) (rate(a_total{x="1"}[1m]))') == {"sum", "by", "rate"}
    assert "b_total" in bare_words('rate(a_total{x="1"}[1m]) + b_total')


def test_unreadable_queries_fail_clearly() -> None:
    with pytest.raises(PromQLReadError, match="cannot read label matchers"):
        selectors("m{a=~unquoted}")
    with pytest.raises(PromQLReadError, match="label_values"):
        label_values_query("up")
    with pytest.raises(PromQLReadError, match="exactly one selector"):
        label_values_query('label_values(a{x="1"} or b{y="2"}, x)')
    with pytest.raises(PromQLReadError, match=r"\$missing"):
        substitute('m{a=~"$missing"}', {})


def test_substitute_and_regex_value() -> None:
    assert substitute('m{a=~"$a"}[$__rate_interval]', {"a": ".*", "__rate_interval": "1m"}) == (
        'm{a=~".*"}[1m]'
    )
    assert regex_value(["one"]) == "one"
    assert regex_value(["a", "b"]) == "(a|b)"
    sel = selectors(f'm{{p=~"{regex_value(["shop-0", "x.y"])}"}}')[0]
    assert sel.matches("m", {"p": "shop-0"}) and sel.matches("m", {"p": "x.y"})
    assert not sel.matches("m", {"p": "xzy"})  # the dot was escaped


def test_histogram_quantile_interpolates_like_prometheus() -> None:
    buckets = {1.0: 10.0, 2.0: 30.0, 4.0: 40.0, math.inf: 40.0}
    assert histogram_quantile(0.25, buckets) == pytest.approx(1.0)  # rank 10 -> top of first bucket
    assert histogram_quantile(0.5, buckets) == pytest.approx(1.5)  # rank 20, halfway in (1, 2]
    assert histogram_quantile(0.125, buckets) == pytest.approx(0.5)  # first bucket starts at 0
    assert histogram_quantile(1.0, {1.0: 1.0, math.inf: 2.0}) == 1.0  # +Inf -> highest finite bound
    assert math.isnan(histogram_quantile(0.5, {1.0: 0.0, math.inf: 0.0}))
    with pytest.raises(ValueError, match=r"\+Inf"):
        histogram_quantile(0.5, {1.0: 1.0})
