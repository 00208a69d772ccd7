"""The ``adapter`` block of a Consumer: client-side defaults that pods consuming it get as env.

The block is the CR face of :class:`adapter_runtime.settings.AdapterSettings`: every field maps to one
settings field (durations given as Go strings become the settings' float seconds), and values are
checked by the settings model itself so the CR and the pod can never disagree on what is valid.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from jetstream_operator.spec.fields import Duration, Size, SpecModel, Subject

NS_PER_SECOND = 1_000_000_000

# CR field (camelCase) -> AdapterSettings field. Durations are converted from ns to seconds.
ADAPTER_SETTINGS_FIELDS: dict[str, str] = {
    "batchSize": "batch_size",
    "maxInflight": "max_inflight",
    "enableCompression": "enable_compression",
    "minCompressSize": "min_compress_size",
    "compressionCodec": "compression_codec",
    "deadLetterSubject": "dead_letter_subject",
    "subjectPrefix": "subject_prefix",
    "fetchTimeout": "fetch_timeout",
    "nakDelay": "nak_delay",
    "nakDelayMax": "nak_delay_max",
    "drainGrace": "drain_grace_seconds",
    "publishAckTimeout": "publish_ack_timeout",
    "connectTimeout": "connect_timeout",
    "maxReconnects": "max_reconnects",
    "reconnectWait": "reconnect_wait",
    "maxOutstanding": "max_outstanding",
    "metricsPort": "metrics_port",
    "healthPort": "health_port",
    "enableOtel": "enable_otel",
}
DURATION_FIELDS = frozenset(
    {
        "fetchTimeout",
        "nakDelay",
        "nakDelayMax",
        "drainGrace",
        "publishAckTimeout",
        "connectTimeout",
        "reconnectWait",
    }
)


class AdapterDefaults(SpecModel):
    """Defaults for the adapter runtime in pods that consume this Consumer."""

    batch_size: int | None = Field(None, ge=1, le=10_000)
    max_inflight: int | None = Field(None, ge=1, le=1_000_000)
    enable_compression: bool | None = None
    min_compress_size: Size | None = Field(None, ge=0)
    compression_codec: Literal["zstd", "lz4"] | None = None
    dead_letter_subject: Subject | None = None
    subject_prefix: str | None = Field(None, max_length=255)
    fetch_timeout: Duration | None = None
    nak_delay: Duration | None = None
    nak_delay_max: Duration | None = None
    drain_grace: Duration | None = None
    publish_ack_timeout: Duration | None = None
    connect_timeout: Duration | None = None
    max_reconnects: int | None = Field(None, ge=-1)
    reconnect_wait: Duration | None = None
    max_outstanding: int | None = Field(None, ge=1)
    metrics_port: int | None = Field(None, ge=0, le=65535)
    health_port: int | None = Field(None, ge=0, le=65535)
    enable_otel: bool | None = None

    def settings_options(self) -> dict[str, Any]:
        """The fields that are set, as AdapterSettings keyword options."""
        out: dict[str, Any] = {}
        for camel, value in self.model_dump(by_alias=True, exclude_none=True).items():
            out[ADAPTER_SETTINGS_FIELDS[camel]] = value / NS_PER_SECOND if camel in DURATION_FIELDS else value
        return out
