"""Run one reconcile of one resource: serialised per resource, failures turned into status.

Every path (kopf handlers, the drift daemon, advisories) goes through `run`, so the Ready
condition, the Events and the retry delay are decided in one place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jetstream_operator.connections import NatsAuthError
from jetstream_operator.failures import ReconcileFailure, backoff_delay
from jetstream_operator.jsapi import JetStreamError, NatsUnavailable
from jetstream_operator.metrics import HANDLER, drift_repairs
from jetstream_operator.registry import Tracked
from jetstream_operator.runtime import Runtime
from jetstream_operator.status import now_iso, ready_of, status_changed, status_patch

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a successful reconcile observed and did."""

    ready: bool
    reason: str
    message: str
    state: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)


Reconciler = Callable[[Runtime, Mapping[str, Any], Tracked], Awaitable[Outcome]]
SuccessHook = Callable[[Tracked, Outcome, bool], None]  # (item, outcome, was_ready before)


def as_failure(exc: BaseException) -> ReconcileFailure:
    """Map transport/API errors to a reason; unknown errors are still retried."""
    if isinstance(exc, ReconcileFailure):
        return exc
    if isinstance(exc, NatsAuthError):
        return ReconcileFailure("CredentialsRejected", str(exc))
    if isinstance(exc, NatsUnavailable):
        return ReconcileFailure("NatsUnavailable", str(exc))
    if isinstance(exc, JetStreamError):
        return ReconcileFailure("JetStreamError", exc.description)
    return ReconcileFailure("InternalError", f"{type(exc).__name__}: {exc}")


def identity(body: Mapping[str, Any]) -> tuple[str, str]:
    meta = body.get("metadata") or {}
    return str(meta.get("namespace")), str(meta.get("name"))


async def run(
    rt: Runtime,
    plural: str,
    body: Mapping[str, Any],
    reconciler: Reconciler,
    on_success: SuccessHook | None = None,
    *,
    trigger: str = HANDLER,
) -> float | None:
    """Reconcile under the resource's lock; returns None when done or the delay before a retry.

    `trigger` (metrics.TRIGGERS) only labels the drift-repair metric.
    """
    namespace, name = identity(body)
    item = rt.registry.track(plural, namespace, name)
    async with item.lock:
        if item.deleting or (body.get("metadata") or {}).get("deletionTimestamp"):
            return None
        started = time.perf_counter()
        outcome: Outcome | None = None  # stays None when the reconcile failed
        try:
            delay, outcome = await _reconcile(rt, plural, body, reconciler, on_success, item)
            return delay
        finally:
            repairs = drift_repairs(outcome.events) if outcome is not None else 0
            ready = outcome.ready if outcome is not None else None
            rt.metrics.reconciled(item.key, ready, time.perf_counter() - started, trigger, repairs)


async def _reconcile(
    rt: Runtime,
    plural: str,
    body: Mapping[str, Any],
    reconciler: Reconciler,
    on_success: SuccessHook | None,
    item: Tracked,
) -> tuple[float | None, Outcome | None]:
    """The reconcile proper, the lock held: (retry delay, outcome or None if it failed)."""
    previous = item.written if item.written is not None else dict(body.get("status") or {})
    view = {"metadata": body.get("metadata") or {}, "status": previous}
    was_ready, old_reason = ready_of(previous)
    try:
        # The reconciler sees the newest status (ours, when the watch has not caught up yet).
        outcome = await reconciler(rt, {**dict(body), "status": previous}, item)
    except Exception as exc:
        failure = as_failure(exc)
        item.problem = f"{failure.reason}: {failure.message}"
        if failure.reason == "InternalError":
            log.exception("reconcile of %s failed unexpectedly", item.key)
        else:
            log.info("reconcile of %s: %s: %s", item.key, failure.reason, failure.message)
        patch = status_patch(
            body=view,
            ready=False,
            reason=failure.reason,
            message=failure.message,
            now=now_iso(),
            observed=not failure.transient,
        )
        await _write(rt, plural, item, previous, patch)
        if old_reason != failure.reason:
            await rt.kube.post_event(body, type_="Warning", reason=failure.reason, message=failure.message)
        if not failure.transient:
            item.attempt = 0
            return None, None
        delay = backoff_delay(item.attempt, cap=rt.settings.backoff_max)
        item.attempt += 1
        return delay, None
    item.attempt = 0
    patch = status_patch(
        body=view,
        ready=outcome.ready,
        reason=outcome.reason,
        message=outcome.message,
        now=now_iso(),
        state=outcome.state,
        extra=outcome.extra,
    )
    await _write(rt, plural, item, previous, patch)
    for type_, reason, message in outcome.events:
        await rt.kube.post_event(body, type_=type_, reason=reason, message=message)
    if outcome.ready and not was_ready and not outcome.events and old_reason is not None:
        await rt.kube.post_event(body, type_="Normal", reason="Ready", message=outcome.message)
    if on_success is not None:
        on_success(item, outcome, was_ready)
    if not outcome.ready and old_reason != outcome.reason:
        await rt.kube.post_event(body, type_="Warning", reason=outcome.reason, message=outcome.message)
    # Not ready without an error (Observe mode, object missing): check again with backoff.
    if not outcome.ready:
        item.problem = f"{outcome.reason}: {outcome.message}"
        delay = backoff_delay(item.attempt, cap=rt.settings.backoff_max)
        item.attempt += 1
        return delay, outcome
    return None, outcome


async def _write(
    rt: Runtime, plural: str, item: Tracked, previous: Mapping[str, Any], patch: dict[str, Any]
) -> None:
    """Patch only real changes; compare with what this replica last wrote when it is newer."""
    if status_changed(previous, patch):
        await rt.kube.patch_status(plural, item.key.namespace, item.key.name, patch)
        item.written = {**previous, **patch}
