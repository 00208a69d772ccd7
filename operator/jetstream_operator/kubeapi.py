"""The operator's own Kubernetes calls (reads, status patches, Events) over plain aiohttp.

kopf drives the watches and handler retries; these calls are the places the reconcilers need
beyond that: reading Secrets and sibling resources, patching status from the drift daemons,
and posting Events outside of kopf's handler context. A handful of JSON requests do not need a
generated client library (whose import alone costs ~57 MB of RSS; see docs/architecture.md).
Credentials come from kopf's own kubeconfig parser or the pod's service account; the token is
never logged and, in-cluster, re-read as the kubelet rotates it.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import kopf

from jetstream_operator.status import now_iso

log = logging.getLogger(__name__)

GROUP = "jetstream.oppie.xyz"
VERSION = "v1alpha1"
COMPONENT = "seam-jetstream-operator"
MERGE_PATCH = "application/merge-patch+json"
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
TOKEN_MAX_AGE = 60.0  # seconds; kubelet refreshes bound tokens well before they expire
REQUEST_TIMEOUT = 30.0


class SecretNotFound(LookupError):
    pass


class SecretKeyMissing(LookupError):
    pass


class KubeConfigError(RuntimeError):
    """No usable credentials: names where they were looked for."""


class KubeAPIError(Exception):
    """An API error response: HTTP status, the Status reason and the API's message."""

    def __init__(self, status: int, reason: str, message: str, causes: tuple[str, ...] = ()) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.causes = causes  # details.causes[].reason, e.g. "NamespaceTerminating"


def error_from_response(status: int, text: str, http_reason: str = "") -> KubeAPIError:
    """Map an error response to KubeAPIError, preferring the metav1.Status fields in its body."""
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Status":
        details = doc.get("details") or {}
        causes = tuple(str(c.get("reason")) for c in details.get("causes") or [] if c.get("reason"))
        return KubeAPIError(
            status, str(doc.get("reason") or http_reason), str(doc.get("message") or "")[:1024], causes
        )
    return KubeAPIError(status, http_reason, text.strip()[:1024])


@dataclasses.dataclass(frozen=True)
class Connection:
    """Where the API is and how to authenticate; `token_path` is re-read (in-cluster tokens rotate)."""

    info: kopf.ConnectionInfo
    token_path: Path | None = None


def service_host_url(environ: Mapping[str, str]) -> str:
    host = environ["KUBERNETES_SERVICE_HOST"]
    port = environ.get("KUBERNETES_SERVICE_PORT") or "443"
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def in_cluster_connection(environ: Mapping[str, str], sa_dir: Path = SERVICE_ACCOUNT_DIR) -> Connection:
    token_path = sa_dir / "token"
    if not token_path.is_file():
        raise KubeConfigError(f"in-cluster: no service-account token at {token_path}")
    ca_path = sa_dir / "ca.crt"
    ns_path = sa_dir / "namespace"
    info = kopf.ConnectionInfo(
        server=service_host_url(environ),
        ca_path=str(ca_path) if ca_path.is_file() else None,
        token=token_path.read_text().strip() or None,
        default_namespace=(ns_path.read_text().strip() or None) if ns_path.is_file() else None,
    )
    return Connection(info=info, token_path=token_path)


def kubeconfig_connection(environ: Mapping[str, str]) -> Connection:
    """The current context of $KUBECONFIG (or ~/.kube/config), parsed by kopf's own login helper."""
    info = kopf.login_with_kubeconfig(settings=kopf.OperatorSettings())
    if info is None:
        raise KubeConfigError("no credentials: not in a cluster, $KUBECONFIG unset and no ~/.kube/config")
    if not info.server:
        raise KubeConfigError("kubeconfig: the current context's cluster has no server")
    # Relative file references are relative to the kubeconfig that holds them (the first one here).
    first = environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config"
    base = Path(first).expanduser().parent
    fields: dict[str, Any] = {}
    for field in ("ca_path", "certificate_path", "private_key_path"):
        value = getattr(info, field)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            fields[field] = str(base / value)
    return Connection(info=dataclasses.replace(info, **fields) if fields else info)


def load_connection(environ: Mapping[str, str] = os.environ) -> Connection:
    """In-cluster service account when present (and no $KUBECONFIG), else the kubeconfig."""
    if environ.get("KUBERNETES_SERVICE_HOST") and not environ.get("KUBECONFIG"):
        return in_cluster_connection(environ)
    return kubeconfig_connection(environ)


