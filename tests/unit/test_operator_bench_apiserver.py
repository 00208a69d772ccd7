"""Parsing and diffing the apiserver's request counter."""

from __future__ import annotations

import pytest

from benchmarks.apiserver_requests import interesting, parse_request_totals, request_delta, summarise

pytestmark = pytest.mark.unit

_JS = 'group="jetstream.oppie.xyz",resource="streams",scope="resource",subresource="status",verb="PATCH"'
SCRAPE = "\n".join(
    [
        "# HELP apiserver_request_total [STABLE] Counter of apiserver requests",
        "# TYPE apiserver_request_total counter",
        'apiserver_request_total{code="200",component="apiserver",' + _JS + ',version="v1alpha1"} 7',
        'apiserver_request_total{code="409",component="apiserver",' + _JS + ',version="v1alpha1"} 3',
        'apiserver_request_total{code="201",group="",resource="events",subresource="",verb="POST"} 4',
        'apiserver_request_total{code="200",group="",resource="pods",subresource="",verb="LIST"} 1e+03',
        'apiserver_request_duration_seconds_bucket{verb="PATCH",le="0.1"} 99',
    ]
)


def test_parse_sums_codes_and_joins_subresource() -> None:
    totals = parse_request_totals(SCRAPE)
    assert totals[("PATCH", "streams/status", "jetstream.oppie.xyz")] == 10
    assert totals[("POST", "events", "")] == 4
    assert totals[("LIST", "pods", "")] == 1000
    assert len(totals) == 3  # other metrics ignored


def test_delta_counts_new_keys_and_drops_unchanged() -> None:
    before = {("GET", "streams", "g"): 5, ("LIST", "pods", ""): 2}
    after = {("GET", "streams", "g"): 9, ("LIST", "pods", ""): 2, ("POST", "events", ""): 3}
    assert request_delta(before, after) == {("GET", "streams", "g"): 4, ("POST", "events", ""): 3}


def test_interesting_keeps_the_groups_and_events_only() -> None:
    delta = {
        ("GET", "streams", "g"): 4,
        ("POST", "events", ""): 3,
        ("LIST", "pods", ""): 1,
        ("GET", "x", "h"): 1,
    }
    assert set(interesting(delta, ("g",))) == {("GET", "streams", "g"), ("POST", "events", "")}


def test_summarise_sorts_by_count_with_per_object_rate() -> None:
    text = summarise({("GET", "streams", "g"): 4, ("POST", "events", ""): 10}, per=2)
    assert text == "POST events 10 (5.0/object), GET streams 4 (2.0/object)"
    assert summarise({}, per=2) == "none"
