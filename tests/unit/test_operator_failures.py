"""Retry delays grow exponentially and stop at the cap; failure reasons of transport errors."""

import pytest
from jetstream_operator.connections import NatsAuthError
from jetstream_operator.failures import ReconcileFailure, backoff_delay
from jetstream_operator.jsapi import JetStreamError, NatsUnavailable
from jetstream_operator.reconcile.runner import as_failure

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("attempt", "delay"), [(-1, 1), (0, 1), (1, 2), (2, 4), (4, 16), (5, 30), (100, 30)])
def test_backoff_delay(attempt: int, delay: float) -> None:
    assert backoff_delay(attempt, cap=30) == delay


def test_backoff_delay_custom_base() -> None:
    assert [backoff_delay(i, base=0.5, cap=3) for i in range(5)] == [0.5, 1, 2, 3, 3]


@pytest.mark.parametrize(
    ("exc", "reason", "transient"),
    [
        (
            NatsAuthError("credentials rejected by nats://x: Authorization Violation"),
            "CredentialsRejected",
            True,
        ),
        (NatsUnavailable("timed out"), "NatsUnavailable", True),
        (
            JetStreamError(500, 10052, "stream configuration update can not change storage type"),
            "JetStreamError",
            True,
        ),
        (RuntimeError("boom"), "InternalError", True),
        (ReconcileFailure("InvalidSpec", "spec.maxAge: bad", transient=False), "InvalidSpec", False),
    ],
)
def test_as_failure(exc: Exception, reason: str, transient: bool) -> None:
    failure = as_failure(exc)
    assert failure.reason == reason
    assert failure.transient is transient
    assert failure.message
