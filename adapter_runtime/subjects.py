"""Subject arithmetic (pure): wildcard matching and consumer-name derivation."""

from __future__ import annotations

import hashlib
import re


def covers(pattern: str, subject: str) -> bool:
    """True when every subject matched by ``subject`` (itself possibly a wildcard) matches ``pattern``."""
    p, s = pattern.split("."), subject.split(".")
    for i, tok in enumerate(p):
        if tok == ">":
            return len(s) > i
        if i >= len(s):
            return False
        if s[i] == ">":
            return False
        if tok != "*" and tok != s[i]:
            return False
        if tok != "*" and s[i] == "*":
            return False
    return len(p) == len(s)


def any_covers(patterns: list[str], subject: str) -> bool:
    return any(covers(p, subject) for p in patterns)


def durable_name_for(subject: str) -> str:
    """A stable consumer name for a subject: readable part plus a short hash (names allow no '.')."""
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", subject.replace("*", "any").replace(">", "all"))[:48]
    digest = hashlib.sha1(subject.encode()).hexdigest()[:8]
    return f"seam_{readable}_{digest}"
