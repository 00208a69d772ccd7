"""Shared field types: Go durations, sizes, NATS names and subjects."""

from __future__ import annotations

import pytest
from jetstream_operator.spec.fields import (
    check_name,
    check_subject,
    format_duration,
    parse_duration,
    parse_size,
)

pytestmark = pytest.mark.unit

S = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("1ns", 1),
        ("1us", 1_000),
        ("1µs", 1_000),
        ("1μs", 1_000),
        ("500ms", 500_000_000),
        ("30s", 30 * S),
        ("2m", 120 * S),
        ("1h30m", 5400 * S),
        ("1.5h", 5400 * S),
        ("2h45m30.5s", (2 * 3600 + 45 * 60 + 30) * S + S // 2),
        ("0.1s", S // 10),
        ("72h", 72 * 3600 * S),
    ],
)
def test_parse_duration(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["", "5x", "30", "-1s", "1d", "s", "1h 30m", "1.s", ".5s", "1e3s", "1H"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration") as info:
        parse_duration(text)
    assert repr(text) in str(info.value)
    assert "30s" in str(info.value)  # the hint shows the expected form


@pytest.mark.parametrize(
    ("ns", "text"),
    [(0, "0s"), (5400 * S, "1h30m"), (500_000_000, "500ms"), (S + 1, "1s1ns"), (90 * S, "1m30s")],
)
def test_format_duration_round_trips(ns: int, text: str) -> None:
    assert format_duration(ns) == text
    assert parse_duration(text) == ns


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (-1, -1),
        (0, 0),
        (1024, 1024),
        ("1024", 1024),
        ("1K", 1000),
        ("1Ki", 1024),
        ("10M", 10_000_000),
        ("10Mi", 10 * 2**20),
        ("2G", 2 * 10**9),
        ("2Gi", 2 * 2**30),
        ("1T", 10**12),
        ("1Ti", 2**40),
    ],
)
def test_parse_size(value: int | str, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize("value", ["1.5Gi", "1GB", "ten", "", "-1Gi", True, 1.5, None])
def test_parse_size_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(value)


@pytest.mark.parametrize("name", ["orders", "ORDERS_v2", "a-b", "x" * 255, "ünïcode"])
def test_valid_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "found"),
    [("a.b", "."), ("a*", "*"), ("a>", ">"), ("a b", " "), ("a/b", "/"), ("a\\b", "\\"), ("a\tb", "\t")],
)
def test_invalid_names(name: str, found: str) -> None:
    with pytest.raises(ValueError, match="invalid NATS name") as info:
        check_name(name)
    assert repr(found) in str(info.value)


@pytest.mark.parametrize("subject", ["orders", "orders.>", "orders.*.created", "*", ">", "a.*.>"])
def test_valid_subjects(subject: str) -> None:
    assert check_subject(subject) == subject


@pytest.mark.parametrize(
    ("subject", "why"),
    [
        ("", "must not be empty"),
        ("a..b", "empty token"),
        (".a", "empty token"),
        ("a.", "empty token"),
        ("a.>.b", "'>' must be the last token"),
        ("a.b*", "wildcards must be whole tokens"),
        ("a.>x", "wildcards must be whole tokens"),
        ("a b", "whitespace"),
    ],
)
def test_invalid_subjects(subject: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_subject(subject)
