"""The kustomization builds and keeps its promises: least privilege, probes, two replicas."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from seam_harness.kube import kubectl_binary

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(kubectl_binary()), "kustomize", str(REPO / "manifests")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def test_builds_everything(docs: list[dict[str, Any]]) -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for expected in [
        ("Namespace", "seam-jetstream-system"),
        ("CustomResourceDefinition", "streams.jetstream.oppie.xyz"),
        ("CustomResourceDefinition", "consumers.jetstream.oppie.xyz"),
        ("CustomResourceDefinition", "natsconnections.jetstream.oppie.xyz"),
        ("CustomResourceDefinition", "kopfpeerings.kopf.dev"),
        ("ServiceAccount", "seam-jetstream-operator"),
        ("ClusterRole", "seam-jetstream-operator"),
        ("Deployment", "seam-jetstream-operator"),
        ("Service", "seam-jetstream-operator"),
    ]:
        assert expected in kinds
    namespaced = [d for d in docs if d["kind"] in ("ServiceAccount", "Deployment", "Service")]
    assert all(d["metadata"]["namespace"] == "seam-jetstream-system" for d in namespaced)


def test_rbac_is_least_privilege(docs: list[dict[str, Any]]) -> None:
    rules = [rule for d in docs if d["kind"] in ("ClusterRole", "Role") for rule in d["rules"]]
    for rule in rules:
        assert (
            "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule.get("apiGroups", [])
        )
        assert not {"delete", "deletecollection", "update", "escalate", "bind", "impersonate"} & set(
            rule["verbs"]
        )
    secret_rules = [r for r in rules if "secrets" in r["resources"]]
    assert secret_rules and all(set(r["verbs"]) == {"get", "list", "watch"} for r in secret_rules)
    own = [r for r in rules if "jetstream.oppie.xyz" in r["apiGroups"]]
    assert {"streams/status", "consumers/status", "natsconnections/status"} <= {
        x for r in own for x in r["resources"]
    }
    assert all("create" not in r["verbs"] for r in own)  # users own their resources


def test_deployment_runs_two_replicas_with_probes(docs: list[dict[str, Any]]) -> None:
    deployment = _one(docs, "Deployment", "seam-jetstream-operator")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "seam-jetstream-operator"
    container = pod["containers"][0]
    assert container["command"][0] == "seam-operator"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["port"] == "health"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    service = _one(docs, "Service", "seam-jetstream-operator")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
