"""The README's first command: scripts/demo.sh brings up the stack, the operator and the examples,
shows them Ready and one message flowing through the adapter."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.operator_process import REPO

pytestmark = pytest.mark.e2e


def test_demo_script_end_to_end(tmp_path: Path) -> None:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to run the demo"
    env = {**os.environ, "SEAM_STACK_DIR": str(tmp_path / "stack"), "UV": uv, "DEMO_NAMESPACE": "demo-e2e"}
    env.pop("KUBECONFIG", None)
    try:
        done = subprocess.run(
            ["bash", str(REPO / "scripts" / "demo.sh")],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        out = done.stdout + done.stderr
        assert done.returncode == 0, out[-4000:]
        assert "consumed by the adapter on consumer orders-worker: orders.created" in out
        assert "published: stream=orders seq=" in out
        ready_rows = [
            line for line in out.splitlines() if "jetstream.oppie.xyz/orders" in line and " True " in line
        ]
        assert len(ready_rows) >= 2, out[-4000:]  # the Stream and the Consumer, both Ready
        # the operator's own metrics, scraped by the demo: both kinds reconciled Ready, one NATS connection
        assert 'seam_operator_reconcile_total{kind="Stream",result="ready"}' in out, out[-4000:]
        assert 'seam_operator_resources{kind="Consumer",ready="true"} 1.0' in out, out[-4000:]
        assert "seam_operator_nats_connections 1.0" in out, out[-4000:]
    finally:
        subprocess.run(
            [uv, "run", "--frozen", "seam-stack", "down", "--purge"],
            cwd=REPO,
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
