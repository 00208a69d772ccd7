"""Servers of a SIGKILLed run are reaped by the next one; nothing else is touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from seam_harness.process import ManagedProcess, reap_orphans

pytestmark = pytest.mark.integration

SLEEP = "/bin/sleep"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed child of a dead owner is reparented to init and reaped there; a zombie of ours is not
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def _wait_dead(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_a_killed_owners_server_is_reaped(tmp_path: Path) -> None:
    registry = tmp_path / "run"
    owner_code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from seam_harness.process import ManagedProcess
        p = ManagedProcess([{SLEEP!r}, "300"], Path({str(tmp_path / "sleep.log")!r}),
                           registry=Path({str(registry)!r}))
        p.start()
        print(p.pid, flush=True)
        time.sleep(300)
        """
    )
    owner = subprocess.Popen([sys.executable, "-c", owner_code], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        server_pid = int(owner.stdout.readline())
        assert (registry / f"{server_pid}.json").exists()
        assert reap_orphans(registry) == []  # the owner is alive: hands off
        assert _alive(server_pid)
        owner.send_signal(signal.SIGKILL)
        owner.wait(5)
        assert _alive(server_pid), "its own process group outlives the killed owner"
        assert reap_orphans(registry) == [server_pid]
        assert _wait_dead(server_pid)
        assert not (registry / f"{server_pid}.json").exists()
    finally:
        owner.kill()
        owner.wait(5)


def test_entries_of_a_live_owner_stay_until_stop(tmp_path: Path) -> None:
    registry = tmp_path / "run"
    proc = ManagedProcess([SLEEP, "300"], tmp_path / "sleep.log", registry=registry)
    proc.start()
    pid = proc.pid
    assert pid is not None
    try:
        assert reap_orphans(registry) == []
        assert _alive(pid) and (registry / f"{pid}.json").exists()
    finally:
        proc.stop(grace=2)
    assert not (registry / f"{pid}.json").exists()


def test_a_recycled_pid_is_never_signalled_and_bad_entries_are_dropped(tmp_path: Path) -> None:
    registry = tmp_path / "run"
    registry.mkdir()
    dead_owner = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_owner.wait(5)
    bystander = subprocess.Popen([SLEEP, "300"], start_new_session=True)
    try:
        # the pid now runs something else than the recorded executable
        (registry / f"{bystander.pid}.json").write_text(
            json.dumps({"pid": bystander.pid, "owner": dead_owner.pid, "argv0": "/usr/bin/nats-server"})
        )
        (registry / "garbage.json").write_text("{not json")
        assert reap_orphans(registry) == []
        assert bystander.poll() is None
        assert list(registry.iterdir()) == []
    finally:
        bystander.kill()
        bystander.wait(5)
