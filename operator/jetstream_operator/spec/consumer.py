"""The validated spec of a ``Consumer`` resource (jetstream.oppie.xyz/v1alpha1).

Consumers are pull consumers (the adapter runtime pulls); push fields are accepted for completeness
but cannot be combined with pull-only fields or an ``adapter`` block.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from adapter_runtime.settings import AdapterSettings, SettingsError, env_name
from jetstream_operator.spec.adapter import ADAPTER_SETTINGS_FIELDS, NS_PER_SECOND, AdapterDefaults
from jetstream_operator.spec.errors import SpecError, check
from jetstream_operator.spec.fields import (
    Duration,
    LocalObjectRef,
    Metadata,
    NatsName,
    Size,
    SpecModel,
    Subject,
)
from jetstream_operator.spec.resource import DeletionPolicy, ManagementPolicy, spec_from_resource

DeliverPolicy = Literal["all", "last", "new", "byStartSequence", "byStartTime", "lastPerSubject"]
PriorityPolicy = Literal["none", "overflow", "pinnedClient", "prioritized"]
PriorityGroup = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9/_=-]+$")]
# NATS' default max_ack_pending when a consumer leaves it unset.
SERVER_DEFAULT_MAX_ACK_PENDING = 1000
MAX_BACKOFF = 64
PULL_ONLY = ("maxWaiting", "maxRequestBatch", "maxRequestExpires", "maxRequestMaxBytes", "priorityGroups")
PUSH_ONLY = ("deliverGroup", "flowControl", "idleHeartbeat")

# AdapterSettings fields derived from the consumer itself (not from the adapter block).
_DERIVED_SETTINGS_FIELDS = {
    "max_ack_pending": "maxAckPending",
    "max_deliver": "maxDeliver",
    "ack_wait": "ackWait",
    "filter_subject": "filterSubject",
    "deliver_policy": "deliverPolicy",
}
_ADAPTER_DELIVER_POLICIES = {"all": "all", "last": "last", "new": "new", "lastPerSubject": "last_per_subject"}


class ConsumerSpec(SpecModel):
    """Every field of the NATS ConsumerConfig, camelCase, plus the adapter block and policies."""

    stream_ref: LocalObjectRef | None = None
    stream_name: NatsName | None = None
    durable_name: NatsName | None = None
    description: str | None = Field(None, max_length=4096)
    deliver_policy: DeliverPolicy = "all"
    opt_start_seq: int | None = Field(None, ge=1)
    opt_start_time: datetime | None = None
    ack_policy: Literal["none", "all", "explicit"] = "explicit"
    ack_wait: Duration | None = None
    max_deliver: int | None = Field(None, ge=-1)
    backoff: list[Duration] | None = Field(None, min_length=1, max_length=MAX_BACKOFF)
    filter_subject: Subject | None = None
    filter_subjects: list[Subject] | None = Field(None, min_length=1, max_length=256)
    replay_policy: Literal["instant", "original"] = "instant"
    sample_freq: str | None = Field(None, pattern=r"^([0-9]|[1-9][0-9]|100)%?$")
    rate_limit_bps: int | None = Field(None, ge=0)
    max_ack_pending: int | None = Field(None, ge=-1)
    max_waiting: int | None = Field(None, ge=1)
    max_request_batch: int | None = Field(None, ge=0)
    max_request_expires: Duration | None = None
    max_request_max_bytes: Size | None = Field(None, ge=0)
    headers_only: bool | None = None
    inactive_threshold: Duration | None = None
    replicas: int | None = Field(None, ge=0, le=5)
    mem_storage: bool | None = None
    metadata: Metadata | None = None
    pause_until: datetime | None = None
    priority_groups: list[PriorityGroup] | None = Field(None, min_length=1, max_length=16)
    priority_policy: PriorityPolicy | None = None
    pinned_ttl: Duration | None = None

    deliver_subject: Subject | None = None
    deliver_group: NatsName | None = None
    flow_control: bool | None = None
    idle_heartbeat: Duration | None = None

    adapter: AdapterDefaults | None = None
    connection_ref: LocalObjectRef | None = None
    deletion_policy: DeletionPolicy = "Delete"
    management_policy: ManagementPolicy = "Manage"

    @property
    def is_push(self) -> bool:
        return self.deliver_subject is not None

    @model_validator(mode="after")
    def _cross_field(self) -> ConsumerSpec:
        problems: dict[str, str] = {}
        if (self.stream_ref is None) == (self.stream_name is None):
            problems["streamRef"] = "set exactly one of streamRef (a Stream resource) or streamName"
        if self.stream_ref is not None and self.connection_ref is not None:
            problems["connectionRef"] = (
                "with streamRef the connection is the Stream's; connectionRef is only for streamName"
            )
        if self.filter_subject is not None and self.filter_subjects is not None:
            problems["filterSubjects"] = "set either filterSubject or filterSubjects, not both"
        if (self.opt_start_seq is not None) != (self.deliver_policy == "byStartSequence"):
            problems["optStartSeq"] = (
                "optStartSeq is required with, and only allowed with, deliverPolicy byStartSequence"
            )
        if (self.opt_start_time is not None) != (self.deliver_policy == "byStartTime"):
            problems["optStartTime"] = (
                "optStartTime is required with, and only allowed with, deliverPolicy byStartTime"
            )
        if self.backoff and self.max_deliver is not None and 0 < self.max_deliver <= len(self.backoff):
            problems["maxDeliver"] = f"must be greater than the number of backoff steps ({len(self.backoff)})"
        policy = self.priority_policy or "none"
        if self.priority_groups and policy == "none":
            problems["priorityPolicy"] = "priorityGroups need a priorityPolicy other than none"
        if policy != "none" and not self.priority_groups:
            problems["priorityGroups"] = f"priorityPolicy {policy} needs priorityGroups"
        if self.pinned_ttl is not None and policy != "pinnedClient":
            problems["pinnedTtl"] = "pinnedTtl is only allowed with priorityPolicy pinnedClient"
        dumped = self.model_dump(by_alias=True, exclude_none=True)
        if self.is_push:
            for camel in PULL_ONLY:
                if camel in dumped:
                    problems[camel] = f"{camel} is for pull consumers; remove it or deliverSubject"
            if self.adapter is not None:
                problems["adapter"] = "the adapter consumes by pull; remove deliverSubject to use it"
        else:
            for camel in PUSH_ONLY:
                if camel in dumped:
                    problems[camel] = f"{camel} needs deliverSubject (push consumers only)"
        if self.flow_control and self.idle_heartbeat is None:
            problems["idleHeartbeat"] = "flowControl needs idleHeartbeat"
        check(problems)
        self._check_adapter_settings()
        return self

    def adapter_settings_options(self) -> dict[str, Any]:
        """AdapterSettings options implied by this consumer: its server-side limits + the adapter block."""
        opts: dict[str, Any] = {}
        block = self.adapter.settings_options() if self.adapter else {}
        if self.max_ack_pending is None or self.max_ack_pending == 0:
            opts["max_ack_pending"] = SERVER_DEFAULT_MAX_ACK_PENDING
        elif self.max_ack_pending > 0:
            opts["max_ack_pending"] = self.max_ack_pending
        else:  # -1: unlimited on the server, so only the adapter's own in-flight cap applies
            opts["max_ack_pending"] = block.get(
                "max_inflight", AdapterSettings.model_fields["max_inflight"].default
            )
        if self.max_deliver is not None and self.max_deliver > 0:
            opts["max_deliver"] = self.max_deliver
        if self.ack_wait is not None and self.ack_wait > 0:
            opts["ack_wait"] = self.ack_wait / NS_PER_SECOND
        if self.filter_subject is not None:
            opts["filter_subject"] = self.filter_subject
        if self.deliver_policy in _ADAPTER_DELIVER_POLICIES:
            opts["deliver_policy"] = _ADAPTER_DELIVER_POLICIES[self.deliver_policy]
        return {**opts, **block}

    def _check_adapter_settings(self) -> None:
        if self.adapter is None:
            return
        try:
            AdapterSettings.from_options(**self.adapter_settings_options())
        except SettingsError as exc:
            check({_settings_field_path(env): why for env, why in exc.problems.items()})

    @classmethod
    def from_resource(cls, body: Mapping[str, Any]) -> ConsumerSpec:
        """Validate a whole Consumer CR body; ``durableName`` defaults to ``metadata.name``."""
        return spec_from_resource(cls, body, "durable_name")


def _settings_field_path(env: str) -> str:
    for camel, field in ADAPTER_SETTINGS_FIELDS.items():
        if env_name(field) == env:
            return f"adapter.{camel}"
    for field, camel in _DERIVED_SETTINGS_FIELDS.items():
        if env_name(field) == env:
            return camel
    return f"adapter ({env})"


__all__ = ["ConsumerSpec", "DeliverPolicy", "PriorityPolicy", "SpecError"]