def resource_path(
    group: str,
    version: str,
    plural: str,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    """The REST path of a collection or object; group "" is the core API."""
    parts = ["api", version] if not group else ["apis", group, version]
    if namespace is not None:
        parts += ["namespaces", namespace]
    parts.append(plural)
    if name is not None:
        parts.append(name)
        if subresource is not None:
            parts.append(subresource)
    return "/" + "/".join(quote(part, safe="") for part in parts)


class ApiClient:
    """One aiohttp session to the API server; raises KubeAPIError on error responses."""

    def __init__(self, connection: Connection, *, timeout: float = REQUEST_TIMEOUT) -> None:
        self._server = connection.info.server.rstrip("/")
        self._info = connection.info
        self._token_path = connection.token_path
        self._token_read_at = time.monotonic()
        self._ssl = connection.info.as_ssl_context() if self._server.startswith("https:") else None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _auth_headers(self, *, refresh: bool = False) -> dict[str, str]:
        stale = time.monotonic() - self._token_read_at > TOKEN_MAX_AGE
        if self._token_path is not None and (refresh or stale):
            try:
                token = self._token_path.read_text().strip()
            except OSError as exc:
                log.warning("cannot re-read the service-account token: %s", exc.strerror)
            else:
                self._info = dataclasses.replace(self._info, token=token or None)
                self._token_read_at = time.monotonic()
        return self._info.as_http_headers()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, trust_env=self._info.trust_env)
        data = None if body is None else json.dumps(body).encode()
        for attempt in (1, 2):
            headers = {"Accept": "application/json", **self._auth_headers(refresh=attempt == 2)}
            if data is not None:
                headers["Content-Type"] = content_type
            async with self._session.request(
                method, self._server + path, data=data, headers=headers, ssl=self._ssl or True
            ) as resp:
                text = await resp.text()
                if resp.status == 401 and attempt == 1 and self._token_path is not None:
                    continue  # a rotated token: re-read it once
                if resp.status >= 400:
                    raise error_from_response(resp.status, text, resp.reason or "")
                result: dict[str, Any] = json.loads(text) if text else {}
                return result
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def make_api_client() -> ApiClient:
    """Credentials are read off the event loop (files; the client certificate is loaded once)."""
    connection = await asyncio.to_thread(load_connection)
    return await asyncio.to_thread(ApiClient, connection)


class KubeAPI:
    """Thin typed wrappers; every method raises KubeAPIError on unexpected API errors."""

    def __init__(self, api_client: ApiClient) -> None:
        self._api = api_client

    async def close(self) -> None:
        await self._api.close()

    async def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return await self._api.request("GET", resource_path(GROUP, VERSION, plural, namespace, name))
        except KubeAPIError as exc:
            if exc.status == 404:
                return None
            raise

    async def list(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        result = await self._api.request("GET", resource_path(GROUP, VERSION, plural, namespace))
        return list(result.get("items") or [])

    async def create(
        self, group: str, version: str, plural: str, body: Mapping[str, Any], namespace: str | None = None
    ) -> dict[str, Any]:
        """Create an object (cluster-scoped when `namespace` is None)."""
        return await self._api.request("POST", resource_path(group, version, plural, namespace), body=body)

    async def patch_status(self, plural: str, namespace: str, name: str, status: Mapping[str, Any]) -> bool:
        """Merge-patch `status`; False when the resource is gone."""
        path = resource_path(GROUP, VERSION, plural, namespace, name, "status")
        try:
            await self._api.request("PATCH", path, body={"status": dict(status)}, content_type=MERGE_PATCH)
        except KubeAPIError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def _secret_data(self, namespace: str, name: str) -> dict[str, str] | None:
        try:
            secret = await self._api.request("GET", resource_path("", "v1", "secrets", namespace, name))
        except KubeAPIError as exc:
            if exc.status == 404:
                return None
            raise
        return dict(secret.get("data") or {})

    async def secret_keys(self, namespace: str, name: str) -> set[str] | None:
        """The key names of a Secret in `namespace` (None when it does not exist); never the values."""
        data = await self._secret_data(namespace, name)
        return None if data is None else set(data)

    async def read_secret_key(self, namespace: str, name: str, key: str) -> bytes:
        """One key of a Secret in `namespace` (never another namespace: the caller passes its own)."""
        try:
            data = await self._secret_data(namespace, name)
        except KubeAPIError as exc:
            if exc.status == 403:
                raise SecretNotFound(f"Secret {namespace}/{name} is not readable by the operator") from None
            raise
        if data is None:
            raise SecretNotFound(f"Secret {namespace}/{name} does not exist")
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
            await self._api.request("POST", resource_path("", "v1", "events", namespace), body=event)
        except KubeAPIError as exc:  # an Event is best effort: never fail a reconcile on it
            terminating = exc.status == 403 and "NamespaceTerminating" in exc.causes
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
