"""kopf handlers for Consumer resources (thin: the logic is in reconcile/consumer.py)."""

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
from jetstream_operator.reconcile.consumer import delete_consumer, reconcile_consumer
from jetstream_operator.registry import CONSUMER


@kopf.on.resume(GROUP, VERSION, CONSUMER)
@kopf.on.create(GROUP, VERSION, CONSUMER)
@kopf.on.update(GROUP, VERSION, CONSUMER, field="spec")
async def consumer_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    await reconcile_or_retry(runtime(memo), CONSUMER, body, reconcile_consumer)


@kopf.daemon(GROUP, VERSION, CONSUMER, cancellation_timeout=5.0)
async def consumer_drift(body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, **_: Any) -> None:
    await drift_loop(runtime(memo), CONSUMER, body, stopped, reconcile_consumer)


@kopf.on.delete(GROUP, VERSION, CONSUMER)
async def consumer_deleted(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    await delete_with_retry(runtime(memo), CONSUMER, body, retry, delete_consumer)
