"""What a pod asks for: the opt-in label and the annotations naming a Consumer or a Stream."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

PREFIX = "jetstream.oppie.xyz"
INJECT_LABEL = f"{PREFIX}/inject"
CONSUMER_ANNOTATION = f"{PREFIX}/consumer"
STREAM_ANNOTATION = f"{PREFIX}/stream"
CONTAINER_ANNOTATION = f"{PREFIX}/container"
# Written by the webhook: what it injected, so a second pass replaces exactly that (idempotence).
INJECTED_ANNOTATION = f"{PREFIX}/injected"
INJECTED_ENV_ANNOTATION = f"{PREFIX}/injected-env"


class InjectionDenied(Exception):
    """The pod cannot be admitted; the message names the annotation and the reason."""


@dataclass(frozen=True)
class InjectionRequest:
    """Consumer side (``kind == "Consumer"``) or publisher side (``"Stream"``)."""

    kind: Literal["Consumer", "Stream"]
    name: str
    annotation: str
    containers: tuple[str, ...] | None  # None: every app container

    def denied(self, reason: str) -> InjectionDenied:
        return InjectionDenied(f"{self.annotation}: {reason}")


def parse_request(pod: Mapping[str, Any]) -> InjectionRequest:
    """Read the annotations of an opted-in pod; raise InjectionDenied when they are unusable."""
    meta = pod.get("metadata") or {}
    annotations: Mapping[str, str] = meta.get("annotations") or {}
    consumer = (annotations.get(CONSUMER_ANNOTATION) or "").strip()
    stream = (annotations.get(STREAM_ANNOTATION) or "").strip()
    if consumer and stream:
        raise InjectionDenied(
            f"{CONSUMER_ANNOTATION} and {STREAM_ANNOTATION}: set one of them, not both "
            "(a Consumer already names its Stream)"
        )
    if not consumer and not stream:
        raise InjectionDenied(
            f'{INJECT_LABEL}: "true" needs the annotation {CONSUMER_ANNOTATION} (consuming) '
            f"or {STREAM_ANNOTATION} (publishing) naming a resource in the pod's namespace"
        )
    containers: tuple[str, ...] | None = None
    raw = annotations.get(CONTAINER_ANNOTATION)
    if raw is not None:
        containers = tuple(dict.fromkeys(c.strip() for c in raw.split(",") if c.strip()))
        if not containers:
            raise InjectionDenied(f"{CONTAINER_ANNOTATION}: must name a container (comma-separated names)")
        present = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or ()]
        missing = [c for c in containers if c not in present]
        if missing:
            raise InjectionDenied(
                f"{CONTAINER_ANNOTATION}: no container named {', '.join(map(repr, missing))} "
                f"in the pod (containers: {', '.join(map(str, present)) or 'none'})"
            )
    if consumer:
        return InjectionRequest("Consumer", consumer, CONSUMER_ANNOTATION, containers)
    return InjectionRequest("Stream", stream, STREAM_ANNOTATION, containers)
