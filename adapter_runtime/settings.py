"""Adapter settings: the single contract between pod env and the adapter runtime.

The operator renders these fields into pod env with :meth:`AdapterSettings.to_env`; inside the pod the
runtime reads them back with :meth:`AdapterSettings.from_env`. Importing this module has no side
effects and pulls in neither nats, kopf nor OpenTelemetry, so the operator can depend on it cheaply.

Environment names are ``SEAM_NATS_<FIELD>`` (upper case) except ``enable_otel`` (``ENABLE_OTEL``) and
the downward-API aliases ``POD_NAMESPACE`` / ``POD_NAME`` for ``namespace`` / ``pod_name``. Lists are
comma separated. Any invalid input produces ONE :class:`SettingsError` naming every bad variable.
"""

from __future__ import annotations

import contextvars
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "SEAM_NATS_"
URL_SCHEMES = ("nats", "tls", "ws", "wss")
DEFAULT_CODEC: Literal["zstd", "lz4"] = "zstd"

# Field -> extra env names accepted as aliases (the canonical name is listed first by env_names()).
_ALIASES: dict[str, tuple[str, ...]] = {
    "namespace": ("POD_NAMESPACE",),
    "pod_name": ("POD_NAME",),
}
# Fields whose canonical env name does not carry the prefix.
_UNPREFIXED: dict[str, str] = {"enable_otel": "ENABLE_OTEL"}

_BAD_NAME = re.compile(r"[.*>\s/\\]")
_TOKEN = re.compile(r"^[^\s*>]+$")

# When set, the settings source reads this mapping instead of os.environ (see from_env/from_options).
_ENV_OVERRIDE: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "seam_adapter_env_override", default=None
)


