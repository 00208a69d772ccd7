"""Glue shared by the per-kind handlers: the retry contract with kopf and the drift daemon loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import kopf

from jetstream_operator.failures import backoff_delay
from jetstream_operator.kubeapi import GROUP, VERSION
from jetstream_operator.metrics import EVENT, PERIODIC
from jetstream_operator.reconcile.runner import Reconciler, SuccessHook, as_failure, run
from jetstream_operator.registry import Tracked
from jetstream_operator.runtime import Runtime
from jetstream_operator.status import now_iso, status_patch

log = logging.getLogger(__name__)

__all__ = ["GROUP", "VERSION", "delete_with_retry", "drift_loop", "reconcile_or_retry", "runtime"]


def runtime(memo: Any) -> Runtime:
    rt: Runtime = memo.runtime
    return rt


async def reconcile_or_retry(
    rt: Runtime,
    plural: str,
    body: Mapping[str, Any],
    reconciler: Reconciler,
    on_success: SuccessHook | None = None,
) -> None:
    """One reconcile from a kopf handler; a failure becomes kopf.TemporaryError with backoff."""
    delay = await run(rt, plural, body, reconciler, on_success)
    if delay is not None:
        meta = body.get("metadata") or {}
        item = rt.registry.track(plural, str(meta.get("namespace")), str(meta.get("name")))
        raise kopf.TemporaryError(f"{item.problem}; retrying in {delay:g}s", delay=delay)


async def _wait(wake: asyncio.Event, delay: float) -> None:
    """Sleep until woken or `delay` passes, without a helper task.

    kopf cancels a daemon's task as soon as it stops it (deletion, pause, shutdown: no
    cancellation backoff is set), so waiting on `stopped` as well would only cost two extra
    tasks per resource, i.e. thousands during a bulk apply.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await wake.wait()


async def drift_loop(
    rt: Runtime,
    plural: str,
    body: Mapping[str, Any],
    stopped: Any,
    reconciler: Reconciler,
    on_success: SuccessHook | None = None,
) -> None:
    """Periodic resync and state refresh, woken early by advisories and dependency changes.

    Runs as a kopf daemon: kopf stops it when the resource is deleted or this replica is
    paused by peering, so a standby replica never acts.
    """
    meta = body.get("metadata") or {}
    item: Tracked = rt.registry.track(plural, str(meta.get("namespace")), str(meta.get("name")))
    wake = asyncio.Event()
    item.wake = wake
    # A (re)started daemon follows a restart or a peering pause, during which another replica
    # may have written status: trust the resource's status again, not our memory of it.
    item.written = None
    # The create/resume handler has just reconciled, so the first resync is due one full period
    # later (spread so hundreds of resources do not hit NATS in the same second). An earlier
    # first pass would, during a bulk apply, re-patch every Stream's consumerCount while its
    # Consumers are still arriving. Advisories and dependency changes still wake it at once.
    delay = rt.settings.resync_seconds * random.uniform(1.0, 1.5)
    # An advisory that arrived before this daemon started (kopf starts daemons a little after the
    # create handler, later under load) or while this replica was paused must not wait a period.
    if item.missed:
        item.missed = False
        wake.set()
    try:
        while not stopped:
            await _wait(wake, delay)
            if stopped:
                break
            trigger = EVENT if wake.is_set() else PERIODIC  # for the drift-repair metric
            wake.clear()
            try:
                retry = await run(rt, plural, body, reconciler, on_success, trigger=trigger)
            except Exception:  # e.g. the apiserver refused a status patch: try again later
                log.exception("drift check of %s failed", item.key)
                retry = backoff_delay(item.attempt, cap=rt.settings.backoff_max)
                item.attempt += 1
            delay = retry if retry is not None else rt.settings.resync_seconds
    finally:
        if item.wake is wake:
            item.wake = None


async def delete_with_retry(
    rt: Runtime,
    plural: str,
    body: Mapping[str, Any],
    retry: int,
    deleter: Callable[[Runtime, Mapping[str, Any], Tracked], Awaitable[str]],
) -> None:
    """Apply the deletion policy; failures keep the finalizer, say why in status and retry."""
    meta = body.get("metadata") or {}
    namespace, name = str(meta.get("namespace")), str(meta.get("name"))
    item = rt.registry.track(plural, namespace, name)
    async with item.lock:
        item.deleting = True
        try:
            message = await deleter(rt, body, item)
        except Exception as exc:
            failure = as_failure(exc)
            text = f"deletion waits: {failure.message}; retrying"
            patch = status_patch(
                body=body, ready=False, reason="DeletionPending", message=text, now=now_iso(), observed=False
            )
            try:
                await rt.kube.patch_status(plural, namespace, name, patch)
            except Exception as patch_exc:
                log.warning("status of %s not updated during deletion: %s", item.key, patch_exc)
            if retry == 0:
                await rt.kube.post_event(body, type_="Warning", reason="DeletionPending", message=text)
            raise kopf.TemporaryError(text, delay=backoff_delay(retry, cap=rt.settings.backoff_max)) from None
    await rt.kube.post_event(body, type_="Normal", reason="Deleted", message=message)
    await rt.pool.release(str(item.key))
    rt.registry.forget(plural, namespace, name)
