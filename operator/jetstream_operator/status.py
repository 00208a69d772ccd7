"""Pure builders of the status subresource: the Ready condition and the server state.

Shape (read by the CRDs' printer columns): `status: {observedGeneration, conditions: [Ready],
state: {...}, lastSyncTime}`. Nothing here does I/O; the reconcilers patch what these return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

READY = "Ready"


def now_iso(clock: dt.datetime | None = None) -> str:
    moment = clock or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def ready_condition(
    *,
    ready: bool,
    reason: str,
    message: str,
    generation: int | None,
    previous: Sequence[Mapping[str, Any]] | None,
    now: str,
) -> list[dict[str, Any]]:
    """The conditions list with Ready set; lastTransitionTime only moves when the status flips."""
    status = "True" if ready else "False"
    kept = [dict(c) for c in previous or () if c.get("type") != READY]
    old = next((c for c in previous or () if c.get("type") == READY), None)
    transition = old.get("lastTransitionTime") if old and old.get("status") == status else None
    condition = {
        "type": READY,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition or now,
        "observedGeneration": generation,
    }
    return [condition, *kept]


def ready_of(status: Mapping[str, Any] | None) -> tuple[bool, str | None]:
    """(is Ready True, reason) from a resource's status."""
    for condition in (status or {}).get("conditions") or ():
        if condition.get("type") == READY:
            return condition.get("status") == "True", condition.get("reason")
    return False, None


def stream_state(info: Mapping[str, Any]) -> dict[str, Any]:
    """The Stream's `status.state` from a STREAM.INFO reply."""
    state = info.get("state") or {}
    cluster = info.get("cluster") or {}
    replicas = [
        {
            "name": peer.get("name"),
            "current": bool(peer.get("current", False)),
            "lag": int(peer.get("lag", 0) or 0),
            **({"offline": True} if peer.get("offline") else {}),
        }
        for peer in cluster.get("replicas") or ()
    ]
    return {
        "messages": int(state.get("messages", 0)),
        "bytes": int(state.get("bytes", 0)),
        "firstSeq": int(state.get("first_seq", 0)),
        "lastSeq": int(state.get("last_seq", 0)),
        "consumerCount": int(state.get("consumer_count", 0)),
        "leader": cluster.get("leader"),
        "cluster": cluster.get("name"),
        "replicas": replicas,
    }


def consumer_state(info: Mapping[str, Any]) -> dict[str, Any]:
    """The Consumer's `status.state` from a CONSUMER.INFO reply."""
    cluster = info.get("cluster") or {}
    return {
        "numPending": int(info.get("num_pending", 0)),
        "numAckPending": int(info.get("num_ack_pending", 0)),
        "numRedelivered": int(info.get("num_redelivered", 0)),
        "numWaiting": int(info.get("num_waiting", 0)),
        "leader": cluster.get("leader"),
    }


def status_patch(
    *,
    body: Mapping[str, Any],
    ready: bool,
    reason: str,
    message: str,
    now: str,
    state: Mapping[str, Any] | None = None,
    clear_state: bool = False,
    extra: Mapping[str, Any] | None = None,
    observed: bool = True,
) -> dict[str, Any]:
    """A merge patch for `status`. `observed=False` keeps observedGeneration (spec not applied)."""
    meta = body.get("metadata") or {}
    generation = meta.get("generation")
    current = body.get("status") or {}
    patch: dict[str, Any] = {
        "conditions": ready_condition(
            ready=ready,
            reason=reason,
            message=message,
            generation=generation,
            previous=current.get("conditions"),
            now=now,
        ),
        "lastSyncTime": now,
    }
    if observed:
        patch["observedGeneration"] = generation
    if state is not None:
        patch["state"] = dict(state)
    elif clear_state and current.get("state"):
        patch["state"] = None
    if extra:
        patch.update(extra)
    return patch


def status_changed(current: Mapping[str, Any] | None, patch: Mapping[str, Any]) -> bool:
    """False when applying `patch` would change nothing but timestamps (avoids write churn)."""
    current = current or {}
    for key, value in patch.items():
        if key == "lastSyncTime":
            continue
        if key == "conditions":
            if _strip_times(current.get("conditions")) != _strip_times(value):
                return True
            continue
        if current.get(key) != value:
            return True
    return False


def _strip_times(conditions: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in conditions or ()]
