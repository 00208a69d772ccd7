"""Run the operator as a real subprocess against the harness control plane, for e2e tests.

Shared by tests/e2e/test_operator_*.py: start/kill/restart `python -m jetstream_operator`,
apply YAML, poll resource status and read JetStream state through a plain nats-py client.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from seam_harness.kube import ControlPlane
from seam_harness.process import ManagedProcess, free_port, scratch_dir, tail

REPO = Path(__file__).resolve().parents[2]
# Seconds between full resyncs of an e2e operator: short, so a missed event costs little time.
DEFAULT_RESYNC = 3.0
CRDS = REPO / "crds"


def poll(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60.0, what: str = "") -> Any:
    """Fetch until `done(value)`; the last value goes into the failure message."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what or 'condition'} not met after {timeout}s; last: {value!r}"
        time.sleep(0.25)


class OperatorProcess:
    """`python -m jetstream_operator` for one namespace, logging to a file kept for failures."""

    def __init__(
        self,
        kube: ControlPlane,
        namespace: str,
        nats_url: str,
        *,
        name: str = "op",
        resync_seconds: float = DEFAULT_RESYNC,
        standalone: bool = True,
        kubeconfig: Path | None = None,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.health_port = free_port()
        self.metrics_port = free_port()  # /metrics (a fixed default would clash between replicas)
        self.log_path = scratch_dir(f"operator-{name}-") / "operator.log"
        argv = [
            sys.executable,
            "-m",
            "jetstream_operator",
            "--namespace",
            namespace,
            "--nats-url",
            nats_url,
            "--resync-seconds",
            str(resync_seconds),
            "--health-port",
            str(self.health_port),
            "--metrics-port",
            str(self.metrics_port),
            "--log-level",
            "DEBUG",
            *(["--standalone"] if standalone else []),
            *extra_args,
        ]
        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig or kube.kubeconfig),
            "SEAM_OPERATOR_BACKOFF_MAX": "3",
        }
        env.pop("KUBERNETES_SERVICE_HOST", None)
        self.process = ManagedProcess(argv, self.log_path, env=env)

    def start(self) -> OperatorProcess:
        self.process.start()
        poll(self.healthy, bool, timeout=60, what=f"operator health (log: {self.log_path})")
        return self

    def healthy(self) -> bool:
        if not self.process.running:
            raise AssertionError(f"operator exited:\n{tail(self.log_path, 60)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/healthz", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.process.stop(grace=15)

    def kill(self) -> None:
        self.process.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# The `start_operator` fixture (tests/e2e/conftest.py): (nats_url, **OperatorProcess options) -> started.
StartOperator = Callable[..., OperatorProcess]


def install_crds(kube: ControlPlane) -> None:
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-k", str(CRDS))
    kube.wait_established(
        *(f"{crd}.jetstream.oppie.xyz" for crd in ("streams", "consumers", "natsconnections")),
        "kopfpeerings.kopf.dev",
    )


def apply(kube: ControlPlane, namespace: str, *docs: dict[str, Any]) -> None:
    text = "\n---\n".join(yaml.safe_dump(doc) for doc in docs)
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=text)


def stream_doc(resource: str, /, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "jetstream.oppie.xyz/v1alpha1",
        "kind": "Stream",
        "metadata": {"name": resource},
        "spec": spec,
    }


def consumer_doc(resource: str, /, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "jetstream.oppie.xyz/v1alpha1",
        "kind": "Consumer",
        "metadata": {"name": resource},
        "spec": spec,
    }


def get(kube: ControlPlane, namespace: str, kind: str, name: str) -> dict[str, Any] | None:
    done = kube.kubectl("get", "-n", namespace, kind, name, "-o", "json", check=False)
    if done.returncode != 0:
        return None
    return dict(json.loads(done.stdout))


def ready(obj: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(status, reason, message) of the Ready condition."""
    for condition in ((obj or {}).get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition.get("status"), condition.get("reason"), condition.get("message")
    return None, None, None


def wait_ready(
    kube: ControlPlane,
    namespace: str,
    kind: str,
    name: str,
    status: str = "True",
    reason: str | None = None,
    timeout: float = 60.0,
) -> dict[str, Any]:
    def ok(obj: dict[str, Any] | None) -> bool:
        s, r, _ = ready(obj)
        return s == status and (reason is None or r == reason)

    return poll(
        lambda: get(kube, namespace, kind, name),
        ok,
        timeout,
        what=f"{kind}/{name} Ready={status} {reason or ''}",
    )


def events(kube: ControlPlane, namespace: str, name: str) -> list[dict[str, Any]]:
    data = kube.kubectl_json(
        "get", "events", "-n", namespace, "--field-selector", f"involvedObject.name={name}"
    )
    return list(data.get("items") or [])


def event_reasons(kube: ControlPlane, namespace: str, name: str) -> list[str]:
    return [e.get("reason") for e in events(kube, namespace, name)]
