"""Operator startup/cleanup: kopf settings, the shared runtime, peering object, health probe."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from jetstream_operator.config import OperatorSettings
from jetstream_operator.connections import ConnectionPool
from jetstream_operator.kubeapi import KubeAPI, KubeAPIError, make_api_client
from jetstream_operator.reconcile.connection_config import ConfigCache
from jetstream_operator.registry import CONSUMER, STREAM, Registry
from jetstream_operator.runtime import Runtime

log = logging.getLogger(__name__)

PREFIX = "jetstream.oppie.xyz"


def apply_kopf_settings(settings: kopf.OperatorSettings, op: OperatorSettings) -> None:
    """Where kopf keeps its bookkeeping and how it retries its own API calls."""
    # Bookkeeping in annotations only: status stays the documented shape.
    settings.persistence.finalizer = f"{PREFIX}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    # The reconcilers post their own Events (Created, Updated, DriftRepaired, errors once per
    # reason); kopf's per-handler events would repeat every retry.
    settings.posting.enabled = False
    settings.networking.error_backoffs = [1, 2, 5, 10, 20, 30]
    settings.networking.request_timeout = 60
    settings.watching.connect_timeout = 10
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.peering.lifetime = op.peering_lifetime
    settings.background.cancellation_polling = 5
    settings.execution.max_workers = 4


async def ensure_peering(kube: KubeAPI, op: OperatorSettings) -> None:
    """Create the KopfPeering object(s) so two replicas can see each other (idempotent)."""
    body = {"apiVersion": "kopf.dev/v1", "metadata": {"name": op.peering_name}}
    targets: list[str | None] = [None] if op.clusterwide or not op.namespaces else list(op.namespaces)
    for namespace in targets:
        try:
            if namespace is None:
                await kube.create(
                    "kopf.dev", "v1", "clusterkopfpeerings", {**body, "kind": "ClusterKopfPeering"}
                )
            elif "*" not in namespace:
                await kube.create(
                    "kopf.dev", "v1", "kopfpeerings", {**body, "kind": "KopfPeering"}, namespace
                )
        except KubeAPIError as exc:
            if exc.status != 409:  # 409: exists already
                log.warning(
                    "cannot create the peering object %s in %s: %s", op.peering_name, namespace, exc.reason
                )


@kopf.on.startup()  # type: ignore[arg-type]  # kopf passes indexes by name; its stub does not say so
async def startup(
    settings: kopf.OperatorSettings, memo: kopf.Memo, stream_index: kopf.Index[Any, Any], **_: Any
) -> None:
    op: OperatorSettings = memo.operator_settings
    apply_kopf_settings(settings, op)
    registry = Registry()

    async def on_advisory(pool_key: str, kind: str, stream: str, consumer: str | None) -> None:
        if consumer is not None:
            items = registry.using_consumer(pool_key, stream, consumer)
        else:
            # Consumers of a deleted stream are woken once the Stream is back (see streams.py).
            items = [i for i in registry.using_stream(pool_key, stream) if i.key.plural == STREAM]
        if kind.endswith(".created"):
            # Creations only matter to Observe mode (waiting for the object to appear); the
            # operator's own creations would just cause an idle reconcile.
            items = [i for i in items if i.observe]
        if registry.nudge(items):
            log.info("advisory %s for %s%s: reconciling", kind, stream, f"/{consumer}" if consumer else "")
        else:
            log.debug(
                "advisory %s for %s%s: no running daemon among %s",
                kind,
                stream,
                f"/{consumer}" if consumer else "",
                [str(i.key) for i in items],
            )

    async def on_state(pool_key: str, connected: bool) -> None:
        # Report NATS outages (and recoveries) now rather than at the next resync.
        registry.nudge([i for i in registry.using_pool(pool_key) if i.key.plural in (STREAM, CONSUMER)])

    kube = KubeAPI(await make_api_client())
    pool = ConnectionPool(request_timeout=op.request_timeout, on_advisory=on_advisory, on_state=on_state)
    memo.runtime = Runtime(
        settings=op,
        kube=kube,
        pool=pool,
        registry=registry,
        configs=ConfigCache(ttl=op.resync_seconds),
        streams=stream_index,
    )
    if not op.standalone:
        await ensure_peering(kube, op)


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    rt: Runtime | None = getattr(memo, "runtime", None)
    if rt is None:
        return
    await rt.pool.close_all()
    await rt.kube.close()


@kopf.on.probe(id="natsConnections")
async def nats_connections(memo: kopf.Memo, **_: Any) -> int:
    rt: Runtime | None = getattr(memo, "runtime", None)
    return len(rt.pool.stats()) if rt else 0
