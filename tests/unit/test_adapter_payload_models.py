"""Typed payloads: which handlers get a model, how a bad payload is described, models as payloads."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from pydantic import BaseModel

from adapter_runtime import payload
from adapter_runtime.payload_models import PayloadModelError, payload_model, to_model

pytestmark = pytest.mark.unit


class Line(BaseModel):
    sku: str
    qty: int


class Order(BaseModel):
    order_id: str
    lines: list[Line]


async def typed_async(subject: str, data: Order, reply_to: str | None = None) -> None: ...
def typed_sync(subject: str, data: Order, reply_to: str | None = None) -> None: ...
async def untyped(subject, data, reply_to=None): ...  # type: ignore[no-untyped-def]
async def as_dict(subject: str, data: dict[str, Any], reply_to: str | None = None) -> None: ...
async def as_bytes(subject: str, data: bytes, reply_to: str | None = None) -> None: ...
async def as_any(subject: str, data: Any, reply_to: str | None = None) -> None: ...
async def too_few(subject: str) -> None: ...
async def with_extra(flag: bool, subject: str, data: Order, reply_to: str | None = None) -> None: ...


class Handlers:
    async def method(self, subject: str, data: Order, reply_to: str | None = None) -> None: ...

    async def __call__(self, subject: str, data: Order, reply_to: str | None = None) -> None: ...


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (typed_async, Order),
        (typed_sync, Order),
        (Handlers().method, Order),
        (Handlers(), Order),
        (functools.partial(with_extra, True), Order),
        (untyped, None),
        (as_dict, None),
        (as_bytes, None),
        (as_any, None),
        (too_few, None),
        (lambda subject, data, reply_to=None: None, None),
    ],
    ids=[
        "async",
        "sync",
        "method",
        "callable-object",
        "partial",
        "untyped",
        "dict",
        "bytes",
        "any",
        "one-param",
        "lambda",
    ],
)
def test_payload_model_is_found_from_the_data_annotation(handler: Any, expected: type | None) -> None:
    assert payload_model(handler) is expected


def test_unresolvable_annotation_means_no_model_rather_than_a_failed_subscribe() -> None:
    async def handler(subject: str, data: NotDefinedAnywhere) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    assert payload_model(handler) is None


@pytest.mark.parametrize(
    "data",
    [
        {"order_id": "o-1", "lines": [{"sku": "a", "qty": 2}]},
        b'{"order_id": "o-1", "lines": [{"sku": "a", "qty": 2}]}',
        '{"order_id": "o-1", "lines": [{"sku": "a", "qty": "2"}]}',  # lax mode: "2" -> 2
    ],
    ids=["dict", "bytes", "str"],
)
def test_to_model_validates_decoded_payloads(data: Any) -> None:
    assert to_model(Order, data) == Order(order_id="o-1", lines=[Line(sku="a", qty=2)])


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"lines": []}, "payload does not match Order: order_id: Field required"),
        (
            {"order_id": "o-1", "lines": [{"sku": "a", "qty": "many"}]},
            "payload does not match Order: lines.0.qty: Input should be a valid integer",
        ),
        (b"not json", "payload does not match Order: (payload): Invalid JSON"),
        ([1, 2], "payload does not match Order: (payload): Input should be a valid dictionary"),
    ],
    ids=["missing-field", "nested-type", "not-json", "wrong-shape"],
)
def test_a_payload_that_does_not_fit_names_each_bad_field(data: Any, expected: str) -> None:
    with pytest.raises(PayloadModelError) as info:
        to_model(Order, data)
    assert str(info.value).startswith(expected)


def test_the_error_never_quotes_the_payload() -> None:
    with pytest.raises(PayloadModelError) as info:
        to_model(Order, {"order_id": "o-1", "lines": [{"sku": "a", "qty": "secret-value-42"}]})
    assert "secret-value-42" not in str(info.value)


def test_a_model_is_published_as_json_and_decodes_back_into_it() -> None:
    order = Order(order_id="o-1", lines=[Line(sku="a", qty=2)])
    raw, ctype = payload.encode(order)
    assert ctype == payload.JSON
    assert to_model(Order, payload.decode(raw, ctype)) == order


def test_other_objects_are_still_refused_naming_what_is_accepted() -> None:
    with pytest.raises(payload.PayloadError, match="dict, list, str, bytes or a pydantic model, got object"):
        payload.encode(object())
