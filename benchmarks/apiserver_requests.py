"""Count the requests the apiserver served during a run, from its `apiserver_request_total` metric (pure).

Each side runs alone on the control plane, so the difference between two scrapes is that
side's controller plus the benchmark's own apply and watches: it shows how much API traffic a
controller generates per object, which is what slows a shared apiserver.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

METRIC = "apiserver_request_total"
_LINE = re.compile(r"^" + METRIC + r"\{(?P<labels>[^}]*)\}\s+(?P<value>[0-9.eE+-]+)\s*$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

RequestKey = tuple[str, str, str]  # (verb, resource[/subresource], group)


def parse_request_totals(text: str) -> Counter[RequestKey]:
    """Sum of apiserver_request_total per (verb, resource[/subresource], group), over all codes."""
    out: Counter[RequestKey] = Counter()
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        labels = dict(_LABEL.findall(m.group("labels")))
        resource = labels.get("resource", "")
        if labels.get("subresource"):
            resource += "/" + labels["subresource"]
        out[(labels.get("verb", ""), resource, labels.get("group", ""))] += int(float(m.group("value")))
    return out


def request_delta(before: Mapping[RequestKey, int], after: Mapping[RequestKey, int]) -> Counter[RequestKey]:
    """Requests served between two scrapes (counters only grow; keys absent before count from 0)."""
    delta: Counter[RequestKey] = Counter()
    for key, value in after.items():
        diff = value - before.get(key, 0)
        if diff > 0:
            delta[key] = diff
    return delta


def interesting(delta: Mapping[RequestKey, int], groups: tuple[str, ...]) -> Counter[RequestKey]:
    """Only the custom resources of `groups` and core Events: what the controllers write."""
    return Counter(
        {k: v for k, v in delta.items() if k[2] in groups or (k[2] == "" and k[1].startswith("events"))}
    )


def summarise(delta: Mapping[RequestKey, int], per: int) -> str:
    """`PATCH streams/status 500 (1.0/object), ...` sorted by count."""
    parts = []
    for (verb, resource, _group), count in sorted(delta.items(), key=lambda kv: (-kv[1], kv[0])):
        parts.append(f"{verb} {resource} {count} ({count / per:.1f}/object)")
    return ", ".join(parts) if parts else "none"