class SettingsError(ValueError):
    """Invalid adapter settings; ``problems`` maps each env variable name to why it is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        lines = [f"  {name}: {why}" for name, why in self.problems.items()]
        super().__init__(f"invalid adapter settings ({len(lines)} problem(s)):\n" + "\n".join(lines))


def env_name(field: str) -> str:
    """The canonical env variable name for a settings field."""
    return _UNPREFIXED.get(field, ENV_PREFIX + field.upper())


def env_names(field: str) -> tuple[str, ...]:
    """Every env variable name accepted for a field, canonical first."""
    return (env_name(field), *_ALIASES.get(field, ()))


def _is_list_field(info: FieldInfo) -> bool:
    ann = info.annotation
    return get_origin(ann) is list


def _split_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


class _MappingEnvSource(PydanticBaseSettingsSource):
    """Reads fields from a flat env mapping by our own name table (lists comma separated, no JSON)."""

    def _env(self) -> Mapping[str, str]:
        override = _ENV_OVERRIDE.get()
        return os.environ if override is None else override

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        env = self._env()
        for name in env_names(field_name):
            if name in env:
                raw = env[name]
                return (_split_list(raw) if _is_list_field(field) else raw), name, False
        return None, env_name(field_name), False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field_name, info in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(info, field_name)
            if value is not None:
                values[field_name] = value
        return values


def _check_subject(value: str, *, wildcards: bool) -> str:
    if not value:
        raise ValueError("must not be empty")
    tokens = value.split(".")
    for i, tok in enumerate(tokens):
        if not tok:
            raise ValueError(f"subject {value!r} has an empty token")
        if re.search(r"\s", tok):
            raise ValueError(f"subject {value!r} contains whitespace")
        if tok in ("*", ">"):
            if not wildcards:
                raise ValueError(f"subject {value!r} must not contain wildcards")
            if tok == ">" and i != len(tokens) - 1:
                raise ValueError(f"subject {value!r}: '>' is only allowed as the last token")
        elif not _TOKEN.match(tok):
            raise ValueError(f"subject {value!r}: wildcards must be whole tokens")
    return value


class AdapterSettings(BaseSettings):
    """Every option of NatsClient/NatsServer, validated once at load time."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    # Connection
    server_urls: list[str] = Field(default_factory=lambda: ["nats://127.0.0.1:4222"])
    connect_timeout: float = Field(10.0, gt=0)
    max_reconnects: int = Field(-1, ge=-1, description="-1 = unlimited")
    reconnect_wait: float = Field(1.0, gt=0)
    reconnect_jitter: float = Field(0.1, ge=0)
    reconnect_jitter_tls: float = Field(0.1, ge=0)
    pending_msgs_limit: int = Field(65536, gt=0)
    pending_bytes_limit: int = Field(8388608, gt=0)
    client_id: str | None = None
    js_domain: str | None = None

    # Stream
    stream_name: str = "SEAM"
    durable: bool = True
    subject_prefix: str = ""
    create_stream: bool = True
    stream_replicas: int = Field(1, ge=1, le=5, description="replicas of streams the runtime creates")
    stream_subjects: list[str] = Field(default_factory=list)
    dead_letter_subject: str | None = None

    # Publishing
    enable_compression: bool = False
    min_compress_size: int = Field(1024, ge=0)
    compression_codec: Literal["zstd", "lz4"] = DEFAULT_CODEC
    max_outstanding: int = Field(65536, gt=0)
    publish_ack_timeout: float = Field(5.0, gt=0)
    publish_retries: int = Field(10, ge=0, description="resends (same msg id) before a publish fails")

    # Consuming
    consumer_name: str | None = None
    max_inflight: int = Field(1000, gt=0)
    max_ack_pending: int = Field(100, gt=0)
    max_deliver: int = Field(10, gt=0)
    ack_wait: float = Field(30.0, gt=0)
    batch_size: int = Field(100, gt=0)
    deliver_policy: Literal["all", "last", "new", "last_per_subject"] = "all"
    filter_subject: str | None = None
    nak_delay: float = Field(1.0, ge=0, description="first redelivery delay; doubles per delivery")
    nak_delay_max: float = Field(60.0, ge=0)
    fetch_timeout: float = Field(5.0, gt=0, description="idle check period; requests wait min(this, 1 s)")
    backlog_poll_interval: float = Field(10.0, gt=0)
    drain_grace_seconds: float = Field(25.0, ge=0)

    # Credentials (paths only; contents are read at connect time and never logged)
    creds_file: Path | None = None
    nkey_seed_file: Path | None = None
    token_file: Path | None = None
    user: str | None = None
    password_file: Path | None = None
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None

    # Observability and identity
    metrics_port: int = Field(9464, ge=0, le=65535, description="0 = off")
    health_port: int = Field(8080, ge=0, le=65535, description="0 = off")
    enable_otel: bool = False
    namespace: str | None = None
    pod_name: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _MappingEnvSource(settings_cls)

    # ---- field validators -------------------------------------------------------------------

    @field_validator("server_urls", "stream_subjects", mode="before")
    @classmethod
    def _split_str(cls, v: Any) -> Any:
        return _split_list(v) if isinstance(v, str) else v

    @field_validator("server_urls")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one server URL is required")
        for url in v:
            m = re.match(r"^([a-z]+)://([^/\s:]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?/?$", url)
            if not m:
                raise ValueError(f"{url!r} is not a URL like nats://host:4222")
            if m.group(1) not in URL_SCHEMES:
                raise ValueError(f"{url!r}: scheme must be one of {', '.join(URL_SCHEMES)}")
            if m.group(3) and not 0 < int(m.group(3)[1:]) < 65536:
                raise ValueError(f"{url!r}: port out of range")
        return v

    @field_validator("stream_name", "consumer_name", "client_id", "js_domain", "user")
    @classmethod
    def _names(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v:
            raise ValueError("must not be empty")
        if _BAD_NAME.search(v):
            raise ValueError(f"{v!r} must not contain '.', '*', '>', '/', '\\\\' or whitespace")
        return v

    @field_validator("subject_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if v and (re.search(r"[\s*>]", v) or v.startswith(".") or ".." in v):
            raise ValueError(f"{v!r} must be subject tokens without wildcards or whitespace, e.g. 'app.'")
        return v

    @field_validator("stream_subjects")
    @classmethod
    def _subjects(cls, v: list[str]) -> list[str]:
        return [_check_subject(s, wildcards=True) for s in v]

    @field_validator("filter_subject")
    @classmethod
    def _filter(cls, v: str | None) -> str | None:
        return None if v is None else _check_subject(v, wildcards=True)

    @field_validator("dead_letter_subject")
    @classmethod
    def _dlq(cls, v: str | None) -> str | None:
        return None if v is None else _check_subject(v, wildcards=False)

    @field_validator(
        "creds_file",
        "nkey_seed_file",
        "token_file",
        "password_file",
        "tls_ca_file",
        "tls_cert_file",
        "tls_key_file",
    )
    @classmethod
    def _file_exists(cls, v: Path | None) -> Path | None:
        if v is None:
            return v
        if not v.is_file():
            raise ValueError(f"file {str(v)!r} does not exist or is not a regular file")
        return v

    @field_validator("connect_timeout", "reconnect_wait", "ack_wait", "publish_ack_timeout", "fetch_timeout")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    # ---- cross-field rules ------------------------------------------------------------------

    @model_validator(mode="after")
    def _cross_field(self) -> AdapterSettings:
        problems: dict[str, str] = {}
        if self.batch_size > self.max_inflight:
            problems["batch_size"] = (
                f"batch_size ({self.batch_size}) must be <= max_inflight ({self.max_inflight}): "
                "a fetch never asks for more messages than free handler slots"
            )
        if self.batch_size > self.max_ack_pending:
            prev = problems.get("batch_size")
            problems["batch_size"] = (f"{prev}; " if prev else "") + (
                f"batch_size ({self.batch_size}) must be <= max_ack_pending ({self.max_ack_pending}): "
                "the server never has more unacked messages out than max_ack_pending"
            )
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            missing = "tls_key_file" if self.tls_key_file is None else "tls_cert_file"
            problems[missing] = "tls_cert_file and tls_key_file must be set together"
        if self.user is not None and self.password_file is None:
            problems["password_file"] = "user is set, so password_file is required"
        if self.password_file is not None and self.user is None:
            problems["user"] = "password_file is set, so user is required"
        auth = [f for f in ("creds_file", "nkey_seed_file", "token_file", "user") if getattr(self, f)]
        if len(auth) > 1:
            problems[auth[1]] = f"only one auth method may be set, got {', '.join(auth)}"
        if self.nak_delay_max < self.nak_delay:
            problems["nak_delay_max"] = f"must be >= nak_delay ({self.nak_delay})"
        if problems:
            raise _CrossFieldError(problems)
        return self

    # ---- derived values ---------------------------------------------------------------------

    @property
    def effective_inflight(self) -> int:
        """Handlers that can really run at once: the server stops delivering at max_ack_pending."""
        return min(self.max_inflight, self.max_ack_pending)

    @property
    def effective_client_id(self) -> str:
        return self.client_id or self.pod_name or f"seam-{os.getpid()}"

    @property
    def effective_dead_letter_subject(self) -> str:
        return self.dead_letter_subject or f"seam.dlq.{self.stream_name}"

    @property
    def dead_letter_stream(self) -> str:
        return f"{self.stream_name}_DLQ"

    # ---- env round trip ---------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AdapterSettings:
        """Load from ``env`` (default ``os.environ``); raise one SettingsError listing every problem."""
        env = dict(os.environ if env is None else env)
        known = {name for f in cls.model_fields for name in env_names(f)}
        unknown = {
            k: "unknown variable (typo?); known: see docs/adapter.md"
            for k in sorted(env)
            if k.startswith(ENV_PREFIX) and k not in known
        }
        try:
            settings = _build(cls, env, {})
        except SettingsError as exc:
            raise SettingsError({**unknown, **exc.problems}) from None
        if unknown:
            raise SettingsError(unknown)
        return settings

    @classmethod
    def from_options(cls, **options: Any) -> AdapterSettings:
        """Build from keyword options only (os.environ is ignored); errors as in from_env."""
        return _build(cls, {}, options)

    def to_env(self, *, exclude_defaults: bool = False) -> dict[str, str]:
        """Canonical env for these settings: every field that is set (not None), in field order.

        ``exclude_defaults=True`` drops fields equal to their default. Either way
        ``from_env(s.to_env()) == s``.
        """
        out: dict[str, str] = {}
        defaults = type(self)._defaults() if exclude_defaults else {}
        for name, value in self._items():
            if value is None or (exclude_defaults and defaults.get(name) == value):
                continue
            out[env_name(name)] = _format(value)
        return out

    def redacted(self) -> dict[str, str]:
        """Effective settings for display: file paths only, never file contents."""
        return {env_name(k): ("<unset>" if v is None else _format(v)) for k, v in self._items()}

    def _items(self) -> Iterator[tuple[str, Any]]:
        for name in type(self).model_fields:
            yield name, getattr(self, name)

    @classmethod
    def _defaults(cls) -> dict[str, Any]:
        return {n: f.get_default(call_default_factory=True) for n, f in cls.model_fields.items()}


class _CrossFieldError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _source_name(field: str, env: Mapping[str, str]) -> str:
    for name in env_names(field):
        if name in env:
            return name
    return env_name(field)


def _build(cls: type[AdapterSettings], env: Mapping[str, str], options: dict[str, Any]) -> AdapterSettings:
    token = _ENV_OVERRIDE.set(env)
    try:
        return cls(**options)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for err in exc.errors():
            ctx_err = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_err, _CrossFieldError):
                for field, why in ctx_err.problems.items():
                    problems[_source_name(field, env)] = why
                continue
            field = str(err["loc"][0]) if err["loc"] else ""
            if field not in cls.model_fields:
                name = field if field in options else ENV_PREFIX + field.upper()
                problems[name] = "unknown option"
                continue
            msg = err["msg"].removeprefix("Value error, ")
            got = err.get("input")
            if isinstance(got, (str, int, float)) and repr(got) not in msg:
                msg = f"{msg} (got {got!r})"
            name = _source_name(field, env)
            problems[name] = f"{problems[name]}; {msg}" if name in problems else msg
        raise SettingsError(problems) from None
    finally:
        _ENV_OVERRIDE.reset(token)


def field_env_table() -> list[tuple[str, str, str]]:
    """(field, env names, type) rows for docs and check-env."""
    rows = []
    for name, info in AdapterSettings.model_fields.items():
        ann = info.annotation
        typ = getattr(ann, "__name__", None) or str(ann)
        if get_origin(ann) is Literal:
            typ = "|".join(map(str, get_args(ann)))
        rows.append((name, " / ".join(env_names(name)), typ))
    return rows
