"""The operator's own Kubernetes calls (reads, status patches, Events) via kubernetes_asyncio.

kopf drives the watches and handler retries; these calls are the places the reconcilers need
beyond that: reading Secrets and sibling resources, patching status from the drift daemons,
and posting Events outside of kopf's handler context.
"""

from __future__ import annotations

import base64
import logging
import os
import uuid
from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from jetstream_operator.status import now_iso

log = logging.getLogger(__name__)

GROUP = "jetstream.oppie.xyz"
VERSION = "v1alpha1"
COMPONENT = "seam-jetstream-operator"
MERGE_PATCH = "application/merge-patch+json"


class SecretNotFound(LookupError):
    pass


class SecretKeyMissing(LookupError):
    pass


async def make_api_client() -> client.ApiClient:
    """In-cluster service account when present, else $KUBECONFIG / ~/.kube/config."""
    if os.environ.get("KUBERNETES_SERVICE_HOST") and not os.environ.get("KUBECONFIG"):
        config.load_incluster_config()
        return client.ApiClient()
    configuration = client.Configuration()
    await config.load_kube_config(
        config_file=os.environ.get("KUBECONFIG"), client_configuration=configuration
    )
    return client.ApiClient(configuration)


class KubeAPI:
    """Thin typed wrappers; every method raises ApiException on unexpected API errors."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self._api_client = api_client
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)

    async def close(self) -> None:
        await self._api_client.close()

    async def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            obj: dict[str, Any] = await self.custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, name
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return obj

    async def list(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        result = await self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)
        return list(result.get("items") or [])

    async def patch_status(self, plural: str, namespace: str, name: str, status: Mapping[str, Any]) -> bool:
        """Merge-patch `status`; False when the resource is gone."""
        try:
            await self.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, plural, name, {"status": dict(status)}, _content_type=MERGE_PATCH
            )  # type: ignore[call-arg]  # accepted at runtime, missing from the stubs
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def read_secret_key(self, namespace: str, name: str, key: str) -> bytes:
        """One key of a Secret in `namespace` (never another namespace: the caller passes its own)."""
        try:
            secret = await self.core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                raise SecretNotFound(f"Secret {namespace}/{name} does not exist") from None
            if exc.status == 403:
                raise SecretNotFound(f"Secret {namespace}/{name} is not readable by the operator") from None
            raise
        data = secret.data or {}
        if key not in data:
            raise SecretKeyMissing(f"Secret {namespace}/{name} has no key {key!r}")
        return base64.b64decode(data[key])

    async def post_event(self, body: Mapping[str, Any], *, type_: str, reason: str, message: str) -> None:
        """A core/v1 Event on the resource; failures are logged, never raised."""
        meta = body.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        now = now_iso()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{uuid.uuid4().hex[:12]}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": body.get("apiVersion"),
                "kind": body.get("kind"),
                "name": meta.get("name"),
                "namespace": namespace,
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message[:1024],
            "type": type_,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "reportingInstance": os.environ.get("HOSTNAME", COMPONENT),
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            await self.core.create_namespaced_event(namespace, event)  # type: ignore[arg-type]
        except ApiException as exc:  # an Event is best effort: never fail a reconcile on it
            terminating = exc.status == 403 and "NamespaceTerminating" in str(exc.body or "")
            log.log(
                logging.DEBUG if terminating else logging.WARNING,
                "posting event %s on %s/%s failed: %s %s",
                reason,
                namespace,
                meta.get("name"),
                exc.status,
                "namespace is terminating" if terminating else exc.reason,
            )
        except Exception as exc:
            log.warning("posting event %s on %s/%s failed: %s", reason, namespace, meta.get("name"), exc)
