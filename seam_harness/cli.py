"""`seam-stack`: a local dev stack (NATS JetStream + a real Kubernetes control plane) in the background.

`up` starts a detached supervisor process that owns the servers and writes a state file once
they are ready; `down` asks it to stop them (SIGTERM) and cleans up; `status` checks each one.
Everything lives under `.local/stack/` of the current directory (or $SEAM_STACK_DIR); the
JetStream store survives `down` unless `--purge` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from seam_harness.process import pid_alive

STATE_FILE = "state.json"


def default_stack_dir() -> Path:
    return Path(os.environ.get("SEAM_STACK_DIR") or Path.cwd() / ".local" / "stack")


def _read_state(stack_dir: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((stack_dir / STATE_FILE).read_text()))
    except (FileNotFoundError, ValueError):
        return None


def _exports(state: dict[str, Any]) -> str:
    lines = [f"export SEAM_NATS_SERVER_URLS={state['nats_url']}"]
    if state.get("kubeconfig"):
        lines.insert(0, f"export KUBECONFIG={state['kubeconfig']}")
    return "\n".join(lines)


# -- supervisor (runs detached) ------------------------------------------------------------------


def _supervise(stack_dir: Path, nats_port: int | None, with_kube: bool) -> int:
    from seam_harness.kube import ControlPlane
    from seam_harness.nats import NatsProcess

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    nats = NatsProcess(
        name="seam-dev",
        store_dir=stack_dir / "nats" / "store",
        log_dir=stack_dir / "nats",
        port=nats_port,
    )
    plane = ControlPlane(run_dir=stack_dir / "kube") if with_kube else None
    began = time.monotonic()
    try:
        nats.start()
        if plane is not None:
            shutil.rmtree(plane.run_dir, ignore_errors=True)
            plane.start()
        state: dict[str, Any] = {
            "supervisor_pid": os.getpid(),
            "nats_url": nats.url,
            "nats_monitor_url": nats.monitor_url,
            "nats_log": str(nats.log_path),
            "nats_store": str(nats.store_dir),
            "server_pids": {"nats-server": nats.pid},
            "startup_seconds": round(time.monotonic() - began, 2),
        }
        if plane is not None:
            state |= {
                "kubeconfig": str(plane.kubeconfig),
                "restricted_kubeconfig": str(plane.restricted_kubeconfig),
                "api_url": plane.api_url,
                "kube_logs": str(plane.logs_dir),
                "control_plane_startup_seconds": plane.startup_seconds,
            }
            state["server_pids"] |= {name: p.pid for name, p in plane.processes.items()}
        tmp = stack_dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(stack_dir / STATE_FILE)
        print(f"stack ready in {state['startup_seconds']} s", flush=True)
        stop.wait()
        print("stopping", flush=True)
        return 0
    finally:
        if plane is not None:
            plane.stop()
            shutil.rmtree(plane.run_dir, ignore_errors=True)
        nats.stop()
        (stack_dir / STATE_FILE).unlink(missing_ok=True)


# -- commands ------------------------------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    stack_dir: Path = args.stack_dir
    state = _read_state(stack_dir)
    if state and pid_alive(state.get("supervisor_pid")):
        print(f"# stack already running (supervisor pid {state['supervisor_pid']})")
        print(_exports(state))
        return 0
    (stack_dir / STATE_FILE).unlink(missing_ok=True)
    stack_dir.mkdir(parents=True, exist_ok=True)
    log_path = stack_dir / "supervisor.log"
    argv = [sys.executable, "-m", "seam_harness.cli", "--stack-dir", str(stack_dir), "_supervise"]
    if args.nats_port:
        argv += ["--nats-port", str(args.nats_port)]
    if args.no_kube:
        argv.append("--no-kube")
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + args.timeout
    while (state := _read_state(stack_dir)) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)
            print(f"seam-stack: the stack did not come up; supervisor log {log_path}:", file=sys.stderr)
            print("\n".join(log_path.read_text(errors="replace").splitlines()[-30:]), file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(f"# stack up in {state['startup_seconds']} s (supervisor pid {state['supervisor_pid']})")
    if state.get("control_plane_startup_seconds") is not None:
        print(f"# control plane started in {state['control_plane_startup_seconds']} s")
    print("# point kubectl and the adapter at it:")
    print(_exports(state))
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    stack_dir: Path = args.stack_dir
    state = _read_state(stack_dir)
    if state is None:
        print("# no stack running")
    else:
        pid = int(state["supervisor_pid"])
        if pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 60
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
        # A supervisor that was killed leaves its servers: stop them by process group.
        for server_pid in state.get("server_pids", {}).values():
            if pid_alive(server_pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(server_pid), signal.SIGKILL)
        print("# stack stopped")
    (stack_dir / STATE_FILE).unlink(missing_ok=True)
    shutil.rmtree(stack_dir / "kube", ignore_errors=True)
    if args.purge:
        shutil.rmtree(stack_dir, ignore_errors=True)
        print(f"# removed {stack_dir}")
    return 0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return int(resp.status) == 200
    except OSError:
        return False


def _kube_ready(kubeconfig: str) -> bool:
    from seam_harness.kube import kubectl_binary

    done = subprocess.run(
        [str(kubectl_binary()), "--kubeconfig", kubeconfig, "get", "--raw", "/readyz"],
        capture_output=True,
        text=True,
        timeout=15,
    )
    return done.returncode == 0 and done.stdout.strip() == "ok"


def cmd_status(args: argparse.Namespace) -> int:
    state = _read_state(args.stack_dir)
    if state is None:
        print("stack: not running")
        return 3
    checks = {
        "supervisor": pid_alive(state.get("supervisor_pid")),
        "nats": _http_ok(state["nats_monitor_url"] + "/healthz"),
    }
    if state.get("kubeconfig"):
        checks["kube-apiserver"] = _kube_ready(state["kubeconfig"])
        for name in ("etcd", "kube-controller-manager"):
            checks[name] = pid_alive(state["server_pids"].get(name))
    for name, ok in checks.items():
        print(f"{name:<24} {'ok' if ok else 'DOWN'}")
    print(f"{'nats url':<24} {state['nats_url']}")
    if state.get("api_url"):
        print(f"{'kube api':<24} {state['api_url']}")
    print(_exports(state))
    return 0 if all(checks.values()) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seam-stack", description=__doc__.splitlines()[0])
    parser.add_argument("--stack-dir", type=Path, default=default_stack_dir())
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start NATS and the control plane in the background")
    up.add_argument("--nats-port", type=int, default=None, help="fixed NATS client port (default random)")
    up.add_argument("--no-kube", action="store_true", help="NATS only")
    up.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for readiness")
    down = sub.add_parser("down", help="stop everything and clean up")
    down.add_argument("--purge", action="store_true", help="also delete the JetStream store and logs")
    sub.add_parser("status", help="health of each server; exit 0 only if all are up")
    sup = sub.add_parser("_supervise")  # internal: the detached supervisor
    sup.add_argument("--nats-port", type=int, default=None)
    sup.add_argument("--no-kube", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.stack_dir = args.stack_dir.resolve()
    if args.command == "_supervise":
        return _supervise(args.stack_dir, args.nats_port, not args.no_kube)
    return {"up": cmd_up, "down": cmd_down, "status": cmd_status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
