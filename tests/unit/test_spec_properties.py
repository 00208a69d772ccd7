"""Property checks of the pure spec helpers (hypothesis)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jetstream_operator.mapping.drift import config_drift
from jetstream_operator.spec.fields import DURATION_PATTERN, format_duration, parse_duration, parse_size

pytestmark = pytest.mark.unit

UNIT_NS = {
    "h": 3_600_000_000_000,
    "m": 60_000_000_000,
    "s": 1_000_000_000,
    "ms": 1_000_000,
    "us": 1_000,
    "ns": 1,
}


@given(st.integers(min_value=0, max_value=10**16))
def test_duration_format_parse_round_trip(ns: int) -> None:
    text = format_duration(ns)
    assert re.match(DURATION_PATTERN, text)
    assert parse_duration(text) == ns


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(sorted(UNIT_NS))), min_size=1, max_size=5))
def test_duration_is_the_sum_of_its_parts(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{n}{unit}" for n, unit in parts)
    assert parse_duration(text) == sum(n * UNIT_NS[unit] for n, unit in parts)


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["", "K", "M", "G", "Ki", "Mi", "Gi"]))
def test_size_suffixes(n: int, suffix: str) -> None:
    factor = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}[suffix]
    assert parse_size(f"{n}{suffix}") == n * factor


subjects = st.lists(st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,2}", fullmatch=True), unique=True, max_size=8)


@given(subjects, st.randoms())
def test_subject_order_is_never_drift(subs: list[str], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(subs)
    rnd.shuffle(shuffled)
    desired = {"name": "S", "subjects": subs}
    assert config_drift(desired, {**desired, "subjects": shuffled, "max_msgs": -1}) == []
    if subs:
        assert config_drift(desired, {**desired, "subjects": shuffled[1:]}) == ["subjects"]
