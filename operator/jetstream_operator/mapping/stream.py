"""StreamSpec -> JetStream API StreamConfig JSON (the body of ``$JS.API.STREAM.CREATE/UPDATE``)."""

from __future__ import annotations

from typing import Any

from jetstream_operator.mapping.jsonvalues import rfc3339
from jetstream_operator.spec.stream import StreamSource, StreamSpec, SubjectTransform

# CR field -> server JSON key for plain values copied as they are (sizes/durations already ints).
_SCALARS: dict[str, str] = {
    "description": "description",
    "subjects": "subjects",
    "max_consumers": "max_consumers",
    "max_msgs": "max_msgs",
    "max_bytes": "max_bytes",
    "max_age": "max_age",
    "max_msg_size": "max_msg_size",
    "max_msgs_per_subject": "max_msgs_per_subject",
    "no_ack": "no_ack",
    "discard": "discard",
    "discard_per_subject": "discard_new_per_subject",
    "duplicate_window": "duplicate_window",
    "sealed": "sealed",
    "deny_delete": "deny_delete",
    "deny_purge": "deny_purge",
    "allow_rollup": "allow_rollup_hdrs",
    "allow_direct": "allow_direct",
    "mirror_direct": "mirror_direct",
    "compression": "compression",
    "first_seq": "first_seq",
    "metadata": "metadata",
    "allow_msg_ttl": "allow_msg_ttl",
    "subject_delete_marker_ttl": "subject_delete_marker_ttl",
}


def stream_config(spec: StreamSpec) -> dict[str, Any]:
    """The StreamConfig JSON: the fields the spec sets plus the ones the operator always pins."""
    if spec.name is None:
        raise ValueError("stream_config needs a named spec: build it with StreamSpec.from_resource")
    cfg: dict[str, Any] = {
        "name": spec.name,
        "retention": spec.retention,
        "storage": spec.storage,
        "num_replicas": spec.replicas,
    }
    for attr, key in _SCALARS.items():
        value = getattr(spec, attr)
        if value is not None:
            cfg[key] = (
                list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value
            )
    if spec.placement is not None:
        cfg["placement"] = spec.placement.model_dump(exclude_none=True)
    if spec.mirror is not None:
        cfg["mirror"] = source_config(spec.mirror)
    if spec.sources is not None:
        cfg["sources"] = [source_config(s) for s in spec.sources]
    if spec.subject_transform is not None:
        cfg["subject_transform"] = transform_config(spec.subject_transform)
    if spec.republish is not None:
        cfg["republish"] = {
            "src": spec.republish.src or ">",
            "dest": spec.republish.dest,
            **(
                {"headers_only": spec.republish.headers_only}
                if spec.republish.headers_only is not None
                else {}
            ),
        }
    if spec.consumer_limits is not None:
        cfg["consumer_limits"] = spec.consumer_limits.model_dump(exclude_none=True)
    return cfg


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def transform_config(t: SubjectTransform) -> dict[str, Any]:
    return {"src": t.src or ">", "dest": t.dest}


def source_config(src: StreamSource) -> dict[str, Any]:
    """A mirror/source entry; ``domain`` becomes the external API prefix ``$JS.<domain>.API``."""
    out: dict[str, Any] = {"name": src.name}
    if src.opt_start_seq is not None:
        out["opt_start_seq"] = src.opt_start_seq
    if src.opt_start_time is not None:
        out["opt_start_time"] = rfc3339(src.opt_start_time)
    if src.filter_subject is not None:
        out["filter_subject"] = src.filter_subject
    if src.subject_transforms is not None:
        out["subject_transforms"] = [transform_config(t) for t in src.subject_transforms]
    if src.external is not None:
        out["external"] = {"api": src.external.api_prefix}
        if src.external.deliver_prefix is not None:
            out["external"]["deliver"] = src.external.deliver_prefix
    elif src.domain is not None:
        out["external"] = {"api": f"$JS.{src.domain}.API"}
    return out
