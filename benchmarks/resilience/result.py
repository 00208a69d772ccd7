"""What one scenario run measured (plain data shared by the runner, the report and the JSON dump)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.resilience.verdict import VerdictRow


@dataclass
class ScenarioResult:
    name: str
    description: str
    fault: str  # how the fault was injected, in words
    load: dict[str, Any]  # the (scaled) load profile
    settings: dict[str, Any]  # adapter options that differ from the runtime defaults
    measured: dict[str, float | None] = field(default_factory=dict)
    variants: list[dict[str, Any]] = field(default_factory=list)  # one row per variant, if any
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    rows: list[VerdictRow] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["rows"] = [{**asdict(r), "verdict": r.verdict} for r in self.rows]
        return out
