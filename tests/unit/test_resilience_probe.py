"""Recovery and catch-up times from a probe's recorded event times (pure bookkeeping, no server)."""

from __future__ import annotations

import pytest

from benchmarks.resilience.scenarios import Probe

pytestmark = pytest.mark.unit


def probe(sent: list[float], handled: dict[int, float], acks: list[float]) -> Probe:
    p = Probe(sent_at=sent, ack_times=acks)
    for i, t in handled.items():
        p.handled.add(i)
        p.handled_at[i] = t
        p.handled_times.append(t)
    return p


@pytest.mark.parametrize(
    ("sent", "handled", "acks", "end", "recovery", "catch_up"),
    [
        # fault ends at 10: first handling after it 10.5, first ack 10.2 -> recovery 0.5;
        # messages 0 and 1 were published before the end, the later of them handled at 11
        ([1.0, 9.0, 12.0], {0: 2.0, 1: 11.0, 2: 10.5}, [1.5, 10.2], 10.0, 0.5, 1.0),
        ([1.0, 9.0], {0: 2.0, 1: 10.1}, [1.5, 12.0], 10.0, 2.0, 0.1),  # the ack came later
        ([1.0], {0: 2.0}, [1.5], 10.0, None, 0.0),  # nothing after the fault; no backlog left
        ([1.0, 9.0], {0: 2.0}, [1.5, 11.0], 10.0, None, None),  # message 1 never handled
        ([1.0], {0: 2.0}, [1.5], None, None, None),  # no fault
    ],
)
def test_recovery_and_catch_up(
    sent: list[float],
    handled: dict[int, float],
    acks: list[float],
    end: float | None,
    recovery: float | None,
    catch_up: float | None,
) -> None:
    p = probe(sent, handled, acks)
    assert p.recovery_s(end) == (None if recovery is None else pytest.approx(recovery))
    assert p.catch_up_s(end) == (None if catch_up is None else pytest.approx(catch_up))


def test_redeliveries_and_completion() -> None:
    p = Probe(acked={0, 1}, calls=3)
    p.handled.update({0, 1})
    assert p.redeliveries == 1 and p.complete()
    p.acked.add(2)
    assert not p.complete()
