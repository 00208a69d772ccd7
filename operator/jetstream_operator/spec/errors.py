"""One error type for every invalid custom resource spec.

The operator turns a SpecError into Ready=False with reason InvalidSpec, so its text must name each
bad field (camelCase path as the user wrote it, e.g. ``spec.sources[0].name``) and say why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
# Error type for inputs that may hold a secret: the reason never quotes the input.
NO_ECHO = "no_echo"


class SpecError(ValueError):
    """Invalid spec. ``field``/``reason`` are the first problem; ``problems`` holds all of them."""

    def __init__(self, field: str, reason: str, *, more: Iterable[tuple[str, str]] = ()) -> None:
        self.problems: list[tuple[str, str]] = [(field, reason), *more]
        self.field = field
        self.reason = reason
        super().__init__("; ".join(f"{f}: {r}" for f, r in self.problems))

    @classmethod
    def of(cls, problems: Iterable[tuple[str, str]]) -> SpecError:
        items = list(problems)
        if not items:
            raise ValueError("SpecError.of needs at least one problem")
        (field, reason), *rest = items
        return cls(field, reason, more=rest)


class CrossFieldProblems(ValueError):
    """Raised inside a model validator: maps a field relative to that model to a reason."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


def check(problems: dict[str, str]) -> None:
    """Raise the collected cross-field problems of one model, if any."""
    if problems:
        raise CrossFieldProblems(problems)


def field_path(prefix: str, loc: Iterable[Any]) -> str:
    """``("sources", 0, "name")`` -> ``spec.sources[0].name``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _reason(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    if kind == NO_ECHO:
        return str(err["msg"])
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown field"
    msg = str(err["msg"]).removeprefix("Value error, ")
    got = err.get("input")
    if isinstance(got, (str, int, float)) and not isinstance(got, bool) and repr(got) not in msg:
        msg = f"{msg} (got {got!r})"
    return msg


def validate_model(model: type[M], data: Any, prefix: str = "spec") -> M:
    """Validate ``data`` into ``model``; every problem becomes part of ONE SpecError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems: list[tuple[str, str]] = []
        for err in exc.errors():
            loc = list(err["loc"])
            ctx_err = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_err, CrossFieldProblems):
                for rel, why in ctx_err.problems.items():
                    problems.append((field_path(field_path(prefix, loc), [rel]), why))
                continue
            # Annotated/union validators add their own loc entries (e.g. "function-after[...]").
            loc = [p for p in loc if isinstance(p, int) or not str(p).startswith(("function-", "union["))]
            problems.append((field_path(prefix, loc), _reason(err)))
        raise SpecError.of(problems) from None
