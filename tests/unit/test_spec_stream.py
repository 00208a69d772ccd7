"""StreamSpec: defaults, from_resource and one SpecError naming every bad field."""

from __future__ import annotations

from typing import Any

import pytest
from jetstream_operator.spec import SpecError, StreamSpec

pytestmark = pytest.mark.unit


def body(spec: dict[str, Any], name: str = "orders") -> dict[str, Any]:
    return {
        "apiVersion": "jetstream.oppie.xyz/v1alpha1",
        "kind": "Stream",
        "metadata": {"name": name},
        "spec": spec,
    }


def test_defaults_follow_nats_and_contract() -> None:
    spec = StreamSpec.from_resource(body({"subjects": ["orders.>"]}))
    assert spec.name == "orders"
    assert spec.storage == "file"
    assert spec.retention == "limits"
    assert spec.replicas == 1
    assert spec.deletion_policy == "Retain"
    assert spec.management_policy == "Manage"
    assert spec.max_age is None and spec.discard is None


def test_explicit_name_wins_over_metadata_name() -> None:
    assert StreamSpec.from_resource(body({"name": "ORDERS"}, name="orders.v1")).name == "ORDERS"


def test_missing_spec_is_an_empty_spec() -> None:
    assert StreamSpec.from_resource({"metadata": {"name": "s"}}).name == "s"


def test_metadata_name_with_dot_needs_spec_name() -> None:
    with pytest.raises(SpecError) as info:
        StreamSpec.from_resource(body({}, name="orders.v1"))
    assert info.value.field == "spec.name"
    assert "metadata.name" in info.value.reason and "'.'" in info.value.reason


def test_values_are_parsed() -> None:
    spec = StreamSpec.from_resource(
        body({"maxAge": "1h", "duplicateWindow": "2m", "maxBytes": "1Gi", "maxMsgSize": 1024})
    )
    assert spec.max_age == 3600 * 10**9
    assert spec.duplicate_window == 120 * 10**9
    assert spec.max_bytes == 2**30
    assert spec.max_msg_size == 1024


def test_snake_case_names_are_accepted_too() -> None:
    assert StreamSpec.model_validate({"max_age": "1s"}).max_age == 10**9


INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({"name": "a.b"}, "spec.name", "invalid NATS name"),
    ({"name": "a b"}, "spec.name", "invalid NATS name"),
    ({"name": ""}, "spec.name", "must not be empty"),
    ({"subjects": ["a..b"]}, "spec.subjects[0]", "empty token"),
    ({"subjects": "orders.>"}, "spec.subjects", "valid list"),
    ({"retention": "forever"}, "spec.retention", "'limits', 'interest' or 'workqueue'"),
    ({"storage": "disk"}, "spec.storage", "'file' or 'memory'"),
    ({"discard": "oldest"}, "spec.discard", "'old' or 'new'"),
    ({"compression": "zstd"}, "spec.compression", "'none' or 's2'"),
    ({"maxAge": "5x"}, "spec.maxAge", "invalid duration '5x'"),
    ({"maxAge": 30}, "spec.maxAge", "must be a string"),
    ({"duplicateWindow": "1d"}, "spec.duplicateWindow", "invalid duration"),
    ({"subjectDeleteMarkerTtl": "soon"}, "spec.subjectDeleteMarkerTtl", "invalid duration"),
    (
        {"consumerLimits": {"inactiveThreshold": "x"}},
        "spec.consumerLimits.inactiveThreshold",
        "invalid duration",
    ),
    ({"maxBytes": "1GB"}, "spec.maxBytes", "invalid size"),
    ({"maxBytes": -2}, "spec.maxBytes", "greater than or equal to -1"),
    ({"maxMsgSize": 2**31}, "spec.maxMsgSize", "less than or equal to 2147483647"),
    ({"maxMsgs": -5}, "spec.maxMsgs", "greater than or equal to -1"),
    ({"replicas": 0}, "spec.replicas", "greater than or equal to 1"),
    ({"replicas": -1}, "spec.replicas", "greater than or equal to 1"),
    ({"replicas": 6}, "spec.replicas", "less than or equal to 5"),
    ({"firstSeq": -1}, "spec.firstSeq", "greater than or equal to 0"),
    ({"mirror": {"name": "a"}, "subjects": ["x"]}, "spec.subjects", "mirror stream cannot have subjects"),
    ({"mirror": {"name": "a"}, "sources": [{"name": "b"}]}, "spec.sources", "both mirror and sources"),
    ({"mirror": {"name": "a"}, "subjectTransform": {"dest": "x"}}, "spec.subjectTransform", "mirror"),
    ({"mirror": {"name": "a"}, "subjectDeleteMarkerTtl": "1m"}, "spec.subjectDeleteMarkerTtl", "mirror"),
    ({"mirrorDirect": True}, "spec.mirrorDirect", "needs a mirror"),
    ({"discardPerSubject": True}, "spec.discardPerSubject", "discard: new"),
    (
        {"discardPerSubject": True, "discard": "new"},
        "spec.discardPerSubject",
        "maxMsgsPerSubject > 0",
    ),
    ({"mirror": {"name": "a.b"}}, "spec.mirror.name", "invalid NATS name"),
    (
        {"sources": [{"name": "ok"}, {"name": "x", "domain": "d", "external": {"apiPrefix": "$JS.d.API"}}]},
        "spec.sources[1].domain",
        "either domain or external",
    ),
    (
        {"sources": [{"name": "x", "optStartSeq": 1, "optStartTime": "2026-01-01T00:00:00Z"}]},
        "spec.sources[0].optStartTime",
        "not both",
    ),
    (
        {"sources": [{"name": "x", "filterSubject": "a", "subjectTransforms": [{"dest": "b"}]}]},
        "spec.sources[0].filterSubject",
        "not both",
    ),
    (
        {"sources": [{"name": "x", "optStartSeq": 0}]},
        "spec.sources[0].optStartSeq",
        "greater than or equal to 1",
    ),
    ({"republish": {"src": "a"}}, "spec.republish.dest", "required"),
    ({"placement": {"tags": "x"}}, "spec.placement.tags", "valid list"),
    ({"metadata": {"a": 1}}, "spec.metadata.a", "valid string"),
    (
        {"connectionRef": {"name": "c", "namespace": "other"}},
        "spec.connectionRef.namespace",
        "cross-namespace",
    ),
    ({"connectionRef": {}}, "spec.connectionRef.name", "required"),
    ({"deletionPolicy": "Orphan"}, "spec.deletionPolicy", "'Delete' or 'Retain'"),
    ({"managementPolicy": "Ignore"}, "spec.managementPolicy", "'Manage' or 'Observe'"),
    ({"maxAgee": "1h"}, "spec.maxAgee", "unknown field"),
]


@pytest.mark.parametrize(
    ("spec", "field", "reason"), INVALID, ids=[f"{i}-{c[1]}" for i, c in enumerate(INVALID)]
)
def test_invalid_spec_names_field_and_reason(spec: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(SpecError) as info:
        StreamSpec.from_resource(body(spec))
    err = info.value
    assert err.field == field, err.problems
    assert reason in err.reason, err.reason
    assert str(err).startswith(f"{field}: ")


def test_one_error_lists_every_bad_field() -> None:
    with pytest.raises(SpecError) as info:
        StreamSpec.from_resource(body({"maxAge": "5x", "replicas": 9, "storage": "disk", "bogus": True}))
    fields = [f for f, _ in info.value.problems]
    assert sorted(fields) == ["spec.bogus", "spec.maxAge", "spec.replicas", "spec.storage"]
    for field in fields:
        assert field in str(info.value)


def test_spec_error_message_format() -> None:
    with pytest.raises(SpecError) as info:
        StreamSpec.from_resource(body({"maxAge": "5x"}))
    assert str(info.value) == "spec.maxAge: invalid duration '5x' (use e.g. 30s, 5m, 1h30m, 500ms)"
    assert isinstance(info.value, ValueError)
