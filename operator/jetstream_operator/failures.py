"""Why a reconcile did not reach Ready, and how long to wait before the next try."""

from __future__ import annotations


class ReconcileFailure(Exception):
    """A reason (CamelCase, shown in the Ready condition) and a message for humans.

    `transient=False` only for problems no retry can fix (an invalid spec): those wait for the
    next spec change instead of being retried. Everything else is retried forever with backoff.
    """

    def __init__(self, reason: str, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.transient = transient


def backoff_delay(attempt: int, *, base: float = 1.0, cap: float = 30.0) -> float:
    """Exponential delay for retry number `attempt` (0-based): base, 2*base, 4*base ... capped."""
    if attempt < 0:
        attempt = 0
    return min(cap, base * (2 ** min(attempt, 30)))
