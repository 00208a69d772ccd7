"""kopf handlers for Stream resources (thin: the logic is in reconcile/stream.py)."""

from __future__ import annotations

from typing import Any

import kopf

from jetstream_operator.handlers.common import (
    GROUP,
    VERSION,
    delete_with_retry,
    drift_loop,
    reconcile_or_retry,
    runtime,
)
from jetstream_operator.reconcile.runner import Outcome
from jetstream_operator.reconcile.stream import delete_stream, reconcile_stream
from jetstream_operator.registry import STREAM, Registry, Tracked


def _wake_consumers(registry: Registry) -> Any:
    """After a Stream is (re)created or becomes Ready, its Consumers need not wait for a resync."""

    def hook(item: Tracked, outcome: Outcome, was_ready: bool) -> None:
        if outcome.ready and (not was_ready or outcome.events):
            waiting = registry.consumers_of(item.key.namespace, item.key.name)
            if item.pool_key and item.stream:
                waiting += [i for i in registry.using_stream(item.pool_key, item.stream) if i is not item]
            registry.nudge(waiting)

    return hook


@kopf.index(GROUP, VERSION, STREAM)
def stream_index(
    namespace: str | None, name: str | None, spec: kopf.Spec, status: kopf.Status, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Stream resources in memory for the Consumers referencing them (no GET per reconcile).

    Keeps only what `reconcile.consumer.resolve_stream` reads: the spec and the conditions.
    """
    slim = {
        "metadata": {"namespace": namespace, "name": name},
        "spec": dict(spec),
        "status": {"conditions": list(status.get("conditions") or [])},
    }
    return {(str(namespace), str(name)): slim}


@kopf.on.resume(GROUP, VERSION, STREAM)
@kopf.on.create(GROUP, VERSION, STREAM)
@kopf.on.update(GROUP, VERSION, STREAM, field="spec")
async def stream_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    rt = runtime(memo)
    await reconcile_or_retry(rt, STREAM, body, reconcile_stream, _wake_consumers(rt.registry))


@kopf.daemon(GROUP, VERSION, STREAM, cancellation_timeout=5.0)
async def stream_drift(body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, **_: Any) -> None:
    rt = runtime(memo)
    await drift_loop(rt, STREAM, body, stopped, reconcile_stream, _wake_consumers(rt.registry))


@kopf.on.delete(GROUP, VERSION, STREAM)
async def stream_deleted(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    await delete_with_retry(runtime(memo), STREAM, body, retry, delete_stream)
