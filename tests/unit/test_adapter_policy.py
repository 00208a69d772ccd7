"""Pure policies: redelivery/dead-letter decisions, subject coverage, names, reconnect jitter,
consumer config mapping."""

from __future__ import annotations

import random

import pytest

from adapter_runtime.connection import JitteredReconnect, connect_kwargs
from adapter_runtime.delivery import Outcome, after_failure, nak_delay
from adapter_runtime.settings import AdapterSettings
from adapter_runtime.streams import consumer_config
from adapter_runtime.subjects import covers, durable_name_for

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("delivered", "max_deliver", "outcome"),
    [
        (1, 10, Outcome.NAK),
        (9, 10, Outcome.NAK),
        (10, 10, Outcome.DEAD_LETTER),
        (11, 10, Outcome.DEAD_LETTER),
        (1, 1, Outcome.DEAD_LETTER),
    ],
)
def test_after_failure(delivered: int, max_deliver: int, outcome: Outcome) -> None:
    assert after_failure(delivered, max_deliver) is outcome


@pytest.mark.parametrize(
    ("delivered", "base", "cap", "delay"),
    [
        (1, 1.0, 60, 1.0),
        (2, 1.0, 60, 2.0),
        (4, 1.0, 60, 8.0),
        (10, 1.0, 60, 60.0),
        (3, 0.0, 60, 0.0),
        (1000, 0.5, 30, 30.0),
    ],
)
def test_nak_delay(delivered: int, base: float, cap: float, delay: float) -> None:
    assert nak_delay(delivered, base, cap) == delay


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("a.>", "a.b", True),
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        ("a.*", "a.b", True),
        ("a.*", "a.b.c", False),
        ("a.*", "a.*", True),
        ("a.b", "a.*", False),
        ("a.>", "a.*", True),
        ("a.*", "a.>", False),
        (">", "x.y", True),
        ("a.b", "a.b", True),
        ("a.b", "a.c", False),
        ("a.b.c", "a.b", False),
    ],
)
def test_covers(pattern: str, subject: str, expected: bool) -> None:
    assert covers(pattern, subject) is expected


def test_durable_name_is_stable_and_valid() -> None:
    a = durable_name_for("orders.*.created")
    assert a == durable_name_for("orders.*.created")
    assert a != durable_name_for("orders.>.created")
    assert not set(a) & set(".*> ")
    AdapterSettings.from_options(consumer_name=a)  # passes the name rules


def test_jittered_reconnect_delay_bounds_and_rotation() -> None:
    s = AdapterSettings.from_options(reconnect_wait=2.0, reconnect_jitter=0.5, reconnect_jitter_tls=3.0)
    r = JitteredReconnect(s, random.Random(1))
    delays = [r.delay() for _ in range(200)]
    assert all(2.0 <= d <= 2.5 for d in delays) and len(set(delays)) > 100
    assert [r(["a", "b", "c"], {})[0] for _ in range(4)] == ["a", "b", "c", "a"]
    tls = JitteredReconnect(AdapterSettings.from_options(server_urls=["tls://h:1"], reconnect_jitter_tls=3.0))
    assert max(tls.delay() for _ in range(200)) > 1.5


def test_connect_kwargs_reads_credentials(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pw = tmp_path / "pw"
    pw.write_text("hunter2\n")
    kw = connect_kwargs(
        AdapterSettings.from_options(user="bob", password_file=pw, max_reconnects=-1, connect_timeout=3),
        "c1",
    )
    assert kw["user"] == "bob" and kw["password"] == "hunter2"
    assert kw["max_reconnect_attempts"] == -1 and kw["connect_timeout"] == 3 and kw["name"] == "c1"
    assert "tls" not in kw


def test_consumer_config_mapping() -> None:
    s = AdapterSettings.from_options(ack_wait=12, max_ack_pending=50, batch_size=10, deliver_policy="new")
    c = consumer_config(s, "c1", "orders.>")
    assert c.durable_name == "c1" and c.filter_subject == "orders.>"
    assert c.ack_wait == 12 and c.max_ack_pending == 50 and c.deliver_policy.value == "new"
    assert c.ack_policy.value == "explicit"
    assert c.max_deliver == -1  # the runtime, not the server, decides when to dead-letter
    eph = consumer_config(AdapterSettings.from_options(durable=False), "c2", "x")
    assert eph.durable_name is None and eph.inactive_threshold and eph.inactive_threshold > 0


@pytest.mark.parametrize("subject", ["", "a b", "a\r\nPUB x 1", "a..b", ".a", "a.", "tab\there"])
def test_check_subject_rejects_protocol_breaking_subjects(subject: str) -> None:
    from adapter_runtime.connection import BadSubjectError, check_subject

    with pytest.raises(BadSubjectError, match="invalid subject"):
        check_subject(subject)


def test_check_subject_accepts_normal_subjects() -> None:
    from adapter_runtime.connection import check_subject

    assert check_subject("orders.created.eu-1") == "orders.created.eu-1"
    assert check_subject("_INBOX.abc.1") == "_INBOX.abc.1"
