"""The kopf mutating admission webhook for pods (I/O edge of injection).

Importing this module registers the handler and a startup hook that configures kopf's webhook
server (certificates from ``webhook_certs``) and lets kopf manage the
MutatingWebhookConfiguration. Only labelled pods reach it (``objectSelector``), and only on
CREATE: a pod's env and volumes cannot change after creation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import kopf
from kopf._cogs.structs.references import NamespaceName, match_namespace

from jetstream_operator.config import OperatorSettings
from jetstream_operator.injection.plan import PLURALS, build_plan
from jetstream_operator.injection.pod_patch import inject
from jetstream_operator.injection.request import INJECT_LABEL, InjectionDenied, parse_request
from jetstream_operator.kubeapi import KubeAPI, KubeAPIError
from jetstream_operator.runtime import Runtime
from jetstream_operator.webhook_certs import ensure_certs

log = logging.getLogger(__name__)

# The apiserver gives up after kopf's timeoutSeconds (30); answer well before that.
RESOLVE_TIMEOUT = 8.0


class ApiLookup:
    """Reads in one namespace through the operator's Kubernetes client (Secret key names only)."""

    def __init__(self, kube: KubeAPI, namespace: str) -> None:
        self._kube = kube
        self._namespace = namespace

    async def resource(self, kind: str, name: str) -> Mapping[str, Any] | None:
        return await self._kube.get(PLURALS[kind], self._namespace, name)

    async def secret_keys(self, name: str) -> set[str] | None:
        return await self._kube.secret_keys(self._namespace, name)


def watches(op: OperatorSettings, namespace: str) -> bool:
    if op.clusterwide or not op.namespaces:
        return True
    return any(match_namespace(NamespaceName(namespace), pattern) for pattern in op.namespaces)


@kopf.on.mutate(
    "",
    "v1",
    "pods",
    id="seam-inject",
    operations=["CREATE"],
    labels={INJECT_LABEL: "true"},
    side_effects=False,
    ignore_failures=False,
)
async def inject_adapter_settings(
    body: kopf.Body,
    patch: kopf.Patch,
    warnings: list[str],
    memo: kopf.Memo,
    namespace: str | None,
    **_: Any,
) -> None:
    rt: Runtime | None = getattr(memo, "runtime", None)
    op: OperatorSettings = memo.operator_settings
    namespace = namespace or ""
    if rt is None:
        raise kopf.AdmissionError("seam-jetstream operator is starting; retry", code=503)
    if not watches(op, namespace):
        warnings.append(
            f'seam-jetstream: namespace "{namespace}" is not watched by this operator; no injection'
        )
        return
    pod = dict(body)
    try:
        request = parse_request(pod)
        plan = await asyncio.wait_for(
            build_plan(request, namespace, ApiLookup(rt.kube, namespace), op.nats_servers),
            RESOLVE_TIMEOUT,
        )
        result = inject(pod, plan, request)
    except InjectionDenied as exc:
        log.info("pod %s/%s denied: %s", namespace, body.metadata.name or "(generated)", exc)
        raise kopf.AdmissionError(str(exc), code=400) from None
    except TimeoutError:
        raise kopf.AdmissionError(
            f"seam-jetstream: reading the resources took longer than {RESOLVE_TIMEOUT:g}s", code=504
        ) from None
    except KubeAPIError as exc:
        raise kopf.AdmissionError(
            f"seam-jetstream: cannot read the referenced resources ({exc.status} {exc.reason})", code=500
        ) from None
    warnings.extend(result.warnings)
    mutated = result.pod

    def replace(target: Any) -> None:  # kopf diffs the result into a JSON patch
        target["metadata"] = mutated["metadata"]
        target["spec"] = mutated["spec"]

    patch.fns.append(replace)
    log.info("pod %s/%s: injected %s", namespace, body.metadata.name or "(generated)", plan.source)


class ServiceWebhookServer(kopf.WebhookServer):
    """kopf's server, registered with the apiserver as a Service (in-cluster) instead of a URL."""

    def __init__(self, *, service_namespace: str, service_name: str, service_port: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.service = {"namespace": service_namespace, "name": service_name, "port": service_port}

    async def __call__(self, fn: Any) -> AsyncIterator[Any]:  # type: ignore[override]
        async for config in super().__call__(fn):
            yield {"caBundle": config.get("caBundle"), "service": {**self.service, "path": ""}}


def build_server(op: OperatorSettings) -> kopf.WebhookServer:
    """The HTTPS server for the admission webhook, with certs from ``op.webhook_cert_dir``."""
    host = op.webhook_host or (op.webhook_addr if op.webhook_addr not in ("0.0.0.0", "::") else "127.0.0.1")
    names = [host]
    service = op.webhook_service_ref
    if service is not None:
        ns, name, _ = service
        names = [f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local", name, *names]
    certs = ensure_certs(Path(op.webhook_cert_dir), names)
    common: dict[str, Any] = {
        "addr": op.webhook_addr,
        "port": op.webhook_port,
        "certfile": str(certs.certfile),
        "pkeyfile": str(certs.pkeyfile),
        "cafile": str(certs.cafile),
    }
    if service is not None:
        ns, name, port = service
        return ServiceWebhookServer(service_namespace=ns, service_name=name, service_port=port, **common)
    return kopf.WebhookServer(host=host, **common)


@kopf.on.startup()
async def configure_webhook(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    op: OperatorSettings = memo.operator_settings
    settings.admission.server = build_server(op)
    settings.admission.managed = op.webhook_config_name
    log.info(
        "injection webhook on %s:%s, config %s", op.webhook_addr, op.webhook_port, op.webhook_config_name
    )
