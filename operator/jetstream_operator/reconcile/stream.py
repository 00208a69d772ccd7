"""Reconcile one Stream resource with its JetStream stream: create, update, repair, observe."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jetstream_operator.failures import ReconcileFailure
from jetstream_operator.jsapi import JetStreamAPI, JetStreamError
from jetstream_operator.mapping.drift import config_drift
from jetstream_operator.mapping.stream import stream_config
from jetstream_operator.reconcile.connection_config import resolve_connection
from jetstream_operator.reconcile.runner import Outcome
from jetstream_operator.registry import STREAM, Tracked
from jetstream_operator.runtime import Runtime
from jetstream_operator.spec.errors import SpecError
from jetstream_operator.spec.stream import StreamSpec
from jetstream_operator.status import stream_state


def parse_spec(body: Mapping[str, Any]) -> StreamSpec:
    try:
        return StreamSpec.from_resource(body)
    except SpecError as exc:
        raise ReconcileFailure("InvalidSpec", str(exc), transient=False) from None


async def connect(
    rt: Runtime, namespace: str, ref: str | None, item: Tracked, *, cached: bool = True
) -> JetStreamAPI:
    """Resolve the connection (from the cache unless `cached=False`) and bind `item` to it."""
    config = rt.configs.get(namespace, ref) if ref and cached else None
    if config is None:
        config = await resolve_connection(rt.kube, namespace, ref, rt.settings.nats_servers)
        if ref:
            rt.configs.put(namespace, ref, config)
    api = await rt.pool.acquire(str(item.key), config)
    item.pool_key = config.key
    return api


def _drift_message(keys: list[str]) -> str:
    return ", ".join(sorted(keys))


async def reconcile_stream(rt: Runtime, body: Mapping[str, Any], item: Tracked) -> Outcome:
    meta = body.get("metadata") or {}
    namespace = str(meta.get("namespace"))
    status = body.get("status") or {}
    first_time = status.get("observedGeneration") is None
    spec = parse_spec(body)
    desired = stream_config(spec)
    name = str(desired["name"])
    item.connection = spec.connection_ref.name if spec.connection_ref else None
    api = await connect(rt, namespace, item.connection, item)
    previous_name = item.stream or status.get("streamName")
    item.stream = name
    info = await api.stream_info(name)
    extra = {"streamName": name}

    item.observe = spec.management_policy == "Observe"
    if item.observe:
        if info is None:
            return Outcome(
                False,
                "NotFound",
                f"stream {name} does not exist on the server (Observe mode never creates it)",
                extra=extra,
            )
        drift = config_drift(desired, info.get("config") or {})
        message = (
            f"stream {name} observed; differs from spec in: {_drift_message(drift)}"
            " (Observe mode: not changed)"
            if drift
            else f"stream {name} observed, matches spec"
        )
        return Outcome(True, "Observed", message, state=stream_state(info), extra=extra)

    events: list[tuple[str, str, str]] = []
    if info is None:
        try:
            info = await api.stream_create(desired)
        except JetStreamError as exc:
            raise ReconcileFailure("CreateFailed", f"creating stream {name}: {exc.description}") from None
        if first_time or previous_name != name:
            events.append(("Normal", "Created", f"created stream {name}"))
            message = f"stream {name} created"
        else:
            events.append(("Warning", "DriftRepaired", f"stream {name} was deleted out of band; recreated"))
            message = f"stream {name} recreated after out-of-band deletion"
    else:
        drift = config_drift(desired, info.get("config") or {})
        generation_changed = status.get("observedGeneration") != meta.get("generation")
        if drift:
            try:
                info = await api.stream_update(desired)
            except JetStreamError as exc:
                raise ReconcileFailure(
                    "UpdateRejected", f"updating stream {name} ({_drift_message(drift)}): {exc.description}"
                ) from None
            if first_time:
                events.append(
                    ("Normal", "Adopted", f"adopted existing stream {name}; updated {_drift_message(drift)}")
                )
                message = f"stream {name} adopted and updated"
            elif generation_changed:
                events.append(("Normal", "Updated", f"updated stream {name}: {_drift_message(drift)}"))
                message = f"stream {name} updated"
            else:
                events.append(
                    (
                        "Warning",
                        "DriftRepaired",
                        f"stream {name} was changed out of band ({_drift_message(drift)}); restored",
                    )
                )
                message = f"stream {name} restored after out-of-band change"
        else:
            if first_time:
                events.append(("Normal", "Adopted", f"adopted existing stream {name} (already matches spec)"))
            message = f"stream {name} in sync"
    if previous_name and previous_name != name:
        events.append(await _retire_old_name(api, spec, previous_name, name))
    return Outcome(True, "Synced", message, state=stream_state(info), extra=extra, events=events)


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
    meta = body.get("metadata") or {}
    namespace = str(meta.get("namespace"))
    try:
        spec = StreamSpec.from_resource(body)
    except SpecError:
        return "spec is invalid: nothing was created, nothing to delete"
    name = str((body.get("status") or {}).get("streamName") or spec.name)
    if spec.management_policy == "Observe":
        return f"stream {name} left untouched (managementPolicy Observe)"
    if spec.deletion_policy == "Retain":
        return f"stream {name} retained on the server (deletionPolicy Retain)"
    ref = spec.connection_ref.name if spec.connection_ref else None
    try:
        api = await connect(rt, namespace, ref, item, cached=False)
    except ReconcileFailure as exc:
        if exc.reason in ("ConnectionNotFound", "ConnectionInvalid", "SecretNotFound", "SecretKeyMissing"):
            # The way to the server is gone for good: waiting would hang the finalizer forever.
            return f"stream {name} NOT deleted: {exc.message}; released without deleting"
        raise
    existed = await api.stream_delete(name)
    return f"stream {name} deleted" if existed else f"stream {name} was already gone"


__all__ = ["STREAM", "delete_stream", "reconcile_stream"]
