"""A consumer with a backoff never shows ack_wait drift: the server replaces it by backoff[0]."""

import pytest
from jetstream_operator.mapping.drift import config_drift

pytestmark = pytest.mark.unit

S = 1_000_000_000


def test_ack_wait_compared_with_first_backoff_step() -> None:
    desired = {"durable_name": "w", "ack_wait": 30 * S, "backoff": [1 * S, 5 * S]}
    server = {"durable_name": "w", "ack_wait": 1 * S, "backoff": [1 * S, 5 * S]}
    assert config_drift(desired, server) == []
    assert config_drift(desired, {**server, "ack_wait": 30 * S}) == ["ack_wait"]


def test_ack_wait_without_backoff_is_compared_as_is() -> None:
    assert config_drift({"ack_wait": 30 * S}, {"ack_wait": 1 * S}) == ["ack_wait"]
