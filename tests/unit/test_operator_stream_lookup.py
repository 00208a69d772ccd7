"""Consumers read their Stream from the in-memory index; our own newest status write wins."""

from typing import Any

import pytest
from jetstream_operator.config import OperatorSettings
from jetstream_operator.reconcile.consumer import stream_resource
from jetstream_operator.registry import STREAM, Registry
from jetstream_operator.runtime import Runtime

pytestmark = pytest.mark.unit


class RecordingKube:
    """Stands in for the apiserver read only to record that the index missed."""

    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer, self.gets = answer, []

    async def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        self.gets.append((plural, namespace, name))
        return self.answer


def slim(ready: str) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": "orders"},
        "spec": {"subjects": ["orders.>"]},
        "status": {"conditions": [{"type": "Ready", "status": ready}]},
    }


def runtime(index: dict[tuple[str, str], list[dict[str, Any]]] | None, kube: RecordingKube) -> Runtime:
    return Runtime(settings=OperatorSettings(), kube=kube, pool=None, registry=Registry(), streams=index)  # type: ignore[arg-type]


async def test_indexed_stream_is_read_from_memory() -> None:
    kube = RecordingKube(None)
    rt = runtime({("ns", "orders"): [slim("True")]}, kube)
    body = await stream_resource(rt, "ns", "orders")
    assert body is not None and body["status"]["conditions"][0]["status"] == "True"
    assert kube.gets == []


async def test_our_newer_status_write_wins_over_the_index() -> None:
    rt = runtime({("ns", "orders"): [slim("False")]}, RecordingKube(None))
    rt.registry.track(STREAM, "ns", "orders").written = {"conditions": [{"type": "Ready", "status": "True"}]}
    body = await stream_resource(rt, "ns", "orders")
    assert body is not None and body["status"]["conditions"][0]["status"] == "True"
    assert body["spec"] == {"subjects": ["orders.>"]}


async def test_index_miss_asks_the_apiserver() -> None:
    kube = RecordingKube(slim("True"))
    rt = runtime({("ns", "other"): [slim("True")]}, kube)
    assert await stream_resource(rt, "ns", "orders") == slim("True")
    assert kube.gets == [(STREAM, "ns", "orders")]
    kube.answer = None
    assert await stream_resource(rt, "ns", "orders") is None


async def test_without_an_index_always_gets() -> None:
    kube = RecordingKube(None)
    assert await stream_resource(runtime(None, kube), "ns", "orders") is None
    assert len(kube.gets) == 1


def test_find_never_creates_an_entry() -> None:
    registry = Registry()
    assert registry.find(STREAM, "ns", "orders") is None
    assert registry.items() == []
    item = registry.track(STREAM, "ns", "orders")
    assert registry.find(STREAM, "ns", "orders") is item
