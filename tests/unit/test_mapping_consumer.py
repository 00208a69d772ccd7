"""ConsumerSpec -> ConsumerConfig JSON, field by field."""

from __future__ import annotations

from typing import Any

import pytest
from jetstream_operator.mapping.consumer import consumer_config
from jetstream_operator.mapping.jsonvalues import snake_enum
from jetstream_operator.spec import ConsumerSpec

pytestmark = pytest.mark.unit

S = 1_000_000_000
REF = {"streamRef": {"name": "orders"}}
BASE = {
    "durable_name": "worker",
    "deliver_policy": "all",
    "ack_policy": "explicit",
    "replay_policy": "instant",
}


def config(spec: dict[str, Any]) -> dict[str, Any]:
    return consumer_config(
        ConsumerSpec.from_resource({"metadata": {"name": "worker"}, "spec": {**REF, **spec}})
    )


def test_minimal_spec_emits_only_pinned_fields() -> None:
    assert config({}) == BASE


CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"durableName": "W2"}, {"durable_name": "W2"}),
    ({"description": "d"}, {"description": "d"}),
    ({"deliverPolicy": "last"}, {"deliver_policy": "last"}),
    ({"deliverPolicy": "new"}, {"deliver_policy": "new"}),
    ({"deliverPolicy": "lastPerSubject"}, {"deliver_policy": "last_per_subject"}),
    (
        {"deliverPolicy": "byStartSequence", "optStartSeq": 42},
        {"deliver_policy": "by_start_sequence", "opt_start_seq": 42},
    ),
    (
        {"deliverPolicy": "byStartTime", "optStartTime": "2026-03-01T12:00:00Z"},
        {"deliver_policy": "by_start_time", "opt_start_time": "2026-03-01T12:00:00Z"},
    ),
    ({"ackPolicy": "all"}, {"ack_policy": "all"}),
    ({"ackPolicy": "none"}, {"ack_policy": "none"}),
    ({"ackWait": "1m30s"}, {"ack_wait": 90 * S}),
    ({"maxDeliver": 5}, {"max_deliver": 5}),
    ({"backoff": ["1s", "500ms", "1m"]}, {"backoff": [S, S // 2, 60 * S]}),
    ({"filterSubject": "orders.created"}, {"filter_subject": "orders.created"}),
    ({"filterSubjects": ["a.*", "b.>"]}, {"filter_subjects": ["a.*", "b.>"]}),
    ({"replayPolicy": "original"}, {"replay_policy": "original"}),
    ({"sampleFreq": "50%"}, {"sample_freq": "50%"}),
    ({"rateLimitBps": 1_000_000}, {"rate_limit_bps": 1_000_000}),
    ({"maxAckPending": 250}, {"max_ack_pending": 250}),
    ({"maxWaiting": 64}, {"max_waiting": 64}),
    ({"maxRequestBatch": 100}, {"max_batch": 100}),
    ({"maxRequestExpires": "30s"}, {"max_expires": 30 * S}),
    ({"maxRequestMaxBytes": "1Mi"}, {"max_bytes": 2**20}),
    ({"headersOnly": True}, {"headers_only": True}),
    ({"inactiveThreshold": "1h"}, {"inactive_threshold": 3600 * S}),
    ({"replicas": 0}, {"num_replicas": 0}),
    ({"memStorage": True}, {"mem_storage": True}),
    ({"metadata": {"owner": "team-a"}}, {"metadata": {"owner": "team-a"}}),
    ({"pauseUntil": "2030-01-01T00:00:00+02:00"}, {"pause_until": "2029-12-31T22:00:00Z"}),
    (
        {"priorityGroups": ["jobs"], "priorityPolicy": "pinnedClient", "pinnedTtl": "2m"},
        {"priority_groups": ["jobs"], "priority_policy": "pinned_client", "priority_timeout": 120 * S},
    ),
    (
        {"priorityGroups": ["a", "b"], "priorityPolicy": "overflow"},
        {"priority_groups": ["a", "b"], "priority_policy": "overflow"},
    ),
    ({"priorityPolicy": "none"}, {"priority_policy": "none"}),
    (
        {
            "deliverSubject": "push.orders",
            "deliverGroup": "workers",
            "flowControl": True,
            "idleHeartbeat": "5s",
        },
        {
            "deliver_subject": "push.orders",
            "deliver_group": "workers",
            "flow_control": True,
            "idle_heartbeat": 5 * S,
        },
    ),
    # operator-only and adapter fields never reach NATS
    ({"adapter": {"batchSize": 10}, "deletionPolicy": "Retain", "managementPolicy": "Observe"}, {}),
]


@pytest.mark.parametrize(("spec", "expected"), CASES, ids=[",".join(c[0]) for c in CASES])
def test_field_mapping(spec: dict[str, Any], expected: dict[str, Any]) -> None:
    assert config(spec) == {**BASE, **expected}


def test_stream_name_and_connection_do_not_reach_the_config() -> None:
    spec = ConsumerSpec.from_resource(
        {"metadata": {"name": "w"}, "spec": {"streamName": "ORDERS", "connectionRef": {"name": "c"}}}
    )
    assert consumer_config(spec) == {**BASE, "durable_name": "w"}


def test_every_spec_field_is_covered_by_the_table() -> None:
    covered = {key for spec, _ in CASES for key in spec} | set(REF) | {"streamName", "connectionRef"}
    assert {f.alias for f in ConsumerSpec.model_fields.values()} - covered == set()


@pytest.mark.parametrize(
    ("word", "snake"),
    [
        ("all", "all"),
        ("byStartSequence", "by_start_sequence"),
        ("pinnedClient", "pinned_client"),
        ("lastPerSubject", "last_per_subject"),
    ],
)
def test_snake_enum(word: str, snake: str) -> None:
    assert snake_enum(word) == snake


def test_unnamed_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="from_resource"):
        consumer_config(ConsumerSpec(stream_name="S"))
