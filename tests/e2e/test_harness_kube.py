"""The control-plane half of the harness: a real kube-apiserver that the e2e tests can trust.

CRDs are served and validated, the controller manager turns a Deployment into Pods, RBAC
denies a user without bindings, and the servers leave nothing behind when stopped.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from seam_harness import kube as kube_module
from seam_harness.kube import ControlPlane, ControlPlaneError, KubectlError
from seam_harness.process import free_port
from tests.e2e.operator_process import poll

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent / "fixtures"
CRD_NAME = "widgets.harness.test.oppie.xyz"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def widget_crd(kube: ControlPlane) -> str:
    kube.kubectl("apply", "-f", str(FIXTURES / "harness-crd.yaml"))
    kube.wait_established(CRD_NAME)
    return CRD_NAME


def test_control_plane_is_ready_and_reports_its_startup_time(
    kube: ControlPlane, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kube.startup_seconds is not None and kube.startup_seconds > 0
    status, body = kube.api_get("/readyz")
    assert (status, body) == (200, b"ok")
    version = kube.kubectl_json("version")
    assert version["serverVersion"]["gitVersion"].startswith("v1.")
    with capsys.disabled():
        print(f"\n[seam] control plane startup: {kube.startup_seconds:.2f} s ({kube.api_url})")


def test_crd_and_custom_resource_round_trip(kube: ControlPlane, widget_crd: str, kube_namespace: str) -> None:
    kube.kubectl("apply", "-n", kube_namespace, "-f", str(FIXTURES / "widget.yaml"))
    widget = kube.kubectl_json("get", "widgets.harness.test.oppie.xyz", "first", "-n", kube_namespace)
    assert widget["spec"] == {"size": 3, "colour": "teal"}
    assert widget["metadata"]["namespace"] == kube_namespace
    assert widget["metadata"]["uid"]


def test_schema_rejects_an_invalid_custom_resource(
    kube: ControlPlane, widget_crd: str, kube_namespace: str
) -> None:
    bad = "apiVersion: harness.test.oppie.xyz/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {size: 0}\n"
    done = kube.kubectl("apply", "-n", kube_namespace, "-f", "-", input=bad, check=False)
    assert done.returncode != 0
    assert "spec.size" in done.stderr
    assert "greater than or equal to 1" in done.stderr
    listed = kube.kubectl_json("get", "widgets.harness.test.oppie.xyz", "-n", kube_namespace)
    assert listed["items"] == []


def test_deployment_yields_a_replicaset_and_pods(kube: ControlPlane, kube_namespace: str) -> None:
    kube.kubectl(
        "create", "deployment", "web", "-n", kube_namespace,
        "--image=registry.invalid/web:1", "--replicas=2",
    )  # fmt: skip
    pods = poll(
        lambda: kube.kubectl_json("get", "pods", "-n", kube_namespace, "-l", "app=web")["items"],
        lambda items: len(items) == 2,
    )
    replicasets = kube.kubectl_json("get", "replicasets", "-n", kube_namespace)["items"]
    assert len(replicasets) == 1
    assert replicasets[0]["metadata"]["ownerReferences"][0]["name"] == "web"
    for pod in pods:
        owner = pod["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"]) == ("ReplicaSet", replicasets[0]["metadata"]["name"])
        # No scheduler and no kubelet: Pods exist but never run.
        assert pod["status"]["phase"] == "Pending"


def test_namespace_gets_its_default_service_account(kube: ControlPlane, kube_namespace: str) -> None:
    sa = poll(
        lambda: kube.kubectl("get", "serviceaccount", "default", "-n", kube_namespace, check=False),
        lambda done: done.returncode == 0,
    )
    assert "default" in sa.stdout


def test_restricted_user_is_denied_until_a_rolebinding_allows_it(
    kube: ControlPlane, kube_namespace: str
) -> None:
    as_jane = ("get", "pods", "-n", kube_namespace)
    denied = kube.kubectl(*as_jane, kubeconfig=kube.restricted_kubeconfig, check=False)
    assert denied.returncode != 0
    assert "Forbidden" in denied.stderr
    assert 'User "jane"' in denied.stderr

    kube.kubectl(
        "create", "rolebinding", "jane-view", "--clusterrole=view", "--user=jane", "-n", kube_namespace
    )
    allowed = poll(
        lambda: kube.kubectl(*as_jane, kubeconfig=kube.restricted_kubeconfig, check=False),
        lambda done: done.returncode == 0,
        timeout=30,
    )
    assert "Forbidden" not in allowed.stderr
    # The binding is namespaced: other namespaces stay closed.
    elsewhere = kube.kubectl(
        "get", "pods", "-n", "default", kubeconfig=kube.restricted_kubeconfig, check=False
    )
    assert "Forbidden" in elsewhere.stderr


def test_kubectl_error_carries_stderr(kube: ControlPlane) -> None:
    with pytest.raises(KubectlError, match=r"NotFound|not found"):
        kube.kubectl("get", "namespace", "no-such-namespace-here")


def test_missing_binary_fails_with_the_provision_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEAM_CACHE", str(tmp_path))
    plane = ControlPlane(run_dir=tmp_path / "run")
    with pytest.raises(ControlPlaneError, match=r"etcd not found at .*scripts/provision\.sh"):
        plane.start()
    assert plane.processes == {}


def test_stop_leaves_no_process_and_no_run_dir(kube: ControlPlane) -> None:
    # A second, private control plane: the session one must keep running for the other tests.
    plane = ControlPlane().start()
    pids = {name: proc.pid for name, proc in plane.processes.items()}
    assert set(pids) == {"etcd", "kube-apiserver", "kube-controller-manager"}
    run_dir = plane.run_dir
    assert plane.kubectl("get", "--raw", "/readyz").stdout == "ok"

    plane.stop()

    assert [name for name, pid in pids.items() if pid is None or _running(pid)] == []
    assert not run_dir.exists()
    assert kube.kubectl("get", "--raw", "/readyz").stdout == "ok"


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port bound (not listening) by the test, so a server cannot bind it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def test_a_port_taken_by_someone_else_is_retried_with_fresh_ports(
    kube: ControlPlane, busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = iter([busy_port])
    monkeypatch.setattr(kube_module, "free_port", lambda: next(ports, None) or free_port())
    with ControlPlane() as plane:
        assert plane.etcd_url != f"http://127.0.0.1:{busy_port}"
        assert plane.kubectl("get", "--raw", "/readyz").stdout == "ok"
        assert "address already in use" in (plane.logs_dir / "etcd.log").read_text()


def test_a_port_that_stays_taken_fails_clearly_and_leaves_nothing(
    busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kube_module, "free_port", lambda: busy_port)
    plane = ControlPlane()
    with pytest.raises(ControlPlaneError, match=r"(?s)etcd exited .*address already in use"):
        plane.start()
    assert plane.processes == {}
    assert not plane.run_dir.exists()
