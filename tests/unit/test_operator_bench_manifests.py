"""The benchmark load: same names and shape for our CRDs and NACK's, one multi-document YAML."""

from __future__ import annotations

import pytest
import yaml

from benchmarks.nack import nack_manifests
from benchmarks.operator_manifests import names_by_kind, our_manifests, yaml_stream

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("build", [our_manifests, nack_manifests])
def test_streams_come_first_then_one_consumer_per_stream(build) -> None:
    docs = build(3, "ns1")
    assert [d["kind"] for d in docs] == ["Stream"] * 3 + ["Consumer"] * 3
    assert all(d["metadata"]["namespace"] == "ns1" for d in docs)
    names = names_by_kind(docs)
    assert names == {
        "Stream": {"bench-0000", "bench-0001", "bench-0002"},
        "Consumer": {"bench-0000-c", "bench-0001-c", "bench-0002-c"},
    }


def test_our_consumer_references_its_stream_and_subjects_do_not_overlap() -> None:
    docs = our_manifests(2, "ns")
    streams, consumers = docs[:2], docs[2:]
    assert [c["spec"]["streamRef"] for c in consumers] == [{"name": "bench-0000"}, {"name": "bench-0001"}]
    subjects = [s for d in streams for s in d["spec"]["subjects"]]
    assert subjects == ["bench.0000.>", "bench.0001.>"]
    assert {d["apiVersion"] for d in docs} == {"jetstream.oppie.xyz/v1alpha1"}


def test_nack_consumer_names_its_stream_and_durable() -> None:
    docs = nack_manifests(2, "ns")
    assert {d["apiVersion"] for d in docs} == {"jetstream.nats.io/v1beta2"}
    consumer = docs[3]["spec"]
    assert consumer["streamName"] == "bench-0001"
    assert consumer["durableName"] == "bench-0001-c"
    assert docs[1]["spec"]["name"] == "bench-0001"


def test_both_schemas_carry_the_same_consumer_settings() -> None:
    ours, theirs = our_manifests(1, "ns")[1]["spec"], nack_manifests(1, "ns")[1]["spec"]
    for key in ("deliverPolicy", "ackPolicy", "maxDeliver"):
        assert ours[key] == theirs[key]


def test_yaml_stream_round_trips_every_document() -> None:
    docs = our_manifests(4, "ns")
    text = yaml_stream(docs)
    assert text.count("---\n") == 8
    assert [d for d in yaml.safe_load_all(text) if d] == docs


@pytest.mark.parametrize("build", [our_manifests, nack_manifests])
@pytest.mark.parametrize("count", [0, -1, 10000])
def test_count_out_of_range_is_refused(build, count: int) -> None:
    with pytest.raises(ValueError, match=r"count: must be within 1\.\.9999"):
        build(count, "ns")
