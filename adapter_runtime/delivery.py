"""What to do with a delivered message after its handler ran (pure policy, unit tested)."""

from __future__ import annotations

from enum import Enum


class Outcome(Enum):
    ACK = "ack"
    NAK = "nak"  # redeliver later (with delay)
    DEAD_LETTER = "dead_letter"  # publish to the dead-letter subject, then term


def after_failure(num_delivered: int, max_deliver: int) -> Outcome:
    """A handler failure on delivery ``num_delivered``: retry until max_deliver attempts were made."""
    return Outcome.DEAD_LETTER if num_delivered >= max_deliver else Outcome.NAK


def nak_delay(num_delivered: int, base: float, cap: float) -> float:
    """Exponential redelivery delay: base, 2*base, 4*base ... capped (seconds)."""
    if base <= 0:
        return 0.0
    exp = min(max(num_delivered - 1, 0), 30)
    return float(min(base * (2**exp), cap))
