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
from jetstream_operator.spec.consumer import ConsumerSpec
from jetstream_operator.spec.errors import SpecError
from jetstream_operator.spec.stream import StreamSpec
from jetstream_operator.status import consumer_state, ready_of


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
    seen = ResourceView.of(body)
    spec = parse_spec(ConsumerSpec.from_resource, body)
    desired = consumer_config(spec)
    durable = str(desired.get("durable_name") or desired.get("name"))
    item.stream_resource = spec.stream_ref.name if spec.stream_ref else None
    observe = item.observe = spec.management_policy == "Observe"
    stream, connection = await resolve_stream(rt, seen.namespace, spec, require_ready=not observe)
    item.connection = connection
    api = await connect(rt, seen.namespace, connection, item)
    item.stream, item.consumer = stream, durable
    extra = {"streamName": stream, "consumerName": durable, "connectionName": connection}
    info = await api.consumer_info(stream, durable)

    async def repair(info: Config, drift: list[str]) -> tuple[Config, list[Event], str]:
        events: list[Event] = []
        if seen.first_time:
            events.append(("Normal", "Adopted", f"adopted existing consumer {durable}"))
        if not drift:
            return info, events, f"consumer {durable} in sync"
        changed = ", ".join(drift)
        try:
            info = await _upsert(api, stream, desired, "update")
        except JetStreamError as exc:
            if exc.err_code not in CONSUMER_NOT_UPDATABLE_CODES:
                raise ReconcileFailure(
                    "UpdateRejected", f"updating consumer {durable} ({changed}): {exc.description}"
                ) from None
            # The server cannot change these in place (e.g. deliverPolicy): recreate, which
            # restarts delivery from the new policy. NACK leaves such consumers failing forever.
            await api.consumer_delete(stream, durable)
            info = await _upsert(api, stream, desired, "create")
            message = f"consumer {durable} recreated: {changed} cannot be updated in place"
            events.append(("Warning", "Recreated", message))
            return info, events, f"consumer {durable} recreated to apply {changed}"
        if seen.generation_changed or seen.first_time:
            events.append(("Normal", "Updated", f"consumer {durable}: {changed} applied"))
        else:
            events.append(("Warning", "DriftRepaired", f"consumer {durable}: {changed} applied"))
        return info, events, f"consumer {durable} updated"

    consumer = ServerObject(
        "consumer", durable, desired, info, extra, consumer_state, missing_name=f"{stream}/{durable}"
    )
    return await sync(
        consumer,
        observe=observe,
        fresh=seen.first_time,
        create=lambda: _upsert(api, stream, desired, "create"),
        created=f"created consumer {durable} on stream {stream}",
        repair=repair,
    )


async def delete_consumer(rt: Runtime, body: Mapping[str, Any], item: Tracked) -> str:
    """Apply deletionPolicy (default Delete for consumers); returns the Event message."""

    async def remove(seen: ResourceView, spec: ConsumerSpec, durable: str) -> str:
        stream = seen.status.get("streamName")
        # The status remembers where the consumer was created: the Stream resource may be gone already.
        connection = seen.status.get("connectionName")
        if stream is None:
            try:
                stream, connection = await resolve_stream(rt, seen.namespace, spec, require_ready=False)
            except ReconcileFailure as exc:
                return f"consumer {durable}: stream unknown ({exc.message}); nothing to delete"
        api = await connect_to_delete(rt, seen.namespace, connection, item, f"consumer {durable}")
        try:
            existed = await api.consumer_delete(str(stream), durable)
        except JetStreamError as exc:
            if exc.err_code == STREAM_NOT_FOUND:
                return f"consumer {durable}: stream {stream} is gone, so is the consumer"
            raise
        return f"consumer {durable} deleted" if existed else f"consumer {durable} was already gone"

    return await delete_object(body, ConsumerSpec.from_resource, "consumer", _durable_name, remove)


def _durable_name(spec: ConsumerSpec, seen: ResourceView) -> str:
    return str(seen.status.get("consumerName") or spec.durable_name)
