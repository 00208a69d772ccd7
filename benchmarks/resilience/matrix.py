"""The scenario matrix (`test_matrix.yaml`): a validated model; a bad matrix is ONE clear error.

Pure: loading reads a file, nothing else. Each problem names the scenario, the field path and why.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapter_runtime.settings import AdapterSettings, SettingsError

DEFAULT_MATRIX = Path(__file__).with_name("test_matrix.yaml")
MIN_MESSAGE_SIZE = 64  # the JSON envelope (index, timestamp) needs this much before padding
MIN_SCALED_COUNT = 20

ScenarioKind = Literal[
    "baseline_pubsub",
    "high_load_saturation",
    "broker_restart",
    "network_partition",
    "duplicate_msg_id",
    "compression_vs_batch_ack",
    "persistence_comparison",
]
FaultKind = Literal["none", "slow_consumer", "broker_kill", "broker_stop", "network_cut", "republish"]
SCENARIO_KINDS: tuple[str, ...] = get_args(ScenarioKind)

# which faults each scenario kind knows how to inject
SUPPORTED_FAULTS: dict[str, tuple[str, ...]] = {
    "baseline_pubsub": ("none",),
    "high_load_saturation": ("slow_consumer",),
    "broker_restart": ("broker_kill", "broker_stop"),
    "network_partition": ("network_cut",),
    "duplicate_msg_id": ("republish",),
    "compression_vs_batch_ack": ("none",),
    "persistence_comparison": ("broker_stop", "broker_kill"),
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class MatrixError(ValueError):
    """Invalid matrix; ``problems`` lists 'scenario <name>: <field>: <why>' lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid resilience matrix {source} ({len(problems)} problem(s)):\n{lines}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fault(_Strict):
    kind: FaultKind = "none"
    at_fraction: float = Field(
        default=0.25, ge=0, le=1, description="injected once this share of messages is published"
    )
    duration_s: float = Field(default=0.0, ge=0, description="how long the broker is down / the link is cut")
    handler_delay_ms: float = Field(default=0.0, ge=0, description="slow_consumer: time each handler takes")


class LoadProfile(_Strict):
    message_count: int = Field(gt=0)
    message_size: int = Field(ge=MIN_MESSAGE_SIZE, description="payload bytes (JSON, padded)")
    publish_rate: float = Field(ge=0, description="msgs/s; 0 = as fast as possible")


class Assertions(_Strict):
    """Thresholds (optional, >= 0); verdict.ASSERTION_METRICS says which figure each judges and how."""

    max_message_loss: float | None = Field(default=None, ge=0)
    max_latency_p50: float | None = Field(default=None, ge=0)
    max_latency_p95: float | None = Field(default=None, ge=0)
    max_latency_p99: float | None = Field(default=None, ge=0)
    min_throughput: float | None = Field(default=None, ge=0)
    max_recovery_s: float | None = Field(default=None, ge=0)
    min_reconnects: float | None = Field(default=None, ge=0)
    max_stored_duplicates: float | None = Field(default=None, ge=0)
    max_handler_redeliveries: float | None = Field(default=None, ge=0)
    min_duplicates_detected: float | None = Field(default=None, ge=0)
    max_rss_growth_mb: float | None = Field(default=None, ge=0)
    min_peak_backlog: float | None = Field(default=None, ge=0)
    min_compression_saving: float | None = Field(default=None, ge=0)
    max_persistence_overhead: float | None = Field(default=None, ge=0)
    min_file_retained: float | None = Field(default=None, ge=0)


class Variant(_Strict):
    name: str
    settings: dict[str, Any] = Field(default_factory=dict)
    message_size: int | None = Field(default=None, ge=MIN_MESSAGE_SIZE)


class Scenario(_Strict):
    name: str
    kind: ScenarioKind | None = Field(default=None, description="defaults to the name")
    description: str
    fault: Fault = Fault()
    load_profile: LoadProfile
    settings: dict[str, Any] = Field(default_factory=dict, description="adapter options for this scenario")
    variants: list[Variant] = Field(default_factory=list)
    repeat: int = Field(default=1, ge=1, description="variant scenarios: runs of every variant, interleaved")
    assertions: Assertions = Assertions()

    @property
    def effective_kind(self) -> str:
        return self.kind or self.name

    def assertion_thresholds(self) -> dict[str, float]:
        return {k: v for k, v in self.assertions.model_dump().items() if v is not None}

    def scaled(self, factor: float) -> Scenario:
        """The same scenario with message_count scaled (never below MIN_SCALED_COUNT)."""
        count = max(MIN_SCALED_COUNT, round(self.load_profile.message_count * factor))
        profile = self.load_profile.model_copy(update={"message_count": count})
        return self.model_copy(update={"load_profile": profile})


