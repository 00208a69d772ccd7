"""Turn a whole CR body into its validated spec, the NATS name defaulting to ``metadata.name``.

Streams and Consumers both name their NATS object after the resource unless the spec says
otherwise; this is the one place that rule and its error live.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol, TypeVar

from jetstream_operator.spec.errors import SpecError, validate_model
from jetstream_operator.spec.fields import SpecModel, check_name

S = TypeVar("S", bound=SpecModel)

# What happens to the NATS object when its resource is deleted (defaults differ per kind).
DeletionPolicy = Literal["Delete", "Retain"]
# Manage: the operator creates and repairs the object; Observe: it only reports on it.
ManagementPolicy = Literal["Manage", "Observe"]


class ManagedSpec(Protocol):
    """The policies every spec that owns a NATS object carries."""

    @property
    def deletion_policy(self) -> DeletionPolicy: ...

    @property
    def management_policy(self) -> ManagementPolicy: ...


def spec_from_resource(model: type[S], body: Mapping[str, Any], name_field: str) -> S:
    """Validate ``body.spec`` as ``model``; an unset ``name_field`` takes ``metadata.name``."""
    spec = validate_model(model, dict(body.get("spec") or {}))
    if getattr(spec, name_field) is not None:
        return spec
    path = f"spec.{model.model_fields[name_field].alias or name_field}"
    return spec.model_copy(update={name_field: default_name(body, path)})


def default_name(body: Mapping[str, Any], field: str) -> str:
    """``metadata.name`` as the NATS name for ``field``, or a SpecError saying why it cannot be."""
    meta_name = str((body.get("metadata") or {}).get("name") or "")
    try:
        return check_name(meta_name)
    except ValueError as exc:
        raise SpecError(
            field, f"defaults to metadata.name, which is not a valid NATS name: {exc}; set {field}"
        ) from None
