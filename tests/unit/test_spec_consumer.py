"""ConsumerSpec: defaults, adapter block checked by AdapterSettings, one SpecError per bad spec."""

from __future__ import annotations

from typing import Any

import pytest
from jetstream_operator.spec import ConsumerSpec, SpecError

pytestmark = pytest.mark.unit


def body(spec: dict[str, Any], name: str = "orders-worker") -> dict[str, Any]:
    return {"kind": "Consumer", "metadata": {"name": name}, "spec": spec}


REF = {"streamRef": {"name": "orders"}}


def test_defaults() -> None:
    spec = ConsumerSpec.from_resource(body(REF))
    assert spec.durable_name == "orders-worker"
    assert spec.ack_policy == "explicit"
    assert spec.deliver_policy == "all"
    assert spec.replay_policy == "instant"
    assert spec.deletion_policy == "Delete"
    assert spec.management_policy == "Manage"
    assert not spec.is_push
    assert spec.adapter is None


def test_durable_name_defaults_and_dot_is_refused() -> None:
    assert ConsumerSpec.from_resource(body({**REF, "durableName": "W"}, name="a.b")).durable_name == "W"
    with pytest.raises(SpecError) as info:
        ConsumerSpec.from_resource(body(REF, name="worker.v1"))
    assert info.value.field == "spec.durableName"
    assert "metadata.name" in info.value.reason


def test_stream_name_instead_of_ref() -> None:
    spec = ConsumerSpec.from_resource(body({"streamName": "ORDERS", "connectionRef": {"name": "hub"}}))
    assert spec.stream_name == "ORDERS" and spec.stream_ref is None
    assert spec.connection_ref is not None and spec.connection_ref.name == "hub"


def test_adapter_settings_options_derive_from_consumer() -> None:
    spec = ConsumerSpec.from_resource(
        body(
            {
                **REF,
                "maxAckPending": 200,
                "maxDeliver": 5,
                "ackWait": "45s",
                "filterSubject": "orders.created",
                "deliverPolicy": "new",
                "adapter": {
                    "batchSize": 50,
                    "maxInflight": 100,
                    "fetchTimeout": "500ms",
                    "minCompressSize": "2Ki",
                },
            }
        )
    )
    assert spec.adapter_settings_options() == {
        "max_ack_pending": 200,
        "max_deliver": 5,
        "ack_wait": 45.0,
        "filter_subject": "orders.created",
        "deliver_policy": "new",
        "batch_size": 50,
        "max_inflight": 100,
        "fetch_timeout": 0.5,
        "min_compress_size": 2048,
    }


@pytest.mark.parametrize(
    ("max_ack_pending", "adapter", "expected"),
    [
        (None, {}, 1000),  # the server's default
        (0, {}, 1000),
        (300, {}, 300),
        (-1, {"maxInflight": 200}, 200),  # unlimited on the server: the adapter's own cap applies
        (-1, {}, 1000),
    ],
)
def test_max_ack_pending_for_the_adapter(
    max_ack_pending: int | None, adapter: dict[str, Any], expected: int
) -> None:
    spec: dict[str, Any] = {**REF, "adapter": adapter}
    if max_ack_pending is not None:
        spec["maxAckPending"] = max_ack_pending
    assert ConsumerSpec.from_resource(body(spec)).adapter_settings_options()["max_ack_pending"] == expected


def test_start_policies_with_their_options() -> None:
    seq = ConsumerSpec.from_resource(body({**REF, "deliverPolicy": "byStartSequence", "optStartSeq": 10}))
    assert seq.opt_start_seq == 10
    t = ConsumerSpec.from_resource(
        body({**REF, "deliverPolicy": "byStartTime", "optStartTime": "2026-01-02T03:04:05Z"})
    )
    assert t.opt_start_time is not None and t.opt_start_time.year == 2026


def test_push_consumer_is_accepted_without_pull_fields() -> None:
    spec = ConsumerSpec.from_resource(
        body({**REF, "deliverSubject": "deliver.orders", "flowControl": True, "idleHeartbeat": "5s"})
    )
    assert spec.is_push


INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({}, "spec.streamRef", "exactly one of streamRef"),
    ({**REF, "streamName": "ORDERS"}, "spec.streamRef", "exactly one of streamRef"),
    ({**REF, "connectionRef": {"name": "c"}}, "spec.connectionRef", "only for streamName"),
    ({"streamRef": {"name": "o", "namespace": "x"}}, "spec.streamRef.namespace", "cross-namespace"),
    ({"streamName": "a.b"}, "spec.streamName", "invalid NATS name"),
    ({**REF, "durableName": "w*"}, "spec.durableName", "invalid NATS name"),
    ({**REF, "filterSubject": "a", "filterSubjects": ["b"]}, "spec.filterSubjects", "not both"),
    ({**REF, "filterSubjects": []}, "spec.filterSubjects", "at least 1"),
    ({**REF, "filterSubject": "a.>.b"}, "spec.filterSubject", "last token"),
    ({**REF, "optStartSeq": 5}, "spec.optStartSeq", "byStartSequence"),
    ({**REF, "deliverPolicy": "byStartSequence"}, "spec.optStartSeq", "byStartSequence"),
    ({**REF, "optStartTime": "2026-01-01T00:00:00Z"}, "spec.optStartTime", "byStartTime"),
    ({**REF, "deliverPolicy": "byStartTime"}, "spec.optStartTime", "byStartTime"),
    ({**REF, "deliverPolicy": "byStartTime", "optStartTime": "yesterday"}, "spec.optStartTime", "datetime"),
    ({**REF, "deliverPolicy": "first"}, "spec.deliverPolicy", "'byStartSequence'"),
    ({**REF, "ackPolicy": "explicitly"}, "spec.ackPolicy", "'explicit'"),
    ({**REF, "replayPolicy": "fast"}, "spec.replayPolicy", "'original'"),
    ({**REF, "ackWait": "30"}, "spec.ackWait", "invalid duration"),
    ({**REF, "backoff": ["1s", "x"]}, "spec.backoff[1]", "invalid duration"),
    ({**REF, "backoff": ["1s", "2s"], "maxDeliver": 2}, "spec.maxDeliver", "backoff steps (2)"),
    ({**REF, "maxDeliver": -2}, "spec.maxDeliver", "greater than or equal to -1"),
    ({**REF, "replicas": -1}, "spec.replicas", "greater than or equal to 0"),
    ({**REF, "replicas": 6}, "spec.replicas", "less than or equal to 5"),
    ({**REF, "sampleFreq": "101%"}, "spec.sampleFreq", "pattern"),
    ({**REF, "maxRequestMaxBytes": "lots"}, "spec.maxRequestMaxBytes", "invalid size"),
    ({**REF, "priorityGroups": ["jobs"]}, "spec.priorityPolicy", "need a priorityPolicy"),
    ({**REF, "priorityPolicy": "overflow"}, "spec.priorityGroups", "needs priorityGroups"),
    (
        {**REF, "priorityPolicy": "overflow", "priorityGroups": ["jobs"], "pinnedTtl": "1m"},
        "spec.pinnedTtl",
        "pinnedClient",
    ),
    (
        {**REF, "priorityPolicy": "overflow", "priorityGroups": ["a" * 17]},
        "spec.priorityGroups[0]",
        "at most 16",
    ),
    ({**REF, "deliverSubject": "d", "maxWaiting": 10}, "spec.maxWaiting", "pull consumers"),
    ({**REF, "deliverSubject": "d", "adapter": {}}, "spec.adapter", "pull"),
    ({**REF, "idleHeartbeat": "5s"}, "spec.idleHeartbeat", "needs deliverSubject"),
    (
        {**REF, "deliverSubject": "d", "flowControl": True},
        "spec.idleHeartbeat",
        "flowControl needs idleHeartbeat",
    ),
    ({**REF, "adapter": {"batchSize": 0}}, "spec.adapter.batchSize", "greater than or equal to 1"),
    ({**REF, "adapter": {"batchSize": 500, "maxInflight": 100}}, "spec.adapter.batchSize", "max_inflight"),
    ({**REF, "maxAckPending": 10, "adapter": {"batchSize": 20}}, "spec.adapter.batchSize", "max_ack_pending"),
    ({**REF, "adapter": {"compressionCodec": "gzip"}}, "spec.adapter.compressionCodec", "'zstd' or 'lz4'"),
    ({**REF, "adapter": {"deadLetterSubject": "dlq.>"}}, "spec.adapter.deadLetterSubject", "wildcards"),
    ({**REF, "adapter": {"fetchTimeout": "0"}}, "spec.adapter.fetchTimeout", "greater than 0"),
    ({**REF, "adapter": {"nakDelay": "10s", "nakDelayMax": "1s"}}, "spec.adapter.nakDelayMax", "nak_delay"),
    ({**REF, "adapter": {"subjectPrefix": "a b"}}, "spec.adapter.subjectPrefix", "whitespace"),
    ({**REF, "adapter": {"batchsize": 10}}, "spec.adapter.batchsize", "unknown field"),
]


@pytest.mark.parametrize(
    ("spec", "field", "reason"), INVALID, ids=[f"{i}-{c[1]}" for i, c in enumerate(INVALID)]
)
def test_invalid_spec_names_field_and_reason(spec: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(SpecError) as info:
        ConsumerSpec.from_resource(body(spec))
    err = info.value
    assert err.field == field, err.problems
    assert reason in err.reason, err.reason


def test_cross_field_problems_are_reported_together() -> None:
    with pytest.raises(SpecError) as info:
        ConsumerSpec.from_resource(
            body(
                {
                    **REF,
                    "filterSubject": "a",
                    "filterSubjects": ["b"],
                    "optStartSeq": 3,
                    "idleHeartbeat": "1s",
                }
            )
        )
    assert {f for f, _ in info.value.problems} == {
        "spec.filterSubjects",
        "spec.optStartSeq",
        "spec.idleHeartbeat",
    }
