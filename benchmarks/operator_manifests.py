"""The load of the operator benchmark: N Streams and N Consumers as one multi-document YAML (pure).

Both operators get the same shape of load: stream i captures `bench.<i>.>` and consumer i is a
durable pull consumer on stream i. Streams come first in the document so that a controller that
processes objects in arrival order never sees a Consumer before its Stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

OUR_GROUP = "jetstream.oppie.xyz"
OUR_VERSION = "v1alpha1"


@dataclass(frozen=True)
class Kind:
    """A custom resource kind as the benchmark watches it."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


OUR_STREAM = Kind(OUR_GROUP, OUR_VERSION, "streams", "Stream")
OUR_CONSUMER = Kind(OUR_GROUP, OUR_VERSION, "consumers", "Consumer")
OUR_CONNECTION = Kind(OUR_GROUP, OUR_VERSION, "natsconnections", "NatsConnection")


def stream_name(i: int) -> str:
    return f"bench-{i:04d}"


def consumer_name(i: int) -> str:
    return f"bench-{i:04d}-c"


def subject(i: int) -> str:
    return f"bench.{i:04d}.>"


def _check_count(count: int) -> None:
    if count < 1 or count > 9999:
        raise ValueError(f"count: must be within 1..9999, got {count}")


def our_manifests(count: int, namespace: str) -> list[dict[str, Any]]:
    """`count` Streams then `count` Consumers in our CRD schema (jetstream.oppie.xyz/v1alpha1)."""
    _check_count(count)
    streams = [
        {
            "apiVersion": OUR_STREAM.api_version,
            "kind": OUR_STREAM.kind,
            "metadata": {"name": stream_name(i), "namespace": namespace},
            "spec": {"subjects": [subject(i)], "storage": "file", "replicas": 1},
        }
        for i in range(count)
    ]
    consumers = [
        {
            "apiVersion": OUR_CONSUMER.api_version,
            "kind": OUR_CONSUMER.kind,
            "metadata": {"name": consumer_name(i), "namespace": namespace},
            "spec": {
                "streamRef": {"name": stream_name(i)},
                "deliverPolicy": "all",
                "ackPolicy": "explicit",
                "maxDeliver": 5,
            },
        }
        for i in range(count)
    ]
    return streams + consumers


def yaml_stream(documents: Iterable[dict[str, Any]]) -> str:
    """One multi-document YAML, the input of a single `kubectl apply -f -`."""
    return "".join("---\n" + yaml.safe_dump(doc, sort_keys=False) for doc in documents)


def names_by_kind(documents: Sequence[dict[str, Any]]) -> dict[str, set[str]]:
    """Expected object names per kind: what the watcher waits for."""
    out: dict[str, set[str]] = {}
    for doc in documents:
        out.setdefault(doc["kind"], set()).add(doc["metadata"]["name"])
    return out
