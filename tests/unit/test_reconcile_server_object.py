"""The reconcile skeleton Streams and Consumers share: what it reports and decides, without I/O."""

from __future__ import annotations

from typing import Any

import pytest
from jetstream_operator.failures import ReconcileFailure
from jetstream_operator.jsapi import JetStreamError
from jetstream_operator.reconcile.server_object import (
    Config,
    Event,
    Released,
    ResourceView,
    ServerObject,
    delete_object,
    observed,
    parse_spec,
    sync,
)
from jetstream_operator.spec.stream import StreamSpec

pytestmark = pytest.mark.unit

DESIRED = {"name": "S", "subjects": ["s.>"], "max_msgs": 10, "max_age": 60}


def _state(info: Any) -> dict[str, Any]:
    return {"messages": info.get("state", {}).get("messages", 0)}


def _obj(info: Config | None, **kw: Any) -> ServerObject:
    return ServerObject("stream", "S", DESIRED, info, {"streamName": "S"}, _state, **kw)


@pytest.mark.parametrize(
    ("body", "first_time", "generation_changed"),
    [
        ({"metadata": {"namespace": "ns", "generation": 1}}, True, True),
        (
            {"metadata": {"namespace": "ns", "generation": 2}, "status": {"observedGeneration": 2}},
            False,
            False,
        ),
        (
            {"metadata": {"namespace": "ns", "generation": 3}, "status": {"observedGeneration": 2}},
            False,
            True,
        ),
    ],
)
def test_resource_view(body: dict[str, Any], first_time: bool, generation_changed: bool) -> None:
    seen = ResourceView.of(body)
    assert (seen.namespace, seen.first_time, seen.generation_changed) == (
        "ns",
        first_time,
        generation_changed,
    )


def test_invalid_spec_fails_for_good_naming_the_field() -> None:
    with pytest.raises(ReconcileFailure) as info:
        parse_spec(StreamSpec.from_resource, {"metadata": {"name": "s"}, "spec": {"replicas": 9}})
    assert info.value.reason == "InvalidSpec" and not info.value.transient
    assert "spec.replicas" in info.value.message


def test_observed_missing_object_names_it_as_told() -> None:
    outcome = observed(_obj(None, missing_name="ORDERS/S"))
    assert (outcome.ready, outcome.reason) == (False, "NotFound")
    assert outcome.message.startswith("stream ORDERS/S does not exist on the server")
    assert outcome.extra == {"streamName": "S"}


@pytest.mark.parametrize(
    ("config", "list_drift", "message"),
    [
        (
            {"name": "S", "subjects": ["s.>"], "max_msgs": 10, "max_age": 60},
            ", ".join,
            "stream S observed, matches spec",
        ),
        (
            {"name": "S", "subjects": ["s.>"], "max_msgs": 11, "max_age": 61},
            ", ".join,
            "stream S observed; differs from spec in: max_msgs, max_age (Observe mode: not changed)",
        ),
        (
            {"name": "S", "subjects": ["s.>"], "max_msgs": 11, "max_age": 61},
            lambda keys: ", ".join(sorted(keys)),
            "stream S observed; differs from spec in: max_age, max_msgs (Observe mode: not changed)",
        ),
    ],
)
def test_observed_reports_drift_without_repairing(config: Config, list_drift: Any, message: str) -> None:
    outcome = observed(_obj({"config": config, "state": {"messages": 4}}, list_drift=list_drift))
    assert (outcome.ready, outcome.reason, outcome.message) == (True, "Observed", message)
    assert outcome.state == {"messages": 4}


async def _no_repair(info: Config, drift: list[str]) -> tuple[Config, list[Event], str]:
    raise AssertionError("repair must not run")


@pytest.mark.parametrize(
    ("fresh", "event", "message"),
    [
        (True, ("Normal", "Created", "made S"), "stream S created"),
        (
            False,
            ("Warning", "DriftRepaired", "stream S was deleted out of band; recreated"),
            "stream S recreated after out-of-band deletion",
        ),
    ],
)
async def test_missing_object_is_created(fresh: bool, event: Event, message: str) -> None:
    async def create() -> Config:
        return {"config": DESIRED, "state": {"messages": 0}}

    outcome = await sync(
        _obj(None), observe=False, fresh=fresh, create=create, created="made S", repair=_no_repair
    )
    assert (outcome.ready, outcome.reason, outcome.message, outcome.events) == (
        True,
        "Synced",
        message,
        [event],
    )


async def test_rejected_create_is_a_create_failure() -> None:
    async def create() -> Config:
        raise JetStreamError(400, 10058, "subjects overlap")

    with pytest.raises(ReconcileFailure) as info:
        await sync(_obj(None), observe=False, fresh=True, create=create, created="", repair=_no_repair)
    assert (info.value.reason, info.value.message) == ("CreateFailed", "creating stream S: subjects overlap")


async def test_existing_object_goes_to_the_kinds_repair_with_its_drift() -> None:
    seen: list[list[str]] = []

    async def repair(info: Config, drift: list[str]) -> tuple[Config, list[Event], str]:
        seen.append(drift)
        return {**info, "state": {"messages": 7}}, [("Normal", "Updated", "u")], "stream S updated"

    async def create() -> Config:
        raise AssertionError("create must not run")

    info = {"config": {**DESIRED, "max_msgs": 5}}
    outcome = await sync(_obj(info), observe=False, fresh=False, create=create, created="", repair=repair)
    assert seen == [["max_msgs"]]
    assert (outcome.message, outcome.state, outcome.events) == (
        "stream S updated",
        {"messages": 7},
        [("Normal", "Updated", "u")],
    )


def _body(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "ns", "name": "s"}, "spec": spec, "status": {"streamName": "OLD"}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_body(replicas=9), "spec is invalid: nothing was created, nothing to delete"),
        (
            _body(managementPolicy="Observe", deletionPolicy="Delete"),
            "stream OLD left untouched (managementPolicy Observe)",
        ),
        (_body(), "stream OLD retained on the server (deletionPolicy Retain)"),
        (_body(deletionPolicy="Delete"), "removed OLD"),
        (_body(deletionPolicy="Delete", name="gone"), "released"),
    ],
)
async def test_delete_applies_policies_before_the_kinds_removal(body: dict[str, Any], message: str) -> None:
    async def remove(seen: ResourceView, spec: StreamSpec, name: str) -> str:
        if spec.name == "gone":
            raise Released("released")
        return f"removed {name}"

    def name_of(spec: StreamSpec, seen: ResourceView) -> str:
        return str(seen.status.get("streamName") or spec.name)

    assert await delete_object(body, StreamSpec.from_resource, "stream", name_of, remove) == message
