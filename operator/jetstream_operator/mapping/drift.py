"""Which desired config keys the server's actual config no longer matches.

Only what the spec sets is compared: keys the server adds or defaults (``name``, ``max_waiting``,
``_nats.*`` metadata, ...) are ignored. Lists NATS treats as sets are compared order-insensitively.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Keys whose list values NATS treats as unordered sets (sorted before comparing).
UNORDERED_LISTS = frozenset({"subjects", "filter_subjects", "tags", "sources", "priority_groups"})
# Metadata keys the server writes itself (version stamps); never drift.
SERVER_METADATA_PREFIX = "_nats."


def config_drift(desired: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Top-level keys of ``desired`` whose value differs on the server, in ``desired`` order."""
    if desired.get("backoff") and "ack_wait" in desired:
        # With a backoff the server replaces ack_wait by the first backoff step.
        desired = {**desired, "ack_wait": desired["backoff"][0]}
    return [key for key, want in desired.items() if not _matches(key, want, actual.get(key))]


def _matches(key: str, want: Any, have: Any) -> bool:
    if have is None:
        # The server omits empty values (Go omitempty): absent equals false/0/""/[]/{}.
        return not want
    if key == "metadata" and isinstance(want, Mapping):
        have = {k: v for k, v in (have or {}).items() if not k.startswith(SERVER_METADATA_PREFIX)}
        return dict(want) == have
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            return False
        return all(_matches(k, v, have.get(k)) for k, v in want.items())
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return False
        if key in UNORDERED_LISTS:
            want, have = sorted(want, key=_sort_key), sorted(have, key=_sort_key)
        return all(_matches(key, w, h) for w, h in zip(want, have, strict=True))
    if isinstance(want, bool) or isinstance(have, bool):
        return isinstance(want, bool) and isinstance(have, bool) and want is have
    return bool(want == have)


def _sort_key(value: Any) -> str:
    # Desired entries are subsets of the server's, so sort sources/mirrors by identity, not content.
    if isinstance(value, Mapping) and "name" in value:
        return json.dumps([value["name"], value.get("filter_subject") or ""])
    return json.dumps(value, sort_keys=True, default=str)
