"""kopf handlers for NatsConnection resources: validate, then wake every dependent at once."""

from __future__ import annotations

from typing import Any

import kopf

from jetstream_operator.handlers.common import GROUP, VERSION, drift_loop, reconcile_or_retry, runtime
from jetstream_operator.reconcile.connection import reconcile_connection
from jetstream_operator.reconcile.runner import Outcome
from jetstream_operator.registry import CONNECTION, Registry, Tracked


def _wake_dependents(registry: Registry, previous_key: dict[str, str | None]) -> Any:
    """Streams/Consumers using this connection re-resolve it when its config or health changed."""

    def hook(item: Tracked, outcome: Outcome, was_ready: bool) -> None:
        old = previous_key.get(str(item.key))
        previous_key[str(item.key)] = item.pool_key
        if not was_ready or old != item.pool_key:
            registry.nudge(registry.using_connection(item.key.namespace, item.key.name))

    return hook


def _hook(memo: kopf.Memo, body: kopf.Body) -> Any:
    rt = runtime(memo)
    item = rt.registry.track(CONNECTION, str(body.metadata.namespace), str(body.metadata.name))
    return _wake_dependents(rt.registry, {str(item.key): item.pool_key})


@kopf.on.resume(GROUP, VERSION, CONNECTION)
@kopf.on.create(GROUP, VERSION, CONNECTION)
@kopf.on.update(GROUP, VERSION, CONNECTION, field="spec")
async def connection_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    rt = runtime(memo)
    rt.configs.invalidate(str(body.metadata.namespace), str(body.metadata.name))
    await reconcile_or_retry(rt, CONNECTION, body, reconcile_connection, _hook(memo, body))
    # A spec change (new servers, other Secret) must reach dependents even if Ready did not flip.
    rt.registry.nudge(rt.registry.using_connection(str(body.metadata.namespace), str(body.metadata.name)))


@kopf.daemon(GROUP, VERSION, CONNECTION, cancellation_timeout=5.0)
async def connection_health(body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, **_: Any) -> None:
    await drift_loop(runtime(memo), CONNECTION, body, stopped, reconcile_connection, _hook(memo, body))


@kopf.on.delete(GROUP, VERSION, CONNECTION)
async def connection_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    rt = runtime(memo)
    namespace, name = str(body.metadata.namespace), str(body.metadata.name)
    item = rt.registry.track(CONNECTION, namespace, name)
    item.deleting = True
    rt.configs.invalidate(namespace, name)
    await rt.pool.release(str(item.key))
    rt.registry.forget(CONNECTION, namespace, name)
    rt.registry.nudge(rt.registry.using_connection(namespace, name))
