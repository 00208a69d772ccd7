"""`kubectl apply -k manifests` works, and the operator runs on exactly the RBAC it ships."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsProcess
from tests.e2e.operator_process import REPO, OperatorProcess, apply, poll, stream_doc, wait_ready

pytestmark = pytest.mark.e2e

SYSTEM_NS = "seam-jetstream-system"
SA = "seam-jetstream-operator"


def _service_account_kubeconfig(kube: ControlPlane, directory: Path) -> Path:
    token = kube.kubectl("create", "token", SA, "-n", SYSTEM_NS, "--duration=1h").stdout.strip()
    config: dict[str, Any] = yaml.safe_load(Path(kube.kubeconfig).read_text())
    config["users"] = [{"name": SA, "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = SA
    path = directory / "operator.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def _can(kube: ControlPlane, kubeconfig: Path, *args: str) -> bool:
    done = kube.kubectl("auth", "can-i", *args, kubeconfig=kubeconfig, check=False)
    return done.stdout.strip() == "yes"


def test_manifests_apply_and_the_shipped_rbac_is_enough(
    kube: ControlPlane, kube_namespace: str, nats_server: NatsProcess, tmp_path: Path
) -> None:
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-k", str(REPO / "manifests"))
    deployment = kube.kubectl_json("get", "deployment", SA, "-n", SYSTEM_NS)
    assert deployment["spec"]["replicas"] == 2
    # The controller manager turns it into a ReplicaSet of 2 (no kubelet here to run the pods).
    poll(
        lambda: kube.kubectl_json("get", "replicasets", "-n", SYSTEM_NS)["items"],
        lambda items: any(rs["spec"]["replicas"] == 2 for rs in items),
        timeout=60,
        what="operator ReplicaSet",
    )

    kubeconfig = _service_account_kubeconfig(kube, tmp_path)
    ns = kube_namespace
    assert _can(kube, kubeconfig, "patch", "streams.jetstream.oppie.xyz", "-n", ns)
    assert _can(kube, kubeconfig, "patch", "streams.jetstream.oppie.xyz", "--subresource=status", "-n", ns)
    assert _can(kube, kubeconfig, "get", "secrets", "-n", ns)
    assert not _can(kube, kubeconfig, "delete", "streams.jetstream.oppie.xyz", "-n", ns)
    assert not _can(kube, kubeconfig, "create", "secrets", "-n", ns)
    assert not _can(kube, kubeconfig, "get", "configmaps", "-n", ns)
    assert not _can(kube, kubeconfig, "delete", "pods", "-n", ns)

    # The operator, cluster-wide with peering as in the Deployment, on the ServiceAccount's token.
    op = OperatorProcess(
        kube,
        ns,
        nats_server.url,
        name="rbac",
        standalone=False,
        kubeconfig=kubeconfig,
        extra_args=("--all-namespaces", "--peering-name", "rbac-check", "--json-logs"),
    )
    op.process.argv = [a for a in op.process.argv if a not in ("--namespace", ns)]
    op.start()
    try:
        kube.kubectl(
            "create", "secret", "generic", "token", "-n", ns, "--from-literal=token=unused-by-this-server"
        )
        connection = {
            "apiVersion": "jetstream.oppie.xyz/v1alpha1",
            "kind": "NatsConnection",
            "metadata": {"name": "main"},
            "spec": {
                "servers": [nats_server.url],
                "auth": {"tokenSecretRef": {"name": "token", "key": "token"}},
            },
        }
        apply(kube, ns, connection, stream_doc("rbac", subjects=["rbac.>"], connectionRef={"name": "main"}))
        wait_ready(kube, ns, "natsconnections", "main")
        wait_ready(kube, ns, "streams", "rbac")
        events = kube.kubectl_json("get", "events", "-n", ns, "--field-selector", "involvedObject.name=rbac")
        assert any(e["reason"] == "Created" for e in events["items"])
        # No request was refused by RBAC (other refusals, e.g. Events in terminating namespaces
        # left by earlier tests, are not about the role).
        assert f'system:serviceaccount:{SYSTEM_NS}:{SA}" cannot' not in op.log()
        json_lines = [line for line in op.log().splitlines() if line.startswith("{")]
        assert json_lines and all("message" in json.loads(line) for line in json_lines)
        peering = kube.kubectl_json("get", "clusterkopfpeerings", "rbac-check")
        assert peering["metadata"]["name"] == "rbac-check"
    finally:
        op.stop()
