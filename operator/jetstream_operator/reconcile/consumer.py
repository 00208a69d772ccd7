"""Reconcile one Consumer resource: wait for its Stream, then create, update or repair it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jetstream_operator.failures import ReconcileFailure
from jetstream_operator.jsapi import (
    CONSUMER_NOT_UPDATABLE_CODES,
    STREAM_NOT_FOUND,
    JetStreamAPI,
    JetStreamError,
)
from jetstream_operator.mapping.consumer import consumer_config
from jetstream_operator.mapping.drift import config_drift
from jetstream_operator.reconcile.runner import Outcome
from jetstream_operator.reconcile.stream import connect
from jetstream_operator.registry import STREAM, Tracked
from jetstream_operator.runtime import Runtime
from jetstream_operator.spec.consumer import ConsumerSpec
from jetstream_operator.spec.errors import SpecError
from jetstream_operator.spec.stream import StreamSpec
from jetstream_operator.status import consumer_state, ready_of


def parse_spec(body: Mapping[str, Any]) -> ConsumerSpec:
    try:
        return ConsumerSpec.from_resource(body)
    except SpecError as exc:
        raise ReconcileFailure("InvalidSpec", str(exc), transient=False) from None


async def stream_resource(rt: Runtime, namespace: str, name: str) -> Mapping[str, Any] | None:
    """The Stream resource from the in-memory index, with the newest status this replica wrote.

    The watch may not have delivered our own last status patch yet (the Stream hook wakes its
    Consumers right after writing it), so that write wins over the indexed conditions. A
    Stream missing from the index may just not have reached our watch yet: ask the apiserver.
    """
    store = rt.streams.get((namespace, name)) if rt.streams is not None else None
    indexed = next(iter(store), None) if store else None
    if indexed is None:
        return await rt.kube.get(STREAM, namespace, name)
    tracked = rt.registry.find(STREAM, namespace, name)
    if tracked is not None and tracked.written is not None:
        return {**indexed, "status": tracked.written}
    return indexed


async def resolve_stream(
    rt: Runtime, namespace: str, spec: ConsumerSpec, *, require_ready: bool = True
) -> tuple[str, str | None]:
    """(NATS stream name, NatsConnection name) from streamRef (waiting for it) or streamName."""
    if spec.stream_ref is None:
        return str(spec.stream_name), spec.connection_ref.name if spec.connection_ref else None
    ref = spec.stream_ref.name
    stream_body = await stream_resource(rt, namespace, ref)
    if stream_body is None:
        raise ReconcileFailure("StreamNotFound", f"waiting for Stream {namespace}/{ref}: it does not exist")
    ready, reason = ready_of(stream_body.get("status"))
    if require_ready and not ready:
        raise ReconcileFailure(
            "StreamNotReady", f"waiting for Stream {namespace}/{ref} (Ready: {reason or 'unknown'})"
        )
    try:
        stream_spec = StreamSpec.from_resource(stream_body)
    except SpecError as exc:
        raise ReconcileFailure("StreamNotReady", f"Stream {namespace}/{ref} is invalid: {exc}") from None
    return str(stream_spec.name), stream_spec.connection_ref.name if stream_spec.connection_ref else None


async def _upsert(api: JetStreamAPI, stream: str, config: dict[str, Any], action: str) -> dict[str, Any]:
    try:
        return await api.consumer_upsert(stream, config, action=action)
    except JetStreamError as exc:
        if exc.err_code == STREAM_NOT_FOUND:
            raise ReconcileFailure(
                "StreamNotFound", f"stream {stream} does not exist on the server"
            ) from None
        raise


async def reconcile_consumer(rt: Runtime, body: Mapping[str, Any], item: Tracked) -> Outcome:
    try:
        return await _reconcile_consumer(rt, body, item)
    except ReconcileFailure as failure:
        if failure.reason == "StreamNotFound" and item.stream_resource and not item.observe:
            # The Stream resource exists but its NATS stream is gone: have the Stream repair it now
            # rather than rely on one advisory reaching the Stream (the Consumer is woken again
            # once its Stream is back).
            namespace = str((body.get("metadata") or {}).get("namespace"))
            stream_item = rt.registry.find(STREAM, namespace, item.stream_resource)
            if stream_item is not None:
                rt.registry.nudge([stream_item])
        raise


async def _reconcile_consumer(rt: Runtime, body: Mapping[str, Any], item: Tracked) -> Outcome:
    meta = body.get("metadata") or {}
    namespace = str(meta.get("namespace"))
    status = body.get("status") or {}
    first_time = status.get("observedGeneration") is None
    spec = parse_spec(body)
    desired = consumer_config(spec)
    durable = str(desired.get("durable_name") or desired.get("name"))
    item.stream_resource = spec.stream_ref.name if spec.stream_ref else None
    observe = item.observe = spec.management_policy == "Observe"
    stream, connection = await resolve_stream(rt, namespace, spec, require_ready=not observe)
    item.connection = connection
    api = await connect(rt, namespace, connection, item)
    item.stream, item.consumer = stream, durable
    extra = {"streamName": stream, "consumerName": durable, "connectionName": connection}
    info = await api.consumer_info(stream, durable)

    if observe:
        if info is None:
            return Outcome(
                False,
                "NotFound",
                f"consumer {stream}/{durable} does not exist on the server (Observe mode never creates it)",
                extra=extra,
            )
        drift = config_drift(desired, info.get("config") or {})
        message = (
            f"consumer {durable} observed; differs from spec in: {', '.join(drift)}"
            " (Observe mode: not changed)"
            if drift
            else f"consumer {durable} observed, matches spec"
        )
        return Outcome(True, "Observed", message, state=consumer_state(info), extra=extra)

    events: list[tuple[str, str, str]] = []
    if info is None:
        try:
            info = await _upsert(api, stream, desired, "create")
        except JetStreamError as exc:
            raise ReconcileFailure(
                "CreateFailed", f"creating consumer {durable}: {exc.description}"
            ) from None
        if first_time:
            events.append(("Normal", "Created", f"created consumer {durable} on stream {stream}"))
            message = f"consumer {durable} created"
        else:
            events.append(
                ("Warning", "DriftRepaired", f"consumer {durable} was deleted out of band; recreated")
            )
            message = f"consumer {durable} recreated after out-of-band deletion"
    else:
        drift = config_drift(desired, info.get("config") or {})
        generation_changed = status.get("observedGeneration") != meta.get("generation")
        message = f"consumer {durable} in sync"
        if first_time:
            events.append(("Normal", "Adopted", f"adopted existing consumer {durable}"))
        if drift:
            changed = ", ".join(drift)
            try:
                info = await _upsert(api, stream, desired, "update")
                label = "Updated" if generation_changed or first_time else "DriftRepaired"
                events.append(
                    (
                        "Normal" if label == "Updated" else "Warning",
                        label,
                        f"consumer {durable}: {changed} applied",
                    )
                )
                message = f"consumer {durable} updated"
            except JetStreamError as exc:
                if exc.err_code not in CONSUMER_NOT_UPDATABLE_CODES:
                    raise ReconcileFailure(
                        "UpdateRejected", f"updating consumer {durable} ({changed}): {exc.description}"
                    ) from None
                # The server cannot change these in place (e.g. deliverPolicy): recreate, which
                # restarts delivery from the new policy. NACK leaves such consumers failing forever.
                await api.consumer_delete(stream, durable)
                info = await _upsert(api, stream, desired, "create")
                events.append(
                    (
                        "Warning",
                        "Recreated",
                        f"consumer {durable} recreated: {changed} cannot be updated in place",
                    )
                )
                message = f"consumer {durable} recreated to apply {changed}"
    return Outcome(True, "Synced", message, state=consumer_state(info), extra=extra, events=events)


async def delete_consumer(rt: Runtime, body: Mapping[str, Any], item: Tracked) -> str:
    """Apply deletionPolicy (default Delete for consumers); returns the Event message."""
    meta = body.get("metadata") or {}
    namespace = str(meta.get("namespace"))
    try:
        spec = ConsumerSpec.from_resource(body)
    except SpecError:
        return "spec is invalid: nothing was created, nothing to delete"
    status = body.get("status") or {}
    durable = str(status.get("consumerName") or spec.durable_name)
    if spec.management_policy == "Observe":
        return f"consumer {durable} left untouched (managementPolicy Observe)"
    if spec.deletion_policy == "Retain":
        return f"consumer {durable} retained on the server (deletionPolicy Retain)"
    stream = status.get("streamName")
    # The status remembers where the consumer was created: the Stream resource may be gone already.
    connection = status.get("connectionName")
    if stream is None:
        try:
            stream, connection = await resolve_stream(rt, namespace, spec, require_ready=False)
        except ReconcileFailure as exc:
            return f"consumer {durable}: stream unknown ({exc.message}); nothing to delete"
    try:
        api = await connect(rt, namespace, connection, item, cached=False)
    except ReconcileFailure as exc:
        if exc.reason in ("ConnectionNotFound", "ConnectionInvalid", "SecretNotFound", "SecretKeyMissing"):
            return f"consumer {durable} NOT deleted: {exc.message}; released without deleting"
        raise
    try:
        existed = await api.consumer_delete(str(stream), durable)
    except JetStreamError as exc:
        if exc.err_code == STREAM_NOT_FOUND:
            return f"consumer {durable}: stream {stream} is gone, so is the consumer"
        raise
    return f"consumer {durable} deleted" if existed else f"consumer {durable} was already gone"