class Matrix(_Strict):
    settings: dict[str, Any] = Field(default_factory=dict, description="adapter options for every scenario")
    scenarios: list[Scenario]

    def adapter_options(self, scenario: Scenario, variant: Variant | None = None) -> dict[str, Any]:
        return {**self.settings, **scenario.settings, **(variant.settings if variant else {})}

    def select(self, names: list[str]) -> list[Scenario]:
        known = {s.name: s for s in self.scenarios}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise MatrixError(
                "--only", [f"unknown scenario {n!r}; known: {', '.join(known)}" for n in unknown]
            )
        return [known[n] for n in names]


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _errors(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        got = err.get("input")
        if err["type"] != "extra_forbidden" and isinstance(got, (str, int, float)):
            msg = f"{msg} (got {got!r})"
        out.append(f"{_loc(err['loc']) or '(top level)'}: {msg}")
    return out


def _settings_problems(options: dict[str, Any]) -> list[str]:
    try:
        AdapterSettings.from_options(**options)
    except SettingsError as exc:
        return [f"{name}: {why}" for name, why in exc.problems.items()]
    return []


def _scenario_problems(s: Scenario, matrix_settings: dict[str, Any]) -> list[str]:
    """Rules across fields: a fault the scenario can inject, variants it can compare, valid settings."""
    out: list[str] = []
    kind = s.effective_kind
    if kind not in SCENARIO_KINDS:
        return [f"name: {s.name!r} is not a scenario kind; set kind: to one of {', '.join(SCENARIO_KINDS)}"]
    supported = SUPPORTED_FAULTS[kind]
    if s.fault.kind not in supported:
        out.append(
            f"fault.kind: {s.fault.kind!r} is not supported by {kind} (supported: {', '.join(supported)})"
        )
    elif s.fault.kind in ("broker_kill", "network_cut") and s.fault.duration_s <= 0:
        out.append(f"fault.duration_s: must be > 0 for {s.fault.kind} (how long the fault lasts)")
    elif s.fault.kind == "slow_consumer" and s.fault.handler_delay_ms <= 0:
        out.append("fault.handler_delay_ms: must be > 0 for slow_consumer")
    # a settings problem is reported where it is introduced, not again by every scenario/variant inheriting it
    inherited = set(_settings_problems(matrix_settings))
    own = [p for p in _settings_problems({**matrix_settings, **s.settings}) if p not in inherited]
    out += [f"settings: {p}" for p in own]
    names = [v.name for v in s.variants]
    for i, v in enumerate(s.variants):
        if not _NAME.match(v.name):
            out.append(f"variants[{i}].name: {v.name!r} must be lower-case letters, digits and '_'")
        if names.count(v.name) > 1 and names.index(v.name) == i:
            out.append(f"variants[{i}].name: {v.name!r} is used twice")
        for p in _settings_problems({**matrix_settings, **s.settings, **v.settings}):
            if p not in inherited and p not in own:
                out.append(f"variants[{i}].settings: {p}")
    if out:
        return out
    if kind == "compression_vs_batch_ack":
        flags = {v.settings["enable_compression"] for v in s.variants if "enable_compression" in v.settings}
        if flags != {True, False}:
            out.append(
                "variants: needs one variant setting enable_compression: true and one setting it false"
            )
    if kind == "persistence_comparison":
        flags = {v.settings["durable"] for v in s.variants if "durable" in v.settings}
        if flags != {True, False}:
            out.append(
                "variants: needs one variant setting durable: true (file) and one setting it false (memory)"
            )
    return out


def parse_matrix(data: Any, source: str = "<matrix>") -> Matrix:
    """Validate loaded YAML; every problem of every scenario in ONE MatrixError."""
    if not isinstance(data, dict):
        raise MatrixError(
            source, [f"(top level): must be a mapping with 'scenarios', got {type(data).__name__}"]
        )
    raw = data.get("scenarios")
    if not isinstance(raw, list) or not raw:
        raise MatrixError(source, ["scenarios: must be a non-empty list of scenarios"])
    problems: list[str] = []
    top = {k: v for k, v in data.items() if k != "scenarios"}
    try:
        shell = Matrix.model_validate({**top, "scenarios": []})
    except ValidationError as exc:
        problems += _errors(exc)
        shell = Matrix(scenarios=[])
    problems += [f"settings: {p}" for p in _settings_problems(shell.settings)]
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        label = (
            f"scenario {item.get('name')!r}"
            if isinstance(item, dict) and item.get("name")
            else f"scenarios[{i}]"
        )
        try:
            s = Scenario.model_validate(item)
        except ValidationError as exc:
            problems += [f"{label}: {e}" for e in _errors(exc)]
            continue
        if s.name in seen:
            problems.append(f"{label}: name: used by an earlier scenario")
        seen.add(s.name)
        problems += [f"{label}: {p}" for p in _scenario_problems(s, shell.settings)]
        scenarios.append(s)
    if problems:
        raise MatrixError(source, problems)
    return shell.model_copy(update={"scenarios": scenarios})


def load_matrix(path: Path = DEFAULT_MATRIX) -> Matrix:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise MatrixError(str(path), [f"cannot read: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise MatrixError(str(path), [f"not valid YAML: {exc}"]) from None
    return parse_matrix(data, str(path))
