"""The reconcile shape Streams and Consumers share, so each kind keeps only what differs.

Reconcile: read the object on the server, then observe it (Observe mode), create it when missing,
or let the kind repair drift; report the result as one Outcome. Delete: apply the policies before
touching the server, and release rather than hang when the way to the server is gone for good.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jetstream_operator.failures import ReconcileFailure
from jetstream_operator.jsapi import JetStreamAPI, JetStreamError
from jetstream_operator.mapping.drift import config_drift
from jetstream_operator.reconcile.connection_config import resolve_connection
from jetstream_operator.reconcile.runner import Outcome
from jetstream_operator.registry import Tracked
from jetstream_operator.runtime import Runtime
from jetstream_operator.spec.errors import SpecError
from jetstream_operator.spec.resource import ManagedSpec

S = TypeVar("S")
M = TypeVar("M", bound=ManagedSpec)
Event = tuple[str, str, str]  # (type, reason, message), as in Outcome.events
Config = dict[str, Any]
# A kind's drift repair: (server info, drifted keys) -> (new info, events, status message).
Repair = Callable[[Config, list[str]], Awaitable[tuple[Config, list[Event], str]]]

# Failures after which the server cannot be reached again without a user's change: a finalizer
# waiting on them would hang forever, so deletion releases the resource instead.
UNREACHABLE_FOR_GOOD = frozenset(
    {"ConnectionNotFound", "ConnectionInvalid", "SecretNotFound", "SecretKeyMissing"}
)


@dataclass(frozen=True)
class ResourceView:
    """What the resource body says about this reconcile: where it is and what ran before."""

    namespace: str
    status: Mapping[str, Any]
    first_time: bool  # never reconciled: the object is created or adopted now
    generation_changed: bool  # the spec changed since the last reconcile

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> ResourceView:
        meta = body.get("metadata") or {}
        status = body.get("status") or {}
        return cls(
            namespace=str(meta.get("namespace")),
            status=status,
            first_time=status.get("observedGeneration") is None,
            generation_changed=status.get("observedGeneration") != meta.get("generation"),
        )


def parse_spec(from_resource: Callable[[Mapping[str, Any]], S], body: Mapping[str, Any]) -> S:
    """The validated spec; an invalid one fails for good (retrying cannot fix it, an edit can)."""
    try:
        return from_resource(body)
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


@dataclass(frozen=True)
class ServerObject:
    """One stream or consumer: as the spec wants it and as the server has it (None: missing)."""

    kind: str  # "stream" or "consumer": the word messages and events use
    name: str
    desired: Config
    info: Config | None
    extra: dict[str, Any]
    state: Callable[[Mapping[str, Any]], dict[str, Any]]  # info -> status.state
    # How the object is named when reported missing (a consumer names its stream too).
    missing_name: str = ""
    # How drifted keys are listed in messages.
    list_drift: Callable[[Iterable[str]], str] = field(default=", ".join)

    def drift(self) -> list[str]:
        return config_drift(self.desired, (self.info or {}).get("config") or {})


def observed(obj: ServerObject) -> Outcome:
    """Observe mode: say whether the object exists and matches the spec; never change it."""
    if obj.info is None:
        return Outcome(
            False,
            "NotFound",
            f"{obj.kind} {obj.missing_name or obj.name} does not exist on the server"
            " (Observe mode never creates it)",
            extra=obj.extra,
        )
    drift = obj.drift()
    message = (
        f"{obj.kind} {obj.name} observed; differs from spec in: {obj.list_drift(drift)}"
        " (Observe mode: not changed)"
        if drift
        else f"{obj.kind} {obj.name} observed, matches spec"
    )
    return Outcome(True, "Observed", message, state=obj.state(obj.info), extra=obj.extra)


async def sync(
    obj: ServerObject,
    *,
    observe: bool,
    fresh: bool,
    create: Callable[[], Awaitable[Config]],
    created: str,
    repair: Repair,
) -> Outcome:
    """Observe, create (`fresh`: for the first time, else after an out-of-band deletion) or repair."""
    if observe:
        return observed(obj)
    if obj.info is None:
        try:
            info = await create()
        except JetStreamError as exc:
            raise ReconcileFailure(
                "CreateFailed", f"creating {obj.kind} {obj.name}: {exc.description}"
            ) from None
        if fresh:
            events = [("Normal", "Created", created)]
            message = f"{obj.kind} {obj.name} created"
        else:
            events = [
                ("Warning", "DriftRepaired", f"{obj.kind} {obj.name} was deleted out of band; recreated")
            ]
            message = f"{obj.kind} {obj.name} recreated after out-of-band deletion"
    else:
        info, events, message = await repair(obj.info, obj.drift())
    return Outcome(True, "Synced", message, state=obj.state(info), extra=obj.extra, events=events)


class Released(Exception):
    """Deletion ends without touching the server; the message is the Event saying why."""


async def delete_object(
    body: Mapping[str, Any],
    from_resource: Callable[[Mapping[str, Any]], M],
    kind: str,
    name_of: Callable[[M, ResourceView], str],
    remove: Callable[[ResourceView, M, str], Awaitable[str]],
) -> str:
    """Apply the policies, then let the kind `remove` the object; returns the Event message.

    `remove` raises Released to let the resource go without deleting, ReconcileFailure to retry.
    """
    seen = ResourceView.of(body)
    try:
        spec = from_resource(body)
    except SpecError:
        return "spec is invalid: nothing was created, nothing to delete"
    name = name_of(spec, seen)
    if spec.management_policy == "Observe":
        return f"{kind} {name} left untouched (managementPolicy Observe)"
    if spec.deletion_policy == "Retain":
        return f"{kind} {name} retained on the server (deletionPolicy Retain)"
    try:
        return await remove(seen, spec, name)
    except Released as released:
        return str(released)


async def connect_to_delete(
    rt: Runtime, namespace: str, ref: str | None, item: Tracked, what: str
) -> JetStreamAPI:
    """A fresh connection for deleting `what`; Released when the way to the server is gone for good."""
    try:
        return await connect(rt, namespace, ref, item, cached=False)
    except ReconcileFailure as exc:
        if exc.reason in UNREACHABLE_FOR_GOOD:
            raise Released(f"{what} NOT deleted: {exc.message}; released without deleting") from None
        raise
