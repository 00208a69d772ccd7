"""Operator settings from the command line and `SEAM_OPERATOR_*` environment variables."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class OperatorSettings(BaseSettings):
    """Everything the operator process needs to know before it watches anything."""

    model_config = SettingsConfigDict(env_prefix="SEAM_OPERATOR_", extra="forbid")

    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="Servers used by resources without a connectionRef (comma-separated).",
    )
    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Namespaces to watch; empty = all."
    )
    clusterwide: bool = False
    resync_seconds: float = Field(default=30.0, gt=0, description="Periodic drift check and state refresh.")
    request_timeout: float = Field(default=5.0, gt=0, description="Timeout of one JetStream API request.")
    backoff_max: float = Field(default=30.0, gt=0, description="Upper bound of the retry delay after errors.")
    health_port: int = Field(default=8080, ge=0, le=65535, description="Liveness endpoint port; 0 disables.")
    health_host: str = "0.0.0.0"
    metrics_port: int = Field(
        default=8081, ge=0, le=65535, description="Prometheus /metrics port; 0 disables."
    )
    metrics_host: str = Field(default="0.0.0.0", description="Address /metrics listens on.")
    json_logs: bool = False
    log_level: str = "INFO"
    peering_name: str = "seam-jetstream"
    standalone: bool = False
    priority: int | None = Field(default=None, description="Peering priority; default: older wins.")
    peering_lifetime: int = Field(default=15, gt=0, description="Seconds before a silent peer is dead.")
    # Pod injection webhook (docs/injection.md); port 0 = off.
    webhook_port: int = Field(default=0, ge=0, le=65535, description="Injection webhook port; 0 disables.")
    webhook_addr: str = Field(default="0.0.0.0", description="Address the webhook listens on.")
    webhook_host: str | None = Field(default=None, description="Host in the URL the apiserver calls.")
    webhook_service: str | None = Field(
        default=None, description="namespace/name[:port] of the Service the apiserver calls instead."
    )
    webhook_cert_dir: str = Field(
        default="/tmp/seam-webhook-certs", description="ca.crt/tls.crt/tls.key; generated when missing."
    )
    webhook_config_name: str = Field(
        default="seam-jetstream.oppie.xyz", description="MutatingWebhookConfiguration kopf manages."
    )

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_service")
    @classmethod
    def _service(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z0-9.-]+/[a-z0-9.-]+(:[0-9]{1,5})?", value):
            raise ValueError(f"{value!r} must be namespace/name or namespace/name:port")
        return value

    @property
    def webhook_service_ref(self) -> tuple[str, str, int] | None:
        """(namespace, name, port) of the webhook Service, if the apiserver should call one."""
        if not self.webhook_service:
            return None
        ref, _, port = self.webhook_service.partition(":")
        namespace, name = ref.split("/", 1)
        return namespace, name, int(port or 443)

    @property
    def nats_servers(self) -> list[str]:
        return [part.strip() for part in self.nats_url.split(",") if part.strip()]

    @property
    def liveness_endpoint(self) -> str | None:
        if not self.health_port:
            return None
        return f"http://{self.health_host}:{self.health_port}/healthz"
