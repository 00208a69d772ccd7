"""config_drift: which desired keys the server's config no longer matches."""

from __future__ import annotations

from typing import Any

import pytest
from jetstream_operator.mapping.drift import config_drift
from jetstream_operator.mapping.stream import stream_config
from jetstream_operator.spec import StreamSpec

pytestmark = pytest.mark.unit

S = 1_000_000_000
DESIRED = {
    "name": "orders",
    "subjects": ["orders.>", "refunds.>"],
    "retention": "limits",
    "storage": "file",
    "num_replicas": 1,
    "max_age": 3600 * S,
    "metadata": {"team": "a"},
    "sources": [{"name": "A"}, {"name": "B", "filter_subject": "x.>"}],
    "placement": {"tags": ["ssd", "east"]},
    "backoff": [S, 2 * S],
    "deny_delete": False,
    "republish": {"src": ">", "dest": "copy.>"},
}
# What a server echoes back: every desired value, plus defaults and server-side bookkeeping.
SERVER = {
    **DESIRED,
    "subjects": ["refunds.>", "orders.>"],
    "metadata": {"team": "a", "_nats.ver": "2.15.1", "_nats.level": "1", "_nats.req.level": "0"},
    "sources": [{"name": "B", "filter_subject": "x.>", "opt_start_seq": 0}, {"name": "A", "external": None}],
    "placement": {"tags": ["east", "ssd"], "cluster": ""},
    "max_msgs": -1,
    "max_bytes": -1,
    "discard": "old",
    "duplicate_window": 120 * S,
    "compression": "none",
    "deny_delete": None,
    "republish": {"src": ">", "dest": "copy.>", "headers_only": False},
}


def test_no_drift_when_server_matches_with_its_own_additions() -> None:
    assert config_drift(DESIRED, SERVER) == []


CHANGES: list[tuple[str, Any, list[str]]] = [
    ("max_age", 60 * S, ["max_age"]),
    ("num_replicas", 3, ["num_replicas"]),
    ("subjects", ["orders.>"], ["subjects"]),
    ("subjects", ["orders.>", "other.>"], ["subjects"]),
    ("metadata", {"team": "b", "_nats.ver": "2"}, ["metadata"]),
    ("metadata", {"team": "a", "extra": "x"}, ["metadata"]),
    ("sources", [{"name": "A"}], ["sources"]),
    ("sources", [{"name": "A"}, {"name": "B", "filter_subject": "y.>"}], ["sources"]),
    ("placement", {"tags": ["ssd"]}, ["placement"]),
    ("placement", None, ["placement"]),
    ("backoff", [2 * S, S], ["backoff"]),  # order matters for backoff
    ("deny_delete", True, ["deny_delete"]),
    ("republish", {"src": ">", "dest": "other.>"}, ["republish"]),
    ("storage", "memory", ["storage"]),
    ("max_age", None, ["max_age"]),
]


@pytest.mark.parametrize(
    ("key", "value", "drift"), CHANGES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CHANGES)]
)
def test_changed_server_value_is_drift(key: str, value: Any, drift: list[str]) -> None:
    actual = {**SERVER, key: value}
    if value is None:
        del actual[key]
    assert config_drift(DESIRED, actual) == drift


def test_drift_keys_keep_desired_order() -> None:
    actual = {**SERVER, "storage": "memory", "name": "x", "max_age": 1}
    assert config_drift(DESIRED, actual) == ["name", "storage", "max_age"]


@pytest.mark.parametrize(
    ("want", "have", "drift"),
    [
        (False, None, []),
        (0, None, []),
        ("", None, []),
        (True, None, ["k"]),
        (5, None, ["k"]),
        (True, 1, ["k"]),
        (1, True, ["k"]),
    ],
)
def test_omitted_server_values_and_bool_strictness(want: Any, have: Any, drift: list[str]) -> None:
    actual = {} if have is None else {"k": have}
    assert config_drift({"k": want}, actual) == drift


def test_mapped_spec_against_itself_has_no_drift() -> None:
    spec = StreamSpec.from_resource(
        {
            "metadata": {"name": "o"},
            "spec": {"subjects": ["b", "a"], "maxAge": "1h", "sources": [{"name": "X"}]},
        }
    )
    cfg = stream_config(spec)
    assert config_drift(cfg, {**cfg, "subjects": ["a", "b"], "max_msgs": -1}) == []
