"""The validated spec of a ``Stream`` resource (jetstream.oppie.xyz/v1alpha1)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from jetstream_operator.spec.errors import check
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

MAX_SUBJECTS = 256
MAX_SOURCES = 64
INT32_MAX = 2**31 - 1


class Placement(SpecModel):
    """Where replicas go in a super-cluster."""

    cluster: str | None = Field(None, min_length=1, max_length=255)
    tags: list[str] | None = Field(None, max_length=32)


class SubjectTransform(SpecModel):
    """Rewrite subjects matching ``src`` to ``dest`` (NATS mapping syntax)."""

    src: Subject | None = None
    dest: Subject


class ExternalStream(SpecModel):
    """A stream in another account or domain, reached through API/deliver prefixes."""

    api_prefix: Subject
    deliver_prefix: Subject | None = None


class StreamSource(SpecModel):
    """A mirror or source origin stream."""

    name: NatsName
    opt_start_seq: int | None = Field(None, ge=1)
    opt_start_time: datetime | None = None
    filter_subject: Subject | None = None
    subject_transforms: list[SubjectTransform] | None = Field(None, max_length=16)
    external: ExternalStream | None = None
    domain: NatsName | None = None

    @model_validator(mode="after")
    def _cross_field(self) -> StreamSource:
        problems: dict[str, str] = {}
        if self.external is not None and self.domain is not None:
            problems["domain"] = "set either domain or external, not both"
        if self.opt_start_seq is not None and self.opt_start_time is not None:
            problems["optStartTime"] = "set either optStartSeq or optStartTime, not both"
        if self.filter_subject is not None and self.subject_transforms:
            problems["filterSubject"] = "set either filterSubject or subjectTransforms, not both"
        check(problems)
        return self


class Republish(SpecModel):
    """Republish stored messages matching ``src`` to ``dest``."""

    src: Subject | None = None
    dest: Subject
    headers_only: bool | None = None


class ConsumerLimits(SpecModel):
    """Defaults and caps for consumers of this stream."""

    inactive_threshold: Duration | None = None
    max_ack_pending: int | None = Field(None, ge=-1)


class StreamSpec(SpecModel):
    """Every field of the NATS StreamConfig, camelCase, plus operator policies."""

    name: NatsName | None = None
    description: str | None = Field(None, max_length=4096)
    subjects: list[Subject] | None = Field(None, max_length=MAX_SUBJECTS)
    retention: Literal["limits", "interest", "workqueue"] = "limits"
    max_consumers: int | None = Field(None, ge=-1)
    max_msgs: int | None = Field(None, ge=-1)
    max_bytes: Size | None = None
    max_age: Duration | None = None
    max_msg_size: Size | None = Field(None, le=INT32_MAX)
    max_msgs_per_subject: int | None = Field(None, ge=-1)
    storage: Literal["file", "memory"] = "file"
    replicas: int = Field(1, ge=1, le=5)
    no_ack: bool | None = None
    discard: Literal["old", "new"] | None = None
    discard_per_subject: bool | None = None
    duplicate_window: Duration | None = None
    placement: Placement | None = None
    mirror: StreamSource | None = None
    sources: list[StreamSource] | None = Field(None, max_length=MAX_SOURCES)
    sealed: bool | None = None
    deny_delete: bool | None = None
    deny_purge: bool | None = None
    allow_rollup: bool | None = None
    allow_direct: bool | None = None
    mirror_direct: bool | None = None
    compression: Literal["none", "s2"] | None = None
    first_seq: int | None = Field(None, ge=0)
    subject_transform: SubjectTransform | None = None
    republish: Republish | None = None
    consumer_limits: ConsumerLimits | None = None
    metadata: Metadata | None = None
    allow_msg_ttl: bool | None = None
    subject_delete_marker_ttl: Duration | None = None

    connection_ref: LocalObjectRef | None = None
    deletion_policy: DeletionPolicy = "Retain"
    management_policy: ManagementPolicy = "Manage"

    @model_validator(mode="after")
    def _cross_field(self) -> StreamSpec:
        problems: dict[str, str] = {}
        if self.mirror is not None:
            if self.subjects:
                problems["subjects"] = "a mirror stream cannot have subjects (it stores the origin's)"
            if self.sources:
                problems["sources"] = "a stream cannot have both mirror and sources"
            if self.subject_transform is not None:
                problems["subjectTransform"] = "a mirror stream cannot have a subjectTransform"
        if self.mirror_direct and self.mirror is None:
            problems["mirrorDirect"] = "mirrorDirect needs a mirror"
        if self.discard_per_subject:
            if self.discard != "new":
                problems["discardPerSubject"] = "discardPerSubject needs discard: new"
            elif not self.max_msgs_per_subject or self.max_msgs_per_subject < 1:
                problems["discardPerSubject"] = "discardPerSubject needs maxMsgsPerSubject > 0"
        if self.subject_delete_marker_ttl is not None and self.mirror is not None:
            problems["subjectDeleteMarkerTtl"] = "a mirror stream cannot have subjectDeleteMarkerTtl"
        check(problems)
        return self

    @classmethod
    def from_resource(cls, body: Mapping[str, Any]) -> StreamSpec:
        """Validate a whole Stream CR body; ``spec.name`` defaults to ``metadata.name``."""
        return spec_from_resource(cls, body, "name")
