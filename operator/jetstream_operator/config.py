"""Operator settings from the command line and `SEAM_OPERATOR_*` environment variables."""

from __future__ import annotations

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
    json_logs: bool = False
    log_level: str = "INFO"
    peering_name: str = "seam-jetstream"
    standalone: bool = False
    priority: int | None = Field(default=None, description="Peering priority; default: older wins.")
    peering_lifetime: int = Field(default=15, gt=0, description="Seconds before a silent peer is dead.")

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def nats_servers(self) -> list[str]:
        return [part.strip() for part in self.nats_url.split(",") if part.strip()]

    @property
    def liveness_endpoint(self) -> str | None:
        if not self.health_port:
            return None
        return f"http://{self.health_host}:{self.health_port}/healthz"
