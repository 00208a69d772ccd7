"""Generates ``dashboards/nats_adapter.json`` (``python -m dashboards.build [--check]``).

The dashboard is kept as code so every query is built from the same filter and the JSON can be
checked against this generator in the unit tests; the committed JSON is what users import.
Prometheus names follow the adapter's exposition (docs/adapter.md): dots become ``_``, counters
end in ``_total``, histograms in ``_milliseconds_bucket``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("nats_adapter.json")
UID = "seam-nats-adapter"
DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"

# Counters are exported once non-zero, so the variables list a pod by any series it may have:
# publishers once they publish (or fail to), consumers once they consume or poll their backlog (the
# gauge is there even while idle), any pod after a reconnect.
PUBLISHER_SIDE = "nats_messages_published_total"
CONSUMER_SIDE = ("nats_messages_consumed_total", "nats_consumer_backlog")
ANY_SIDE = (PUBLISHER_SIDE, "nats_publish_errors_total", *CONSUMER_SIDE, "nats_client_reconnects_total")

# Grafana unit ids.
MSG_PER_SEC = "mps"  # msg/s
MS = "ms"
COUNT = "short"


def selector(metric: str, *, consumer: bool = False) -> str:
    """``metric{...}`` filtered by the dashboard variables; only consumer series have ``consumer``."""
    labels = ['namespace=~"$namespace"', 'stream=~"$stream"', 'pod=~"$pod"']
    if consumer:
        labels.append('consumer=~"$consumer"')
    return f"{metric}{{{', '.join(labels)}}}"


def per_second(metric: str, by: str, *, consumer: bool = False) -> str:
    return f"sum by ({by}) (rate({selector(metric, consumer=consumer)}[{RATE}]))"


def quantile(q: float, histogram: str, *, consumer: bool = False) -> str:
    bucket = selector(f"{histogram}_milliseconds_bucket", consumer=consumer)
    return f"histogram_quantile({q}, sum by (le) (rate({bucket}[{RATE}])))"


def target(ref: str, expr: str, legend: str) -> dict[str, Any]:
    return {"datasource": DS, "refId": ref, "expr": expr, "legendFormat": legend, "range": True}


def timeseries(
    title: str, description: str, unit: str, targets: list[dict[str, Any]], w: int = 12
) -> dict[str, Any]:
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DS,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "min": 0,
                "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never"},
            },
            "overrides": [],
        },
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": targets,
        "gridPos": {"h": 8, "w": w, "x": 0, "y": 0},
    }


def quantile_panel(
    title: str, description: str, histogram: str, qs: tuple[float, ...], *, consumer: bool = False
) -> dict[str, Any]:
    targets = [
        target(chr(ord("A") + i), quantile(q, histogram, consumer=consumer), f"p{round(q * 100)}")
        for i, q in enumerate(qs)
    ]
    return timeseries(title, description, MS, targets)


def rows() -> list[tuple[str, list[dict[str, Any]]]]:
    """(row title, panels) in display order."""
    outcome_targets = [
        target(ref, per_second(f"nats_messages_{kind}_total", "namespace, consumer", consumer=True), legend)
        for ref, kind, legend in (
            ("A", "acked", "ack {{consumer}}"),
            ("B", "nak", "nak {{consumer}}"),
            ("C", "term", "term {{consumer}}"),
            ("D", "dead_lettered", "dead-letter {{consumer}}"),
        )
    ]
    return [
        (
            "Throughput",
            [
                timeseries(
                    "Publish rate",
                    "nats.messages.published: PubAcks received per second (duplicates included).",
                    MSG_PER_SEC,
                    [
                        target(
                            "A", per_second(PUBLISHER_SIDE, "namespace, stream"), "{{namespace}}/{{stream}}"
                        )
                    ],
                    w=8,
                ),
                timeseries(
                    "Consume rate",
                    "nats.messages.consumed: deliveries received per second (redeliveries included).",
                    MSG_PER_SEC,
                    [
                        target(
                            "A",
                            per_second(CONSUMER_SIDE[0], "namespace, stream, consumer", consumer=True),
                            "{{namespace}}/{{consumer}}",
                        )
                    ],
                    w=8,
                ),
                timeseries(
                    "Publish errors",
                    "nats.publish.errors: publishes that failed for good (no stream, rejected, "
                    "no PubAck after every retry).",
                    MSG_PER_SEC,
                    [
                        target(
                            "A",
                            per_second("nats_publish_errors_total", "namespace, stream, pod"),
                            "{{namespace}}/{{pod}}",
                        )
                    ],
                    w=8,
                ),
            ],
        ),
        (
            "Delivery",
            [
                timeseries(
                    "Ack / nak / term / dead-letter",
                    "nats.messages.acked, .nak, .term, .dead_lettered: handler outcomes per second.",
                    MSG_PER_SEC,
                    outcome_targets,
                ),
                timeseries(
                    "Consumer backlog",
                    "nats.consumer.backlog: num_pending + num_ack_pending from consumer info (max over "
                    "the pods polling the same consumer).",
                    COUNT,
                    [
                        target(
                            "A",
                            f"max by (namespace, stream, consumer) "
                            f"({selector(CONSUMER_SIDE[1], consumer=True)})",
                            "{{namespace}}/{{stream}}/{{consumer}}",
                        )
                    ],
                ),
                timeseries(
                    "Redeliveries",
                    "nats.messages.redelivered: deliveries with a delivery count above 1.",
                    MSG_PER_SEC,
                    [
                        target(
                            "A",
                            per_second(
                                "nats_messages_redelivered_total", "namespace, consumer", consumer=True
                            ),
                            "{{namespace}}/{{consumer}}",
                        )
                    ],
                    w=8,
                ),
                timeseries(
                    "Duplicates",
                    "nats.messages.duplicates: publishes the stream recognised as duplicates (same msg id "
                    "inside the duplicate window).",
                    MSG_PER_SEC,
                    [
                        target(
                            "A",
                            per_second("nats_messages_duplicates_total", "namespace, stream"),
                            "{{namespace}}/{{stream}}",
                        )
                    ],
                    w=8,
                ),
                timeseries(
                    "Reconnects",
                    "nats.client.reconnects: reconnects to NATS per pod in each interval.",
                    COUNT,
                    [
                        target(
                            "A",
                            f"sum by (namespace, pod) "
                            f"(increase({selector('nats_client_reconnects_total')}[{RATE}]))",
                            "{{namespace}}/{{pod}}",
                        )
                    ],
                    w=8,
                ),
            ],
        ),
        (
            "Latency",
            [
                quantile_panel(
                    "Publish latency",
                    "nats.publish.latency: publish call to PubAck, including waiting for a slot and retries.",
                    "nats_publish_latency",
                    (0.5, 0.95, 0.99),
                ),
                quantile_panel(
                    "Persistence write latency",
                    "nats.persistence.write.latency: PubAck round trip of the successful attempt.",
                    "nats_persistence_write_latency",
                    (0.5, 0.95, 0.99),
                ),
                quantile_panel(
                    "End-to-end latency",
                    "nats.e2e.latency: publish time (Seam-Published-At) to handler completion.",
                    "nats_e2e_latency",
                    (0.5, 0.99),
                    consumer=True,
                ),
                quantile_panel(
                    "Handler duration",
                    "nats.handler.duration: time spent in the message handler.",
                    "nats_handler_duration",
                    (0.5, 0.95, 0.99),
                    consumer=True,
                ),
            ],
        ),
    ]


def _layout(groups: list[tuple[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Rows of panels packed left to right, ids assigned in order (unique, stable)."""
    out: list[dict[str, Any]] = []
    y = 0
    next_id = 1
    for title, panels in groups:
        out.append(
            {
                "type": "row",
                "title": title,
                "id": next_id,
                "collapsed": False,
                "panels": [],
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
            }
        )
        next_id += 1
        y += 1
        x = 0
        for panel in panels:
            w, h = panel["gridPos"]["w"], panel["gridPos"]["h"]
            if x + w > 24:
                x, y = 0, y + h
            panel["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
            panel["id"] = next_id
            next_id += 1
            x += w
            out.append(panel)
        y += 8
    return out


def query_variable(name: str, label: str, query: str) -> dict[str, Any]:
    """A multi-value template variable with *All* filled from a Prometheus label query."""
    return {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": DS,
        "definition": query,
        "query": query,
        "refresh": 2,  # on time range change, so new pods and consumers show up
        "sort": 1,
        "multi": True,
        "includeAll": True,
        "allValue": ".*",  # also matches series whose label is empty (no namespace/pod set)
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "hide": 0,
        "regex": "",
    }


def datasource_variable() -> dict[str, Any]:
    """The `datasource` variable every panel's DS refers to (any Prometheus data source)."""
    return {
        "type": "datasource",
        "name": "datasource",
        "label": "Data source",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
    }


def _names_regex(names: tuple[str, ...]) -> str:
    return "|".join(names)


def variables() -> list[dict[str, Any]]:
    any_side = f'__name__=~"{_names_regex(ANY_SIDE)}"'
    consumer_side = f'__name__=~"{_names_regex(CONSUMER_SIDE)}"'
    return [
        datasource_variable(),
        query_variable("namespace", "Namespace", f"label_values({{{any_side}}}, namespace)"),
        query_variable("stream", "Stream", f'label_values({{{any_side}, namespace=~"$namespace"}}, stream)'),
        query_variable(
            "consumer",
            "Consumer",
            f'label_values({{{consumer_side}, namespace=~"$namespace", stream=~"$stream"}}, consumer)',
        ),
        query_variable(
            "pod", "Pod", f'label_values({{{any_side}, namespace=~"$namespace", stream=~"$stream"}}, pod)'
        ),
    ]


def dashboard_document(
    uid: str,
    title: str,
    description: str,
    tags: list[str],
    variables: list[dict[str, Any]],
    groups: list[tuple[str, list[dict[str, Any]]]],
) -> dict[str, Any]:
    """The Grafana dashboard JSON both builders emit (schema 39, 1 h window, 30 s refresh)."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": tags,
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "time": {"from": "now-1h", "to": "now"},
        "timezone": "browser",
        "refresh": "30s",
        "annotations": {"list": []},
        "links": [],
        "templating": {"list": variables},
        "panels": _layout(groups),
    }


def write_or_check(argv: list[str] | None, prog: str, doc: str | None, output: Path, text: str) -> int:
    """The builders' CLI: write `text` to the output, or with --check exit 1 if the file differs."""
    parser = argparse.ArgumentParser(prog=f"python -m {prog}", description=doc)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed JSON is stale")
    parser.add_argument("--output", type=Path, default=output)
    args = parser.parse_args(argv)
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python -m {prog}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


def dashboard() -> dict[str, Any]:
    return dashboard_document(
        UID,
        "NATS adapter",
        "seam-jetstream adapter runtime: publish/consume rates, outcomes, backlog, latency. "
        "Pick a namespace to get that namespace's dashboard.",
        ["nats", "jetstream", "seam"],
        variables(),
        rows(),
    )


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    return write_or_check(argv, "dashboards.build", __doc__, OUTPUT, render())


if __name__ == "__main__":
    raise SystemExit(main())
