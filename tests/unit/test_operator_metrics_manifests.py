"""The shipped manifests expose the operator's /metrics the way the settings serve it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jetstream_operator.config import OperatorSettings
from jetstream_operator.metrics_endpoint import PATH

from seam_harness.kube import kubectl_binary

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(kubectl_binary()), "kustomize", str(REPO / "manifests" / "manager")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == "seam-jetstream-operator"]
    return found


def test_deployment_serves_and_advertises_metrics(docs: list[dict[str, Any]]) -> None:
    template = _one(docs, "Deployment")["spec"]["template"]
    container = template["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    port = int(env["SEAM_OPERATOR_METRICS_PORT"])
    assert port == OperatorSettings().metrics_port and port != int(env["SEAM_OPERATOR_HEALTH_PORT"])
    assert {"name": "metrics", "containerPort": port} in container["ports"]
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == PATH


def test_service_has_a_metrics_port(docs: list[dict[str, Any]]) -> None:
    ports = {p["name"]: p for p in _one(docs, "Service")["spec"]["ports"]}
    assert ports["metrics"]["targetPort"] == "metrics"
    assert ports["health"]["targetPort"] == "health"
