"""`seam-stack` (NATS only, the control plane half is the same ControlPlane the e2e tier runs)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import nats
import pytest

pytestmark = pytest.mark.integration


def stack(stack_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seam_harness.cli", "--stack-dir", str(stack_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _running(pid: int) -> bool:
    """Alive and not a zombie (a detached supervisor is reaped by whoever adopted it, maybe later)."""
    try:
        os.kill(pid, 0)
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False


async def _publish_one(url: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(name="DEV", subjects=["dev.>"])
    await js.publish("dev.x", b"kept")
    await nc.close()


async def _stored_messages(url: str) -> int:
    nc = await nats.connect(url)
    info = await nc.jetstream().stream_info("DEV")
    await nc.close()
    return int(info.state.messages)


def test_up_status_down_keeps_the_jetstream_store(tmp_path: Path) -> None:
    up = stack(tmp_path, "up", "--no-kube")
    try:
        assert up.returncode == 0, up.stderr
        state = json.loads((tmp_path / "state.json").read_text())
        assert f"export SEAM_NATS_SERVER_URLS={state['nats_url']}" in up.stdout
        assert stack(tmp_path, "status").returncode == 0

        asyncio.run(_publish_one(state["nats_url"]))

        again = stack(tmp_path, "up", "--no-kube")
        assert again.returncode == 0
        assert "already running" in again.stdout
    finally:
        down = stack(tmp_path, "down")
    assert down.returncode == 0
    assert not _running(state["supervisor_pid"])
    assert not _running(state["server_pids"]["nats-server"])
    assert stack(tmp_path, "status").returncode == 3

    up = stack(tmp_path, "up", "--no-kube")
    try:
        assert up.returncode == 0, up.stderr
        url = json.loads((tmp_path / "state.json").read_text())["nats_url"]
        assert asyncio.run(_stored_messages(url)) == 1
    finally:
        assert stack(tmp_path, "down", "--purge").returncode == 0
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_up_fails_with_the_server_log_when_nats_cannot_start(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        up = stack(tmp_path, "up", "--no-kube", "--nats-port", str(port))
    assert up.returncode == 1
    assert "did not come up" in up.stderr
    assert "address already in use" in up.stderr.lower()
    assert not (tmp_path / "state.json").exists()
