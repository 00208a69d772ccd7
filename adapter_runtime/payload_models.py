"""Typed payloads: a handler whose ``data`` parameter is annotated with a pydantic model gets one.

FastStream users expect ``async def on_order(subject, data: Order)`` to receive a validated
``Order``; a payload that does not fit is not a transient failure (redelivery cannot fix it), so
the consumer dead-letters it at once with a reason naming each bad field, as it does for an
undecodable payload. Publishing a model sends its JSON (``payload.encode``).

Pure: the model is found once, at ``subscribe()``, from the handler's annotations.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError


class PayloadModelError(ValueError):
    """A decoded payload that does not validate against the handler's model."""


def payload_model(handler: Callable[..., Any]) -> type[BaseModel] | None:
    """The pydantic model the handler's second parameter (``data``) is annotated with, else None.

    Works for sync and async functions, bound methods, callable objects and functools.partial,
    and with ``from __future__ import annotations``. An annotation that is not a BaseModel
    subclass (dict, bytes, Any, none) means "hand over the decoded value as is".
    """
    target: Any = handler
    while isinstance(target, functools.partial):
        target = target.func
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        target = type(target).__call__  # a callable object: annotations live on its class's __call__
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return None
    if len(params) < 2:
        return None
    name = params[1].name
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # unresolvable forward references: no model rather than a failed subscribe
        return None
    hint = hints.get(name)
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return hint
    return None


def to_model(model: type[BaseModel], data: Any) -> BaseModel:
    """Validate decoded data (a dict from JSON, or str/bytes holding JSON) into ``model``."""
    try:
        if isinstance(data, (bytes, str)):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadModelError(describe(model, exc)) from None


def describe(model: type[BaseModel], exc: ValidationError) -> str:
    """'payload does not match Order: qty: Input should be a valid integer; ...' without the input
    values (the payload itself goes to the dead-letter subject, not into headers or logs)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in err.get("loc", ())) or "(payload)"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return f"payload does not match {model.__name__}: {'; '.join(parts)}"
