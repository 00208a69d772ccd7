"""Just enough PromQL reading to check dashboard queries against scraped samples.

No Prometheus server is available to the tests, so this reads the parts of a query that decide
*which series* it touches: vector selectors (``name{label=~"re", ...}``), ``by (...)`` groupings and
``label_values(selector, label)`` variable queries, plus Grafana's variable substitution and
``histogram_quantile`` over one set of cumulative buckets. It is not a PromQL evaluator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_IDENT = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_SELECTOR = re.compile(rf"({_IDENT})?\s*\{{([^}}]*)\}}")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", re.S)

# Words a dashboard query may contain outside selectors and groupings.
PROMQL_WORDS = frozenset(
    {"sum", "max", "min", "avg", "count", "rate", "irate", "increase", "histogram_quantile", "by"}
)


class PromQLReadError(ValueError):
    """The query uses syntax this reader does not understand (so a check would be meaningless)."""


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        """PromQL semantics: regexes are fully anchored, a missing label is the empty string."""
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None
        return hit if self.op == "=~" else not hit


@dataclass(frozen=True)
class Selector:
    metric: str | None
    matchers: tuple[Matcher, ...]

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        if self.metric is not None and name != self.metric:
            return False
        return all(m.matches({**labels, "__name__": name}) for m in self.matchers)

    def label_ops(self) -> dict[str, str]:
        return {m.label: m.op for m in self.matchers}


def _unquote(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw)


def _matchers(body: str) -> tuple[Matcher, ...]:
    out: list[Matcher] = []
    pos = 0
    body = body.strip()
    while pos < len(body):
        m = _MATCHER.match(body, pos)
        if m is None:
            raise PromQLReadError(f"cannot read label matchers {body!r} at offset {pos}")
        out.append(Matcher(m.group(1), m.group(2), _unquote(m.group(3))))
        pos = m.end()
    return tuple(out)


def selectors(expr: str) -> list[Selector]:
    """Every vector selector written with braces (dashboard queries always filter, so always braces)."""
    return [Selector(m.group(1), _matchers(m.group(2))) for m in _SELECTOR.finditer(expr)]


def grouping_labels(expr: str) -> set[str]:
    """Labels named in ``by (...)`` / ``without (...)`` clauses."""
    return {lbl.strip() for g in _GROUPING.findall(expr) for lbl in g.split(",") if lbl.strip()}


def bare_words(expr: str) -> set[str]:
    """Identifiers outside selectors, ranges, strings and groupings: functions, or a bare metric name."""
    rest = _SELECTOR.sub(" ", expr)
    rest = re.sub(r"\[[^\]]*\]", " ", rest)
    rest = re.sub(r'"(?:[^"\\]|\\.)*"', " ", rest)
    rest = _GROUPING.sub(" by ", rest)
    rest = re.sub(r"\b\d+(?:\.\d+)?\b", " ", rest)
    return set(re.findall(_IDENT, rest))


def label_values_query(query: str) -> tuple[Selector, str]:
    """``label_values(selector, label)`` -> (selector, label)."""
    m = _LABEL_VALUES.match(query)
    if m is None:
        raise PromQLReadError(f"not a label_values(selector, label) query: {query!r}")
    sels = selectors(m.group(1))
    if len(sels) != 1:
        raise PromQLReadError(f"label_values needs exactly one selector: {query!r}")
    return sels[0], m.group(2)


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """Grafana-style ``$var`` substitution (values given already formatted, e.g. ``.*`` for All)."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise PromQLReadError(f"no value for variable ${name} in {expr!r}")
        return values[name]

    return re.sub(r"\$(\w+)", repl, expr)


def regex_value(chosen: Iterable[str]) -> str:
    """How Grafana renders a multi-value selection inside ``=~"..."``: ``(a|b)``, one value as is."""
    vals = [re.escape(v).replace("\\", "\\\\") for v in chosen]
    return vals[0] if len(vals) == 1 else "(" + "|".join(vals) + ")"


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float:
    """Prometheus' interpolation over cumulative buckets (upper bound -> count, +Inf included)."""
    bounds = sorted(buckets)
    if not bounds or not math.isinf(bounds[-1]):
        raise ValueError("histogram needs a +Inf bucket")
    total = buckets[bounds[-1]]
    if total == 0:
        return math.nan
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return prev_bound  # the highest finite bound, as Prometheus does
            if bound == bounds[0] and bound <= 0:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound
