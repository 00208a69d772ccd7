"""Transient JetStream API failures during stream/consumer setup are retried, others are not."""

from __future__ import annotations

import pytest
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import BadRequestError, ServiceUnavailableError

from adapter_runtime.streams import retry_transient

pytestmark = pytest.mark.unit


def _flaky(failures: list[Exception], result: str = "ok"):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    async def op() -> str:
        calls["n"] += 1
        if failures:
            raise failures.pop(0)
        return result

    return op, calls


@pytest.mark.parametrize("exc", [NatsTimeoutError(), NoRespondersError(), ServiceUnavailableError()])
async def test_transient_failures_are_retried_until_success(exc: Exception) -> None:
    op, calls = _flaky([exc, exc])
    assert await retry_transient(op, budget=5, what="t") == "ok"
    assert calls["n"] == 3


async def test_gives_up_with_the_last_error_when_the_budget_is_spent() -> None:
    op, calls = _flaky([NatsTimeoutError() for _ in range(100)])
    with pytest.raises(NatsTimeoutError):
        await retry_transient(op, budget=0.35, what="t")
    assert 2 <= calls["n"] < 10


async def test_a_real_error_is_not_retried() -> None:
    op, calls = _flaky([BadRequestError(description="bad config")])
    with pytest.raises(BadRequestError):
        await retry_transient(op, budget=5, what="t")
    assert calls["n"] == 1
