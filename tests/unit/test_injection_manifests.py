"""The injection overlay builds, wires the webhook (env, port, TLS Secret, RBAC) and the server
registers itself as the Service; the Secret the CLI prints is what the server needs."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jetstream_operator.config import OperatorSettings
from jetstream_operator.injection.webhook import ServiceWebhookServer, build_server, watches
from jetstream_operator.webhook_certs import secret_manifest

from seam_harness.kube import kubectl_binary
from seam_harness.process import free_port

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(kubectl_binary()), "kustomize", str(REPO / "manifests" / "injection")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def test_overlay_enables_the_webhook(docs: list[dict[str, Any]]) -> None:
    deployment = _one(docs, "Deployment", "seam-jetstream-operator")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SEAM_OPERATOR_NATS_URL"]  # the base env is kept
    op = OperatorSettings(
        webhook_port=int(env["SEAM_OPERATOR_WEBHOOK_PORT"]),
        webhook_service=env["SEAM_OPERATOR_WEBHOOK_SERVICE"],
        webhook_cert_dir=env["SEAM_OPERATOR_WEBHOOK_CERT_DIR"],
    )
    ns, name, port = op.webhook_service_ref or ("", "", 0)
    service = _one(docs, "Service", name)
    assert service["metadata"]["namespace"] == ns == deployment["metadata"]["namespace"]
    by_port = {p["port"]: p for p in service["spec"]["ports"]}
    assert by_port[port]["targetPort"] == "webhook"
    assert {"name": "webhook", "containerPort": op.webhook_port} in container["ports"]
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == op.webhook_cert_dir)
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == "seam-jetstream-webhook-tls" and mount["readOnly"] is True


def test_overlay_rbac_only_adds_webhook_configurations(docs: list[dict[str, Any]]) -> None:
    role = _one(docs, "ClusterRole", "seam-jetstream-operator-webhook")
    assert role["rules"] == [
        {
            "apiGroups": ["admissionregistration.k8s.io"],
            "resources": ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
            "verbs": ["get", "create", "patch"],
        }
    ]
    binding = _one(docs, "ClusterRoleBinding", "seam-jetstream-operator-webhook")
    assert binding["subjects"][0]["name"] == "seam-jetstream-operator"
    assert binding["subjects"][0]["namespace"] == "seam-jetstream-system"


async def test_service_server_registers_the_service_with_the_ca(tmp_path: Path) -> None:
    secret = secret_manifest("tls", "seam-jetstream-system", ["127.0.0.1"])
    write_secret(tmp_path, secret)
    op = OperatorSettings(
        webhook_port=free_port(),
        webhook_addr="127.0.0.1",
        webhook_service="seam-jetstream-system/seam-jetstream-operator",
        webhook_cert_dir=str(tmp_path),
    )
    server = build_server(op)
    assert isinstance(server, ServiceWebhookServer)

    async def never(*_: Any, **__: Any) -> Any:
        raise AssertionError("no request expected")

    configs = server(never)
    config = await anext(configs)
    await configs.aclose()
    assert config["service"] == {
        "namespace": "seam-jetstream-system",
        "name": "seam-jetstream-operator",
        "port": 443,
        "path": "",
    }
    assert base64.b64decode(config["caBundle"]) == base64.b64decode(secret["data"]["ca.crt"])


def write_secret(directory: Path, secret: dict[str, Any]) -> None:
    for key, value in secret["data"].items():
        (directory / key).write_bytes(base64.b64decode(value))


@pytest.mark.parametrize(
    ("settings", "namespace", "expected"),
    [
        ({"clusterwide": True}, "anything", True),
        ({"namespaces": ["shop", "billing"]}, "shop", True),
        ({"namespaces": ["shop", "billing"]}, "other", False),
        ({"namespaces": ["team-*", "!team-test"]}, "team-a", True),
        ({"namespaces": ["team-*, !team-test"]}, "team-test", False),
    ],
)
def test_only_watched_namespaces_are_injected(
    settings: dict[str, Any], namespace: str, expected: bool
) -> None:
    assert watches(OperatorSettings(**settings), namespace) is expected
