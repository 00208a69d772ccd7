"""ConsumerSpec -> JetStream API ConsumerConfig JSON (the ``config`` of ``$JS.API.CONSUMER.CREATE``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jetstream_operator.mapping.jsonvalues import rfc3339, snake_enum
from jetstream_operator.spec.consumer import ConsumerSpec

# CR field -> server JSON key; enum values are converted to snake_case, datetimes to RFC 3339.
_FIELDS: dict[str, str] = {
    "description": "description",
    "opt_start_seq": "opt_start_seq",
    "opt_start_time": "opt_start_time",
    "ack_wait": "ack_wait",
    "max_deliver": "max_deliver",
    "backoff": "backoff",
    "filter_subject": "filter_subject",
    "filter_subjects": "filter_subjects",
    "sample_freq": "sample_freq",
    "rate_limit_bps": "rate_limit_bps",
    "max_ack_pending": "max_ack_pending",
    "max_waiting": "max_waiting",
    "max_request_batch": "max_batch",
    "max_request_expires": "max_expires",
    "max_request_max_bytes": "max_bytes",
    "headers_only": "headers_only",
    "inactive_threshold": "inactive_threshold",
    "replicas": "num_replicas",
    "mem_storage": "mem_storage",
    "metadata": "metadata",
    "pause_until": "pause_until",
    "priority_groups": "priority_groups",
    "priority_policy": "priority_policy",
    "pinned_ttl": "priority_timeout",
    "deliver_subject": "deliver_subject",
    "deliver_group": "deliver_group",
    "flow_control": "flow_control",
    "idle_heartbeat": "idle_heartbeat",
}
_ENUMS = frozenset({"priority_policy"})


def consumer_config(spec: ConsumerSpec) -> dict[str, Any]:
    """The ConsumerConfig JSON: the fields the spec sets plus the policies the operator always pins."""
    if spec.durable_name is None:
        raise ValueError("consumer_config needs a named spec: build it with ConsumerSpec.from_resource")
    cfg: dict[str, Any] = {
        "durable_name": spec.durable_name,
        "deliver_policy": snake_enum(spec.deliver_policy),
        "ack_policy": spec.ack_policy,
        "replay_policy": spec.replay_policy,
    }
    for attr, key in _FIELDS.items():
        value = getattr(spec, attr)
        if value is None:
            continue
        if isinstance(value, datetime):
            value = rfc3339(value)
        elif attr in _ENUMS:
            value = snake_enum(value)
        elif isinstance(value, list):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)
        cfg[key] = value
    return cfg
