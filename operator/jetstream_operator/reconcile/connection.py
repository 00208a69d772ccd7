"""Reconcile a NatsConnection: prove the servers accept its credentials, report the account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jetstream_operator.failures import ReconcileFailure
from jetstream_operator.jsapi import JetStreamError
from jetstream_operator.reconcile.connection_config import config_from_spec, secret_names
from jetstream_operator.reconcile.runner import Outcome
from jetstream_operator.registry import Tracked
from jetstream_operator.runtime import Runtime
from jetstream_operator.spec.connection import NatsConnectionSpec
from jetstream_operator.spec.errors import SpecError


async def reconcile_connection(rt: Runtime, body: Mapping[str, Any], item: Tracked) -> Outcome:
    meta = body.get("metadata") or {}
    namespace, name = str(meta.get("namespace")), str(meta.get("name"))
    try:
        spec = NatsConnectionSpec.from_resource(body)
    except SpecError as exc:
        raise ReconcileFailure("InvalidSpec", str(exc), transient=False) from None
    item.secrets = frozenset(secret_names(spec))
    config = await config_from_spec(rt.kube, namespace, name, spec)
    rt.configs.put(namespace, name, config)  # fresh from the Secrets: what dependents use next
    api = await rt.pool.acquire(str(item.key), config)
    item.pool_key = config.key
    try:
        account = await api.account_info()
    except JetStreamError as exc:
        raise ReconcileFailure(
            "JetStreamUnavailable", f"JetStream account info failed: {exc.description}"
        ) from None
    state = {
        "streams": int(account.get("streams", 0)),
        "consumers": int(account.get("consumers", 0)),
        "memory": int(account.get("memory", 0)),
        "storage": int(account.get("storage", 0)),
        "domain": account.get("domain"),
    }
    auth = spec.auth.method if spec.auth else "none"
    message = f"connected to {', '.join(spec.servers)} (auth: {auth}, tls: {'yes' if spec.tls else 'no'})"
    return Outcome(True, "Connected", message, state=state)
