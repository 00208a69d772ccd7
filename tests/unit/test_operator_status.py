"""Status building: Ready condition transitions, server state mapping, change detection."""

import pytest
from jetstream_operator.status import (
    consumer_state,
    ready_condition,
    ready_of,
    status_changed,
    status_patch,
    stream_state,
)

pytestmark = pytest.mark.unit

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"


def test_ready_condition_keeps_transition_time_while_status_holds() -> None:
    first = ready_condition(ready=True, reason="Synced", message="a", generation=1, previous=None, now=T0)
    again = ready_condition(ready=True, reason="Synced", message="b", generation=2, previous=first, now=T1)
    assert again[0]["lastTransitionTime"] == T0
    assert again[0]["message"] == "b" and again[0]["observedGeneration"] == 2


def test_ready_condition_moves_transition_time_when_status_flips() -> None:
    up = ready_condition(ready=True, reason="Synced", message="a", generation=1, previous=None, now=T0)
    down = ready_condition(
        ready=False, reason="NatsUnavailable", message="x", generation=1, previous=up, now=T1
    )
    assert down[0] == {
        "type": "Ready",
        "status": "False",
        "reason": "NatsUnavailable",
        "message": "x",
        "lastTransitionTime": T1,
        "observedGeneration": 1,
    }


def test_ready_condition_keeps_other_conditions() -> None:
    other = {"type": "Progressing", "status": "True"}
    result = ready_condition(ready=True, reason="R", message="m", generation=1, previous=[other], now=T0)
    assert [c["type"] for c in result] == ["Ready", "Progressing"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, (False, None)),
        ({}, (False, None)),
        ({"conditions": [{"type": "Ready", "status": "True", "reason": "Synced"}]}, (True, "Synced")),
        ({"conditions": [{"type": "Ready", "status": "False", "reason": "NotFound"}]}, (False, "NotFound")),
    ],
)
def test_ready_of(status: dict | None, expected: tuple) -> None:
    assert ready_of(status) == expected


def test_stream_state_maps_info_and_cluster() -> None:
    info = {
        "state": {"messages": 5, "bytes": 300, "first_seq": 3, "last_seq": 7, "consumer_count": 2},
        "cluster": {
            "name": "c1",
            "leader": "n1",
            "replicas": [
                {"name": "n2", "current": True, "lag": 0},
                {"name": "n3", "current": False, "lag": 9, "offline": True},
            ],
        },
    }
    assert stream_state(info) == {
        "messages": 5,
        "bytes": 300,
        "firstSeq": 3,
        "lastSeq": 7,
        "consumerCount": 2,
        "leader": "n1",
        "cluster": "c1",
        "replicas": [
            {"name": "n2", "current": True, "lag": 0},
            {"name": "n3", "current": False, "lag": 9, "offline": True},
        ],
    }


def test_stream_state_of_single_server_has_no_leader() -> None:
    state = stream_state({"state": {"messages": 1}})
    assert state["leader"] is None and state["replicas"] == [] and state["messages"] == 1


def test_consumer_state() -> None:
    info = {
        "num_pending": 4,
        "num_ack_pending": 2,
        "num_redelivered": 1,
        "num_waiting": 3,
        "cluster": {"leader": "n1"},
    }
    assert consumer_state(info) == {
        "numPending": 4,
        "numAckPending": 2,
        "numRedelivered": 1,
        "numWaiting": 3,
        "leader": "n1",
    }


def _body(generation: int = 3, status: dict | None = None) -> dict:
    return {"metadata": {"generation": generation}, "status": status or {}}


def test_status_patch_success_sets_observed_generation_and_state() -> None:
    patch = status_patch(
        body=_body(), ready=True, reason="Synced", message="m", now=T0, state={"messages": 1}
    )
    assert patch["observedGeneration"] == 3
    assert patch["state"] == {"messages": 1}
    assert patch["lastSyncTime"] == T0
    assert patch["conditions"][0]["status"] == "True"


def test_status_patch_failure_keeps_observed_generation() -> None:
    patch = status_patch(body=_body(), ready=False, reason="X", message="m", now=T0, observed=False)
    assert "observedGeneration" not in patch and "state" not in patch


def test_status_patch_can_clear_state() -> None:
    patch = status_patch(
        body=_body(status={"state": {"messages": 1}}),
        ready=False,
        reason="NotFound",
        message="m",
        now=T0,
        clear_state=True,
    )
    assert patch["state"] is None


def test_status_changed_ignores_timestamps_only() -> None:
    first = status_patch(
        body=_body(), ready=True, reason="Synced", message="m", now=T0, state={"messages": 1}
    )
    current = dict(first)
    later = status_patch(
        body=_body(status=current), ready=True, reason="Synced", message="m", now=T1, state={"messages": 1}
    )
    assert not status_changed(current, later)
    more = status_patch(
        body=_body(status=current), ready=True, reason="Synced", message="m", now=T1, state={"messages": 2}
    )
    assert status_changed(current, more)
    failed = status_patch(
        body=_body(status=current), ready=False, reason="NatsUnavailable", message="m", now=T1
    )
    assert status_changed(current, failed)
