"""Reconcile one Stream resource with its JetStream stream: create, update, repair, observe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jetstream_operator.failures import ReconcileFailure
from jetstream_operator.jsapi import JetStreamAPI, JetStreamError
from jetstream_operator.mapping.stream import stream_config
from jetstream_operator.reconcile.runner import Outcome
from jetstream_operator.reconcile.server_object import (
    Config,
    Event,
    ResourceView,
    ServerObject,
    connect,
    connect_to_delete,
    delete_object,
    parse_spec,
    sync,
)
from jetstream_operator.registry import STREAM, Tracked
from jetstream_operator.runtime import Runtime
from jetstream_operator.spec.stream import StreamSpec
from jetstream_operator.status import stream_state


def _drift_message(keys: Iterable[str]) -> str:
    return ", ".join(sorted(keys))


async def reconcile_stream(rt: Runtime, body: Mapping[str, Any], item: Tracked) -> Outcome:
    seen = ResourceView.of(body)
    spec = parse_spec(StreamSpec.from_resource, body)
    desired = stream_config(spec)
    name = str(desired["name"])
    item.connection = spec.connection_ref.name if spec.connection_ref else None
    api = await connect(rt, seen.namespace, item.connection, item)
    previous_name = item.stream or seen.status.get("streamName")
    item.stream = name
    info = await api.stream_info(name)
    item.observe = spec.management_policy == "Observe"

    async def repair(info: Config, drift: list[str]) -> tuple[Config, list[Event], str]:
        if not drift:
            adopted = ("Normal", "Adopted", f"adopted existing stream {name} (already matches spec)")
            return info, [adopted] if seen.first_time else [], f"stream {name} in sync"
        changed = _drift_message(drift)
        try:
            info = await api.stream_update(desired)
        except JetStreamError as exc:
            raise ReconcileFailure(
                "UpdateRejected", f"updating stream {name} ({changed}): {exc.description}"
            ) from None
        if seen.first_time:
            event = ("Normal", "Adopted", f"adopted existing stream {name}; updated {changed}")
            message = f"stream {name} adopted and updated"
        elif seen.generation_changed:
            event = ("Normal", "Updated", f"updated stream {name}: {changed}")
            message = f"stream {name} updated"
        else:
            event = (
                "Warning",
                "DriftRepaired",
                f"stream {name} was changed out of band ({changed}); restored",
            )
            message = f"stream {name} restored after out-of-band change"
        return info, [event], message

    stream = ServerObject(
        "stream", name, desired, info, {"streamName": name}, stream_state, list_drift=_drift_message
    )
    outcome = await sync(
        stream,
        observe=item.observe,
        fresh=seen.first_time or previous_name != name,
        create=lambda: api.stream_create(desired),
        created=f"created stream {name}",
        repair=repair,
    )
    if not item.observe and previous_name and previous_name != name:
        outcome.events.append(await _retire_old_name(api, spec, previous_name, name))
    return outcome


async def _retire_old_name(api: JetStreamAPI, spec: StreamSpec, old: str, new: str) -> tuple[str, str, str]:
    """A renamed Stream must not orphan its old stream silently: delete it or say it was kept."""
    if spec.deletion_policy == "Delete":
        try:
            await api.stream_delete(old)
        except JetStreamError as exc:
            raise ReconcileFailure(
                "RenameCleanupFailed", f"deleting old stream {old}: {exc.description}"
            ) from None
        return (
            "Normal",
            "Renamed",
            f"stream renamed {old} -> {new}; old stream deleted (deletionPolicy Delete)",
        )
    return (
        "Warning",
        "Renamed",
        f"stream renamed {old} -> {new}; old stream {old} kept (deletionPolicy Retain)",
    )


async def delete_stream(rt: Runtime, body: Mapping[str, Any], item: Tracked) -> str:
    """Apply deletionPolicy; returns the Event message. Raises ReconcileFailure to retry."""

    async def remove(seen: ResourceView, spec: StreamSpec, name: str) -> str:
        ref = spec.connection_ref.name if spec.connection_ref else None
        api = await connect_to_delete(rt, seen.namespace, ref, item, f"stream {name}")
        existed = await api.stream_delete(name)
        return f"stream {name} deleted" if existed else f"stream {name} was already gone"

    return await delete_object(body, StreamSpec.from_resource, "stream", _stream_name, remove)


def _stream_name(spec: StreamSpec, seen: ResourceView) -> str:
    return str(seen.status.get("streamName") or spec.name)


__all__ = ["STREAM", "delete_stream", "reconcile_stream"]
