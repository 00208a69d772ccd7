"""Typed handlers against a real nats-server: models in, models out, misfits dead-lettered at once."""

from __future__ import annotations

import json
from typing import Any

import nats
import pytest
from pydantic import BaseModel

from adapter_runtime import NatsClient, NatsServer, headers
from tests.integration.adapter_options import adapter_options
from tests.integration.waiting import wait_for

pytestmark = pytest.mark.integration


class Line(BaseModel):
    sku: str
    qty: int


class Order(BaseModel):
    order_id: str
    lines: list[Line]


class Receipt(BaseModel):
    order_id: str
    items: int


async def test_a_typed_handler_gets_the_model_and_its_returned_model_is_the_reply(nats_url: str) -> None:
    seen: list[Any] = []

    async def on_order(subject: str, data: Order, reply_to: str | None = None) -> Receipt:
        seen.append(data)
        return Receipt(order_id=data.order_id, items=sum(line.qty for line in data.lines))

    async with (
        NatsClient(**adapter_options(nats_url)) as client,
        NatsServer(**adapter_options(nats_url)) as server,
    ):
        await server.subscribe("orders.typed", on_order)
        await client.publish("orders.typed", Order(order_id="o-1", lines=[Line(sku="a", qty=2)]))
        reply = await client.request(
            "orders.typed",
            {"order_id": "o-2", "lines": [{"sku": "b", "qty": 3}, {"sku": "c", "qty": 4}]},
            reply_timeout=10,
        )
        await wait_for(lambda: server.stats["acked"] == 2, 15, "both acked")
    assert [type(o) for o in seen] == [Order, Order]
    assert seen[0] == Order(order_id="o-1", lines=[Line(sku="a", qty=2)])
    assert reply == {"order_id": "o-2", "items": 7}  # a model reply travels as JSON


async def test_a_payload_that_does_not_fit_the_model_is_dead_lettered_at_once(nats_url: str) -> None:
    calls = 0

    async def on_order(subject: str, data: Order, reply_to: str | None = None) -> None:
        nonlocal calls
        calls += 1

    opts = adapter_options(nats_url, max_deliver=5)
    async with NatsClient(**opts) as client, NatsServer(**opts) as server:
        await server.subscribe("orders.typed", on_order)
        await client.publish("orders.typed", {"order_id": "o-9", "lines": [{"sku": "a", "qty": "lots"}]})
        await client.publish("orders.typed", {"order_id": "o-10", "lines": []})
        await wait_for(lambda: server.stats["dead_lettered"] == 1 and calls == 1, 15, "dead letter")
        stats = server.stats
    assert stats["redelivered"] == 0 and stats["nak"] == 0  # no retry: redelivery cannot fix it
    nc = await nats.connect(nats_url)
    try:
        dead = await nc.jetstream().get_msg("SEAM_DLQ", 1)
    finally:
        await nc.close()
    assert json.loads(dead.data) == {"order_id": "o-9", "lines": [{"sku": "a", "qty": "lots"}]}
    reason = (dead.headers or {})[headers.DLQ_REASON]
    assert reason == (
        "payload does not match Order: lines.0.qty: "
        "Input should be a valid integer, unable to parse string as an integer"
    )
    assert "lots" not in reason
