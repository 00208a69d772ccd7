"""Pod injection end to end: kopf's webhook in a real operator process, a real apiserver calling it.

A Deployment opts in with a label and an annotation; kube-controller-manager creates its Pods
(Pending: there is no scheduler) and they carry the adapter env and Secret mounts. The injected env,
resolved the way the kubelet would, loads as AdapterSettings and reaches the real consumer on a
password-protected nats-server.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml

from adapter_runtime.settings import AdapterSettings
from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsProcess
from seam_harness.process import free_port, scratch_dir
from tests.e2e.operator_process import (
    REPO,
    OperatorProcess,
    apply,
    consumer_doc,
    install_crds,
    poll,
    stream_doc,
    wait_ready,
)
from tests.e2e.test_operator_manifests import _service_account_kubeconfig

pytestmark = pytest.mark.e2e

PASSWORD = "inj3ct-Pa55-w0rd"
USER = "app"
LABEL = {"jetstream.oppie.xyz/inject": "true"}


class Env:
    def __init__(self, kube: ControlPlane, ns: str, nats_server: NatsProcess, op: OperatorProcess, hook: str):
        self.kube, self.ns, self.nats, self.op, self.hook = kube, ns, nats_server, op, hook


def webhook_ready(kube: ControlPlane, name: str) -> bool:
    done = kube.kubectl("get", "mutatingwebhookconfiguration", name, "-o", "json", check=False)
    if done.returncode != 0:
        return False
    hooks = json.loads(done.stdout).get("webhooks") or []
    return bool(hooks) and bool(hooks[0].get("clientConfig", {}).get("url"))


@pytest.fixture(scope="module")
def env(kube: ControlPlane) -> Iterator[Env]:
    install_crds(kube)
    ns = kube.create_namespace("inject")
    server = NatsProcess(
        name="inject", extra_config=f'authorization {{ user: {USER}, password: "{PASSWORD}" }}'
    )
    server.start()
    op, hook = webhook_operator(kube, ns, name="inject")
    try:
        start_with_webhook(kube, op, hook)
        kube.kubectl("apply", "-n", ns, "-f", "-", input=secret_yaml("nats-user", USER, PASSWORD))
        apply(
            kube,
            ns,
            {
                "apiVersion": "jetstream.oppie.xyz/v1alpha1",
                "kind": "NatsConnection",
                "metadata": {"name": "main"},
                "spec": {"servers": [server.url], "auth": {"userPasswordSecretRef": {"name": "nats-user"}}},
            },
            stream_doc("orders", name="ORDERS", subjects=["orders.>"], connectionRef={"name": "main"}),
            consumer_doc(
                "orders-worker", streamRef={"name": "orders"}, maxAckPending=200, adapter={"batchSize": 20}
            ),
        )
        wait_ready(kube, ns, "consumer", "orders-worker")
        yield Env(kube, ns, server, op, hook)
    finally:
        op.stop()
        remove_webhook_configs(kube, hook)
        server.close()
        kube.delete_namespace(ns)


def remove_webhook_configs(kube: ControlPlane, name: str) -> None:
    for kind in ("mutatingwebhookconfiguration", "validatingwebhookconfiguration"):
        kube.kubectl("delete", kind, name, "--ignore-not-found", check=False)


def webhook_operator(kube: ControlPlane, ns: str, **options: Any) -> tuple[OperatorProcess, str]:
    """An operator (not started) serving the injection webhook for `ns`, and its webhook config name."""
    hook = f"seam-inject-{ns}.oppie.xyz"
    args = (
        "--webhook-port",
        str(free_port()),
        "--webhook-addr",
        "127.0.0.1",
        "--webhook-cert-dir",
        str(scratch_dir("webhook-certs-")),
        "--webhook-config-name",
        hook,
    )
    return OperatorProcess(kube, ns, "nats://127.0.0.1:1", extra_args=args, **options), hook


def start_with_webhook(kube: ControlPlane, op: OperatorProcess, hook: str) -> None:
    """Start `op` and wait until the apiserver has its webhook configuration `hook`."""
    op.start()
    what = f"webhook config {hook} (log {op.log_path})"
    poll(lambda: webhook_ready(kube, hook), bool, timeout=60, what=what)


def secret_yaml(name: str, user: str, password: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name},
            "type": "kubernetes.io/basic-auth",
            "stringData": {"username": user, "password": password},
        }
    )


def pod_doc(name: str, annotations: dict[str, str], labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}, "annotations": annotations},
        "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]},
    }


def pods_of(kube: ControlPlane, ns: str, selector: str) -> list[dict[str, Any]]:
    return list(kube.kubectl_json("get", "pods", "-n", ns, "-l", selector).get("items") or [])


def resolve_like_kubelet(kube: ControlPlane, pod: dict[str, Any], root: Path) -> dict[str, str]:
    """Env as the container would see it: Secret refs read, Secret volumes written under `root`."""
    ns = pod["metadata"]["namespace"]
    spec = pod["spec"]
    container = spec["containers"][0]

    def secret_value(name: str, key: str) -> str:
        data = kube.kubectl_json("get", "secret", "-n", ns, name)["data"]
        return base64.b64decode(data[key]).decode()

    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        secret = volumes[mount["name"]].get("secret")
        if not secret:
            continue
        for item in secret["items"]:
            target = root / mount["mountPath"].lstrip("/") / item["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(secret_value(secret["secretName"], item["key"]))
    env: dict[str, str] = {}
    for e in container["env"]:
        if "value" in e:
            value = e["value"]
            env[e["name"]] = (
                str(root / value.lstrip("/")) if value.startswith("/var/run/seam-nats/") else value
            )
        elif "secretKeyRef" in e["valueFrom"]:
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = secret_value(ref["name"], ref["key"])
        else:
            env[e["name"]] = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": ns}[
                e["valueFrom"]["fieldRef"]["fieldPath"]
            ]
    return env


async def consume_one(settings: AdapterSettings) -> bytes:
    password = settings.password_file.read_text() if settings.password_file else None
    nc = await nats.connect(
        servers=settings.server_urls, user=settings.user, password=password, connect_timeout=5
    )
    try:
        js = nc.jetstream()
        await js.publish("orders.created", b"order-1", stream=settings.stream_name)
        sub = await js.pull_subscribe_bind(settings.consumer_name, settings.stream_name)
        msgs = await sub.fetch(1, timeout=5)
        await msgs[0].ack()
        return bytes(msgs[0].data)
    finally:
        await nc.close()


def test_deployment_pods_get_env_and_mounts_that_reach_nats(env: Env, tmp_path: Path) -> None:
    kube, ns = env.kube, env.ns
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "worker"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "worker"}},
            "template": {
                "metadata": {
                    "labels": {"app": "worker", **LABEL},
                    "annotations": {"jetstream.oppie.xyz/consumer": "orders-worker"},
                },
                "spec": {"containers": [{"name": "app", "image": "registry.invalid/worker:1"}]},
            },
        },
    }
    apply(kube, ns, deployment)
    pods = poll(
        lambda: pods_of(kube, ns, "app=worker"), lambda p: len(p) == 2, timeout=60, what="2 worker pods"
    )
    for pod in pods:
        assert pod["status"]["phase"] == "Pending"
        container = pod["spec"]["containers"][0]
        env_map = {e["name"]: e for e in container["env"]}
        assert env_map["SEAM_NATS_STREAM_NAME"]["value"] == "ORDERS"
        assert env_map["SEAM_NATS_CONSUMER_NAME"]["value"] == "orders-worker"
        assert env_map["SEAM_NATS_SERVER_URLS"]["value"] == env.nats.url
        assert env_map["SEAM_NATS_BATCH_SIZE"]["value"] == "20"
        assert env_map["SEAM_NATS_USER"]["valueFrom"] == {
            "secretKeyRef": {"name": "nats-user", "key": "username"}
        }
        assert env_map["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert mounts["seam-nats-password"]["readOnly"] is True
        assert mounts["seam-nats-password"]["mountPath"] == "/var/run/seam-nats/password"
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        assert volumes["seam-nats-password"]["secret"]["secretName"] == "nats-user"
        assert pod["metadata"]["annotations"]["jetstream.oppie.xyz/injected"] == "Consumer/orders-worker"
        text = json.dumps(pod)
        assert PASSWORD not in text and base64.b64encode(PASSWORD.encode()).decode() not in text
    # The Deployment's own template is untouched: only Pods are mutated.
    template = kube.kubectl_json("get", "deployment", "-n", ns, "worker")["spec"]["template"]["spec"]
    assert "env" not in template["containers"][0]

    settings = AdapterSettings.from_env(resolve_like_kubelet(kube, pods[0], tmp_path))
    assert (settings.user, settings.pod_name, settings.namespace) == (USER, pods[0]["metadata"]["name"], ns)
    assert settings.password_file is not None and settings.password_file.read_text() == PASSWORD
    assert asyncio.run(consume_one(settings)) == b"order-1"


def test_publisher_pod_and_chosen_container(env: Env) -> None:
    doc = pod_doc(
        "publisher",
        {"jetstream.oppie.xyz/stream": "orders", "jetstream.oppie.xyz/container": "app"},
        LABEL,
    )
    doc["spec"]["containers"].append({"name": "proxy", "image": "registry.invalid/proxy:1"})
    apply(env.kube, env.ns, doc)
    pod = env.kube.kubectl_json("get", "pod", "-n", env.ns, "publisher")
    app, proxy = pod["spec"]["containers"]
    names = {e["name"] for e in app["env"]}
    assert {
        "SEAM_NATS_STREAM_NAME",
        "SEAM_NATS_SERVER_URLS",
        "SEAM_NATS_USER",
        "SEAM_NATS_PASSWORD_FILE",
    } <= names
    assert "SEAM_NATS_CONSUMER_NAME" not in names
    assert "env" not in proxy and "volumeMounts" not in proxy


def test_missing_consumer_is_denied_with_a_clear_message(env: Env) -> None:
    doc = pod_doc("typo", {"jetstream.oppie.xyz/consumer": "orders-wrker"}, LABEL)
    done = env.kube.kubectl("apply", "-n", env.ns, "-f", "-", input=yaml.safe_dump(doc), check=False)
    assert done.returncode != 0
    assert (
        f'admission webhook "seam-inject.{env.hook}" denied the request: '
        f'jetstream.oppie.xyz/consumer: Consumer "orders-wrker" not found in namespace "{env.ns}"'
    ) in done.stderr
    assert env.kube.kubectl("get", "pod", "-n", env.ns, "typo", check=False).returncode != 0


def test_pod_without_the_label_is_untouched(env: Env) -> None:
    doc = pod_doc("plain", {"jetstream.oppie.xyz/consumer": "orders-worker"})
    apply(env.kube, env.ns, doc)
    pod = env.kube.kubectl_json("get", "pod", "-n", env.ns, "plain")
    assert "env" not in pod["spec"]["containers"][0]
    assert not any(k.startswith("jetstream.oppie.xyz/injected") for k in pod["metadata"]["annotations"])
    assert f"{env.ns}/plain" not in env.op.log()  # the webhook was never called for it


def test_secret_of_another_namespace_cannot_be_referenced(env: Env) -> None:
    kube, ns = env.kube, env.ns
    other = kube.create_namespace("vault")
    try:
        kube.kubectl("apply", "-n", other, "-f", "-", input=secret_yaml("vault-creds", USER, PASSWORD))
        # A reference cannot even name the other namespace...
        bad = {
            "apiVersion": "jetstream.oppie.xyz/v1alpha1",
            "kind": "NatsConnection",
            "metadata": {"name": "cross"},
            "spec": {
                "servers": [env.nats.url],
                "auth": {"userPasswordSecretRef": {"name": "vault-creds", "namespace": other}},
            },
        }
        refused = kube.kubectl("apply", "-n", ns, "-f", "-", input=yaml.safe_dump(bad), check=False)
        assert refused.returncode != 0
        # ...and by name alone it means the pod's own namespace, where it does not exist.
        bad["spec"]["auth"]["userPasswordSecretRef"].pop("namespace")
        bad["metadata"]["name"] = "by-name"
        apply(
            kube,
            ns,
            bad,
            stream_doc("vault", name="VAULT", subjects=["vault.>"], connectionRef={"name": "by-name"}),
        )
        doc = pod_doc("thief", {"jetstream.oppie.xyz/stream": "vault"}, LABEL)
        done = kube.kubectl("apply", "-n", ns, "-f", "-", input=yaml.safe_dump(doc), check=False)
        assert done.returncode != 0
        assert (
            f'jetstream.oppie.xyz/stream: Secret "vault-creds" (used by NatsConnection "by-name") '
            f'not found in namespace "{ns}"'
        ) in done.stderr
        assert PASSWORD not in done.stderr
    finally:
        kube.delete_namespace(other)


def test_the_shipped_webhook_rbac_is_enough(kube: ControlPlane, tmp_path: Path) -> None:
    """The operator with the webhook on the ServiceAccount token, bound only as manifests/injection ships."""
    built = kube.kubectl("kustomize", str(REPO / "manifests" / "injection")).stdout
    rbac = [
        d
        for d in yaml.safe_load_all(built)
        if d and d["kind"] in ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding")
    ]
    kube.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(rbac))
    kubeconfig = _service_account_kubeconfig(kube, tmp_path)
    ns = kube.create_namespace("inject-rbac")
    op, hook = webhook_operator(kube, ns, name="inject-rbac", kubeconfig=kubeconfig)
    try:
        start_with_webhook(kube, op, hook)
        assert kube.kubectl("get", "validatingwebhookconfiguration", hook, check=False).returncode == 0
        apply(kube, ns, stream_doc("events", subjects=["events.>"]))
        apply(kube, ns, pod_doc("pub", {"jetstream.oppie.xyz/stream": "events"}, LABEL))
        pod = kube.kubectl_json("get", "pod", "-n", ns, "pub")
        env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
        assert env["SEAM_NATS_STREAM_NAME"] == "events"
        assert env["SEAM_NATS_SERVER_URLS"] == "nats://127.0.0.1:1"  # the operator's default servers
        assert "cannot" not in op.log() and "RBAC" not in op.log()
    finally:
        op.stop()
        remove_webhook_configs(kube, hook)
        kube.delete_namespace(ns)


def test_own_env_wins_with_a_warning_and_server_dry_run_shows_the_result(env: Env) -> None:
    doc = pod_doc("own-env", {"jetstream.oppie.xyz/consumer": "orders-worker"}, LABEL)
    doc["spec"]["containers"][0]["env"] = [{"name": "SEAM_NATS_SERVER_URLS", "value": "nats://my-proxy:4222"}]
    text = yaml.safe_dump(doc)
    dry = env.kube.kubectl("apply", "-n", env.ns, "--dry-run=server", "-o", "json", "-f", "-", input=text)
    previewed = {e["name"]: e for e in json.loads(dry.stdout)["spec"]["containers"][0]["env"]}
    assert previewed["SEAM_NATS_CONSUMER_NAME"]["value"] == "orders-worker"
    assert env.kube.kubectl("get", "pod", "-n", env.ns, "own-env", check=False).returncode != 0  # not created

    done = env.kube.kubectl("apply", "-n", env.ns, "-f", "-", input=text)
    assert (
        'Warning: container "app": SEAM_NATS_SERVER_URLS set in the pod spec is kept '
        f"(Consumer/orders-worker renders '{env.nats.url}')"
    ) in done.stderr
    pod = env.kube.kubectl_json("get", "pod", "-n", env.ns, "own-env")
    entries = [e for e in pod["spec"]["containers"][0]["env"] if e["name"] == "SEAM_NATS_SERVER_URLS"]
    assert entries == [{"name": "SEAM_NATS_SERVER_URLS", "value": "nats://my-proxy:4222"}]
