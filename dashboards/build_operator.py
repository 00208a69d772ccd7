"""Generates ``dashboards/operator.json`` (``python -m dashboards.build_operator [--check]``).

The operator's Grafana dashboard, kept as code like the adapter's (``dashboards/build.py``, whose
panel and layout helpers it reuses) and checked against the operator's metric names in the unit
tests. The metrics are documented in docs/operator.md#metrics.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboards.build import (
    RATE,
    dashboard_document,
    datasource_variable,
    query_variable,
    target,
    timeseries,
    write_or_check,
)

OUTPUT = Path(__file__).with_name("operator.json")
UID = "seam-jetstream-operator"
PREFIX = "seam_operator"
ANCHOR = f"{PREFIX}_reconcile_total"  # exported from startup on, by every replica

# Grafana unit ids.
PER_SEC = "ops"
SECONDS = "s"
RATIO = "percentunit"
COUNT = "short"


def selector(metric: str, *extra: str) -> str:
    """``metric{...}`` filtered by the dashboard variables (the operator pods' own labels)."""
    labels = [*extra, 'namespace=~"$namespace"', 'pod=~"$pod"']
    return f"{metric}{{{', '.join(labels)}}}"


def per_second(metric: str, by: str, *extra: str) -> str:
    return f"sum by ({by}) (rate({selector(metric, *extra)}[{RATE}]))"


def rows() -> list[tuple[str, list[dict[str, Any]]]]:
    """(row title, panels) in display order."""
    reconciles = f"{PREFIX}_reconcile_total"
    errors = per_second(reconciles, "kind", 'result="error"')
    buckets = selector(f"{PREFIX}_reconcile_duration_seconds_bucket")
    quantiles = [
        target(
            chr(ord("A") + i),
            f"histogram_quantile({q}, sum by (le, kind) (rate({buckets}[{RATE}])))",
            f"p{round(q * 100)} {{{{kind}}}}",
        )
        for i, q in enumerate((0.5, 0.95, 0.99))
    ]
    return [
        (
            "Reconciles",
            [
                timeseries(
                    "Reconcile rate",
                    "seam_operator_reconcile_total: reconciles per second by kind and result "
                    "(ready, not_ready, error).",
                    PER_SEC,
                    [target("A", per_second(reconciles, "kind, result"), "{{kind}} {{result}}")],
                    w=8,
                ),
                timeseries(
                    "Error ratio",
                    "Share of reconciles that failed (NATS unreachable, rejected config, ...); the "
                    "reason is in each resource's status and Events.",
                    RATIO,
                    [
                        target(
                            "A",
                            f"{errors} / {per_second(reconciles, 'kind')}",
                            "{{kind}}",
                        )
                    ],
                    w=8,
                ),
                timeseries(
                    "Reconcile duration",
                    "seam_operator_reconcile_duration_seconds: one reconcile including NATS requests, "
                    "status patch and Events.",
                    SECONDS,
                    quantiles,
                    w=8,
                ),
            ],
        ),
        (
            "State",
            [
                timeseries(
                    "Resources by Ready",
                    "seam_operator_resources: tracked resources by kind and Ready state (max over the "
                    "replicas: the active one tracks them all).",
                    COUNT,
                    [
                        target(
                            "A",
                            f"max by (kind, ready) ({selector(f'{PREFIX}_resources')})",
                            "{{kind}} ready={{ready}}",
                        )
                    ],
                ),
                timeseries(
                    "NATS connections",
                    "seam_operator_nats_connections: pooled connections per replica (one per distinct "
                    "connection config).",
                    COUNT,
                    [
                        target(
                            "A",
                            f"max by (pod) ({selector(f'{PREFIX}_nats_connections')})",
                            "{{pod}}",
                        )
                    ],
                ),
            ],
        ),
        (
            "Drift",
            [
                timeseries(
                    "Drift repairs",
                    "seam_operator_drift_repairs_total: out-of-band changes undone in each interval, "
                    "by trigger (event: advisory or dependency; periodic: resync timer, i.e. an "
                    "advisory was missed).",
                    COUNT,
                    [
                        target(
                            "A",
                            f"sum by (kind, trigger) "
                            f"(increase({selector(f'{PREFIX}_drift_repairs_total')}[{RATE}]))",
                            "{{kind}} {{trigger}}",
                        )
                    ],
                ),
                timeseries(
                    "Advisories",
                    "seam_operator_advisories_total: JetStream advisories received per second (the "
                    "operator's own changes included).",
                    PER_SEC,
                    [target("A", per_second(f"{PREFIX}_advisories_total", "event"), "{{event}}")],
                ),
            ],
        ),
    ]


def variables() -> list[dict[str, Any]]:
    return [
        datasource_variable(),
        query_variable("namespace", "Namespace", f"label_values({ANCHOR}, namespace)"),
        query_variable("pod", "Pod", f'label_values({ANCHOR}{{namespace=~"$namespace"}}, pod)'),
    ]


def dashboard() -> dict[str, Any]:
    return dashboard_document(
        UID,
        "JetStream operator",
        "seam-jetstream operator: reconciles, errors, durations, resources by Ready, "
        "drift repairs, advisories, NATS connections (docs/operator.md#metrics).",
        ["nats", "jetstream", "seam", "operator"],
        variables(),
        rows(),
    )


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    return write_or_check(argv, "dashboards.build_operator", __doc__, OUTPUT, render())


if __name__ == "__main__":
    raise SystemExit(main())
