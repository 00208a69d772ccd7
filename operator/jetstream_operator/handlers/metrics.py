"""Start and stop the `/metrics` endpoint with the operator (`--metrics-port`, 0 = off)."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from jetstream_operator.config import OperatorSettings
from jetstream_operator.metrics_endpoint import MetricsEndpoint, MetricsEndpointError
from jetstream_operator.runtime import Runtime

log = logging.getLogger(__name__)


@kopf.on.startup()
async def start_metrics(memo: kopf.Memo, **_: Any) -> None:
    rt: Runtime | None = getattr(memo, "runtime", None)
    if rt is None:  # kopf runs startup handlers in import order; lifecycle.py creates the runtime
        raise kopf.TemporaryError("waiting for the operator runtime", delay=0.1)
    rt.metrics.track_state(rt.registry, rt.pool)
    op: OperatorSettings = memo.operator_settings
    if not op.metrics_port:
        return
    endpoint = MetricsEndpoint(rt.metrics.registry, op.metrics_host, op.metrics_port)
    try:
        await endpoint.start()
    except MetricsEndpointError as exc:
        raise kopf.PermanentError(str(exc)) from None
    memo.metrics_endpoint = endpoint
    log.info("metrics on http://%s:%d/metrics", op.metrics_host, op.metrics_port)


@kopf.on.cleanup()
async def stop_metrics(memo: kopf.Memo, **_: Any) -> None:
    endpoint: MetricsEndpoint | None = getattr(memo, "metrics_endpoint", None)
    if endpoint is not None:
        await endpoint.stop()
