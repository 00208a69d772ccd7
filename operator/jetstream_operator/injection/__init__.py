"""Pod injection: pods that opt in get the adapter settings of a Consumer or Stream as env + mounts.

``request.py`` reads the opt-in from the pod, ``plan.py`` resolves Consumer -> Stream ->
NatsConnection -> Secrets into what the pod needs (lookups injected, so it is testable without
an API server), ``pod_patch.py`` applies that to the pod (pure, idempotent), and ``webhook.py`` is
the kopf mutating admission handler doing the API reads.
"""

from jetstream_operator.injection.plan import InjectionPlan, build_plan
from jetstream_operator.injection.pod_patch import Injection, inject
from jetstream_operator.injection.request import (
    CONSUMER_ANNOTATION,
    CONTAINER_ANNOTATION,
    INJECT_LABEL,
    STREAM_ANNOTATION,
    InjectionDenied,
    InjectionRequest,
    parse_request,
)

__all__ = [
    "CONSUMER_ANNOTATION",
    "CONTAINER_ANNOTATION",
    "INJECT_LABEL",
    "STREAM_ANNOTATION",
    "Injection",
    "InjectionDenied",
    "InjectionPlan",
    "InjectionRequest",
    "build_plan",
    "inject",
    "parse_request",
]
