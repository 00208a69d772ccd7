"""StreamSpec -> StreamConfig JSON, field by field."""

from __future__ import annotations

from typing import Any

import pytest
from jetstream_operator.mapping.stream import stream_config
from jetstream_operator.spec import StreamSpec

pytestmark = pytest.mark.unit

S = 1_000_000_000
BASE = {"name": "orders", "retention": "limits", "storage": "file", "num_replicas": 1}


def config(spec: dict[str, Any]) -> dict[str, Any]:
    return stream_config(StreamSpec.from_resource({"metadata": {"name": "orders"}, "spec": spec}))


def test_minimal_spec_emits_only_pinned_fields() -> None:
    assert config({}) == BASE


CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"name": "ORDERS"}, {"name": "ORDERS"}),
    ({"description": "all orders"}, {"description": "all orders"}),
    ({"subjects": ["orders.>", "refunds.*"]}, {"subjects": ["orders.>", "refunds.*"]}),
    ({"retention": "workqueue"}, {"retention": "workqueue"}),
    ({"retention": "interest"}, {"retention": "interest"}),
    ({"maxConsumers": 10}, {"max_consumers": 10}),
    ({"maxMsgs": -1}, {"max_msgs": -1}),
    ({"maxBytes": "1Gi"}, {"max_bytes": 2**30}),
    ({"maxBytes": 5000}, {"max_bytes": 5000}),
    ({"maxAge": "24h"}, {"max_age": 24 * 3600 * S}),
    ({"maxAge": "0"}, {"max_age": 0}),
    ({"maxMsgSize": "1Mi"}, {"max_msg_size": 2**20}),
    ({"maxMsgsPerSubject": 3}, {"max_msgs_per_subject": 3}),
    ({"storage": "memory"}, {"storage": "memory"}),
    ({"replicas": 3}, {"num_replicas": 3}),
    ({"noAck": True}, {"no_ack": True}),
    ({"discard": "new"}, {"discard": "new"}),
    (
        {"discard": "new", "discardPerSubject": True, "maxMsgsPerSubject": 1},
        {"discard": "new", "discard_new_per_subject": True, "max_msgs_per_subject": 1},
    ),
    ({"duplicateWindow": "2m"}, {"duplicate_window": 120 * S}),
    (
        {"placement": {"cluster": "east", "tags": ["ssd"]}},
        {"placement": {"cluster": "east", "tags": ["ssd"]}},
    ),
    ({"placement": {"tags": ["ssd"]}}, {"placement": {"tags": ["ssd"]}}),
    ({"mirror": {"name": "ORIGIN"}}, {"mirror": {"name": "ORIGIN"}}),
    (
        {"mirror": {"name": "O", "optStartSeq": 5, "filterSubject": "a.>"}},
        {"mirror": {"name": "O", "opt_start_seq": 5, "filter_subject": "a.>"}},
    ),
    (
        {"mirror": {"name": "O", "optStartTime": "2026-01-01T01:00:00+01:00"}},
        {"mirror": {"name": "O", "opt_start_time": "2026-01-01T00:00:00Z"}},
    ),
    (
        {"sources": [{"name": "A", "subjectTransforms": [{"src": "a.>", "dest": "b.>"}, {"dest": "c"}]}]},
        {
            "sources": [
                {
                    "name": "A",
                    "subject_transforms": [{"src": "a.>", "dest": "b.>"}, {"src": ">", "dest": "c"}],
                }
            ]
        },
    ),
    (
        {"sources": [{"name": "A", "external": {"apiPrefix": "$JS.x.API", "deliverPrefix": "dlv"}}]},
        {"sources": [{"name": "A", "external": {"api": "$JS.x.API", "deliver": "dlv"}}]},
    ),
    (
        {"sources": [{"name": "A", "domain": "hub"}]},
        {"sources": [{"name": "A", "external": {"api": "$JS.hub.API"}}]},
    ),
    ({"sealed": True}, {"sealed": True}),
    ({"denyDelete": True}, {"deny_delete": True}),
    ({"denyPurge": False}, {"deny_purge": False}),
    ({"allowRollup": True}, {"allow_rollup_hdrs": True}),
    ({"allowDirect": True}, {"allow_direct": True}),
    ({"mirror": {"name": "O"}, "mirrorDirect": True}, {"mirror": {"name": "O"}, "mirror_direct": True}),
    ({"compression": "s2"}, {"compression": "s2"}),
    ({"firstSeq": 100}, {"first_seq": 100}),
    (
        {"subjectTransform": {"src": "in.>", "dest": "out.>"}},
        {"subject_transform": {"src": "in.>", "dest": "out.>"}},
    ),
    ({"subjectTransform": {"dest": "out.>"}}, {"subject_transform": {"src": ">", "dest": "out.>"}}),
    ({"republish": {"dest": "copy.>"}}, {"republish": {"src": ">", "dest": "copy.>"}}),
    (
        {"republish": {"src": "a.>", "dest": "b.>", "headersOnly": True}},
        {"republish": {"src": "a.>", "dest": "b.>", "headers_only": True}},
    ),
    (
        {"consumerLimits": {"inactiveThreshold": "1h", "maxAckPending": 500}},
        {"consumer_limits": {"inactive_threshold": 3600 * S, "max_ack_pending": 500}},
    ),
    ({"metadata": {"team": "payments"}}, {"metadata": {"team": "payments"}}),
    ({"allowMsgTtl": True}, {"allow_msg_ttl": True}),
    (
        {"allowMsgTtl": True, "subjectDeleteMarkerTtl": "15m"},
        {"allow_msg_ttl": True, "subject_delete_marker_ttl": 900 * S},
    ),
    # operator-only fields never reach NATS
    ({"connectionRef": {"name": "hub"}, "deletionPolicy": "Delete", "managementPolicy": "Observe"}, {}),
]


@pytest.mark.parametrize(("spec", "expected"), CASES, ids=[",".join(c[0]) or "empty" for c in CASES])
def test_field_mapping(spec: dict[str, Any], expected: dict[str, Any]) -> None:
    assert config(spec) == {**BASE, **expected}


def test_every_spec_field_is_covered_by_the_table() -> None:
    covered = {key for spec, _ in CASES for key in spec}
    nats_fields = {f.alias for f in StreamSpec.model_fields.values()}
    assert nats_fields - covered == set()


def test_unnamed_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="from_resource"):
        stream_config(StreamSpec())


def test_config_is_a_fresh_copy() -> None:
    spec = StreamSpec.from_resource(
        {"metadata": {"name": "s"}, "spec": {"subjects": ["a"], "metadata": {"k": "v"}}}
    )
    cfg = stream_config(spec)
    cfg["subjects"].append("b")
    cfg["metadata"]["x"] = "y"
    assert spec.subjects == ["a"] and spec.metadata == {"k": "v"}
