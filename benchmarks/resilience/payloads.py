"""Message bodies of a given JSON size (pure): padded envelopes, or realistic compressible records."""

from __future__ import annotations

import json
import random
import time
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=32)
def _pad(size: int) -> str:
    # envelope with a 7-digit index and a 19-digit timestamp; the pad makes up the rest
    bare = len(json.dumps({"i": 1000000, "t": 10**18, "pad": ""}))
    return "x" * max(0, size - bare)


@lru_cache(maxsize=32)
def _records(size: int) -> tuple[dict[str, Any], ...]:
    """Sensor-style records: repetitive keys and enum values like real JSON payloads, but readings,
    timestamps and ids vary (seeded, so every run sends the same bytes)."""
    rng = random.Random(size)
    out: list[dict[str, Any]] = []
    ts = 1_764_000_000_000
    while len(json.dumps(out)) < size - 48:
        ts += rng.randint(5, 1500)
        out.append(
            {
                "id": f"{rng.getrandbits(64):016x}",
                "sensor": f"sensor-{rng.randint(0, 63):02d}",
                "site": rng.choice(("plant-a", "plant-b", "warehouse-3")),
                "status": "degraded" if rng.random() < 0.1 else "ok",
                "ts": ts,
                "reading": round(rng.uniform(-20, 80), 3),
                "unit": "celsius",
            }
        )
    return tuple(out)


def padded(i: int, size: int) -> dict[str, Any]:
    """~size bytes of JSON carrying the index and the publish time (perf_counter ns, same process)."""
    return {"i": i, "t": time.perf_counter_ns(), "pad": _pad(size)}


def records(i: int, size: int) -> dict[str, Any]:
    """~size bytes of compressible JSON records, plus the index and publish time."""
    return {"i": i, "t": time.perf_counter_ns(), "records": list(_records(size))}
