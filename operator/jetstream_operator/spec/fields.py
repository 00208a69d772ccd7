"""Field types shared by the CR spec models: durations, sizes, NATS names, subjects, references.

Each type validates exactly what the CRD schema checks at apply time (same patterns), so a spec that
slipped past the apiserver (e.g. ``kubectl apply --validate=false`` or an old CRD) still fails here
with one clear message instead of a confusing server error.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from jetstream_operator.spec.errors import CrossFieldProblems

# --- durations ----------------------------------------------------------------------------------

_NS_PER_UNIT = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # micro sign U+00B5, as Go prints it
    "μs": 1_000,  # greek mu U+03BC, also accepted by Go
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
# The CRDs check the same regex in a CEL rule (crds/*.yaml): Go's time.ParseDuration without a sign.
DURATION_PATTERN = r"^(0|([0-9]+([.][0-9]+)?(ns|us|µs|μs|ms|s|m|h))+)$"
_DURATION_RE = re.compile(DURATION_PATTERN)
_DURATION_PART = re.compile(r"([0-9]+(?:[.][0-9]+)?)(ns|us|µs|μs|ms|s|m|h)")
DURATION_HINT = "use e.g. 30s, 5m, 1h30m, 500ms"


def parse_duration(text: str) -> int:
    """A Go-style duration string (``"1h30m"``, ``"500ms"``) in nanoseconds."""
    if not isinstance(text, str) or not _DURATION_RE.match(text):
        raise ValueError(f"invalid duration {text!r} ({DURATION_HINT})")
    total = Fraction(0)
    for number, unit in _DURATION_PART.findall(text):
        total += Fraction(number) * _NS_PER_UNIT[unit]
    return int(total)


def format_duration(ns: int) -> str:
    """Nanoseconds as a short Go-style duration (``90_000_000_000`` -> ``"1m30s"``)."""
    if ns == 0:
        return "0s"
    parts = []
    for unit in ("h", "m", "s", "ms", "us", "ns"):
        size = _NS_PER_UNIT[unit]
        if ns >= size:
            count, ns = divmod(ns, size)
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _duration_before(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"invalid duration {value!r}: must be a string ({DURATION_HINT})")
    return parse_duration(value)


Duration = Annotated[int, BeforeValidator(_duration_before)]
"""A duration given as a Go-style string, held as nanoseconds."""

# --- sizes --------------------------------------------------------------------------------------

SIZE_PATTERN = r"^[0-9]+(Ki|Mi|Gi|Ti|K|M|G|T)?$"
_SIZE_RE = re.compile(SIZE_PATTERN)
_SIZE_FACTOR = {
    "": 1,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def parse_size(value: Any) -> int:
    """Bytes from an integer (``-1`` = unlimited) or a quantity string like ``"512Mi"`` / ``"1G"``."""
    if isinstance(value, bool):
        raise ValueError(f"invalid size {value!r}: use bytes (integer) or a quantity like 512Mi")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = _SIZE_RE.match(value)
        if m:
            digits = value[: len(value) - len(m.group(1) or "")]
            return int(digits) * _SIZE_FACTOR[m.group(1) or ""]
    raise ValueError(f"invalid size {value!r}: use bytes (integer) or a quantity like 512Mi, 1G")


Size = Annotated[int, BeforeValidator(parse_size), Field(ge=-1)]
"""Bytes; ``-1`` means unlimited where NATS allows it."""

# --- names and subjects -------------------------------------------------------------------------

NAME_PATTERN = r"^[^.*>\s/\\]+$"
_BAD_NAME_CHARS = re.compile(r"[.*>\s/\\]")
NAME_MAX = 255


def check_name(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    bad = _BAD_NAME_CHARS.search(value)
    if bad:
        raise ValueError(
            f"invalid NATS name {value!r}: must not contain '.', '*', '>', '/', '\\' or whitespace"
            f" (found {bad.group()!r})"
        )
    return value


NatsName = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(check_name)]
"""A stream/consumer/domain name as NATS accepts it."""

SUBJECT_PATTERN = r"^[^\s]+$"
SUBJECT_MAX = 1024


def check_subject(value: str) -> str:
    """A subject or subject filter: dot-separated non-empty tokens, wildcards only as whole tokens."""
    if not value:
        raise ValueError("must not be empty")
    tokens = value.split(".")
    for i, tok in enumerate(tokens):
        if not tok:
            raise ValueError(f"invalid subject {value!r}: empty token")
        if re.search(r"\s", tok):
            raise ValueError(f"invalid subject {value!r}: contains whitespace")
        if tok == ">" and i != len(tokens) - 1:
            raise ValueError(f"invalid subject {value!r}: '>' must be the last token")
        if tok not in ("*", ">") and ("*" in tok or ">" in tok):
            raise ValueError(f"invalid subject {value!r}: wildcards must be whole tokens")
    return value


Subject = Annotated[str, Field(max_length=SUBJECT_MAX), AfterValidator(check_subject)]

# --- models -------------------------------------------------------------------------------------


class SpecModel(BaseModel):
    """Base of all spec models: camelCase aliases, unknown fields refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


def refuse_namespace(data: Any) -> Any:
    if isinstance(data, dict) and "namespace" in data:
        raise CrossFieldProblems(
            {
                "namespace": "cross-namespace references are not allowed: the referenced object is"
                " always looked up in the resource's own namespace"
            }
        )
    return data


class LocalObjectRef(SpecModel):
    """A reference by name to an object in the same namespace."""

    name: str = Field(min_length=1, max_length=253)

    @model_validator(mode="before")
    @classmethod
    def _no_namespace(cls, data: Any) -> Any:
        return refuse_namespace(data)


class SecretKeyRef(SpecModel):
    """One key of a Secret in the same namespace."""

    name: str = Field(min_length=1, max_length=253)
    key: str = Field(min_length=1, max_length=253)

    @model_validator(mode="before")
    @classmethod
    def _no_namespace(cls, data: Any) -> Any:
        return refuse_namespace(data)


Metadata = Annotated[dict[str, str], Field(max_length=64)]
