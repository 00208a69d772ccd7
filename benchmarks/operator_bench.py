"""Operator benchmark (issue 3 §8): apply N Streams + N Consumers at once, time them to Ready.

    uv run python -m benchmarks.operator_bench [--count 500] [--skip-nack] [--out docs/operator_benchmark.md]

One control plane serves both sides; each side gets a fresh namespace, a fresh nats-server and
its controller started alone, so the two never compete for the two cores. Per side: the whole
load goes in one `kubectl apply --server-side`, a watch stamps each object's first sighting and
its first Ready=True on arrival, and the controller's RSS is sampled every 0.2 s. Targets apply
to our operator; NACK's figures give the ratio. Exits 0 even when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import nack
from benchmarks.apiserver_requests import (
    RequestKey,
    interesting,
    parse_request_totals,
    request_delta,
    summarise,
)
from benchmarks.machine import cpu_model, nats_server_version
from benchmarks.operator_bench_report import (
    ReadyTracker,
    SideResult,
    markdown_report,
    side_result,
    table_cells,
    text_table,
)
from benchmarks.operator_manifests import (
    OUR_CONNECTION,
    OUR_CONSUMER,
    OUR_STREAM,
    Kind,
    names_by_kind,
    our_manifests,
    yaml_stream,
)
from benchmarks.operator_watch import ReadyWatcher, RssSampler, tree_cpu_seconds, tree_rss
from seam_harness.kube import ControlPlane, kubectl_binary
from seam_harness.nats import NatsProcess
from seam_harness.process import ManagedProcess, find_binary, free_port, tail

REPO = Path(__file__).resolve().parent.parent
OUR_CRDS = REPO / "crds"


@dataclass(frozen=True)
class Controller:
    """A started controller process and how to tell it is up (None: wait for its start log)."""

    proc: ManagedProcess
    health_url: str | None = None


@dataclass(frozen=True)
class Side:
    """How to run one controller against the shared control plane."""

    label: str
    kinds: tuple[Kind, Kind]
    manifests: Callable[[int, str], list[dict[str, Any]]]
    start: Callable[[ControlPlane, str, str, Path], Controller]
    await_up: Callable[[Controller, float], None]


# -- our operator ----------------------------------------------------------------------------------


def start_ours(plane: ControlPlane, namespace: str, nats_url: str, log_dir: Path) -> Controller:
    """Our operator as `python -m jetstream_operator`, watching the benchmark namespace only."""
    port = free_port()
    env = {
        **os.environ,
        "KUBECONFIG": str(plane.kubeconfig),
        "SEAM_OPERATOR_HEALTH_HOST": "127.0.0.1",
        "SEAM_OPERATOR_METRICS_HOST": "127.0.0.1",
    }
    argv = [
        sys.executable,
        "-m",
        "jetstream_operator",
        f"--namespace={namespace}",
        f"--nats-url={nats_url}",
        f"--health-port={port}",
        f"--metrics-port={free_port()}",  # metrics on, as deployed; a free port, not the default 8081
        "--standalone",
        f"--log-level={operator_log_level()}",
    ]
    proc = ManagedProcess(argv, log_dir / "operator.log", env=env)
    proc.start()
    return Controller(proc, f"http://127.0.0.1:{port}/healthz")


def operator_log_level() -> str:
    return os.environ.get("SEAM_BENCH_OPERATOR_LOG_LEVEL", "WARNING")


def await_ours(ctl: Controller, timeout: float) -> None:
    """Up once the liveness endpoint answers (kopf serves it after startup handlers ran)."""
    proc, url = ctl.proc, ctl.health_url
    assert url is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _check_alive(proc, "operator")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    time.sleep(2.0)  # same settle time as NACK gets after its start line
                    _check_alive(proc, "operator")
                    return
        time.sleep(0.1)
    raise TimeoutError(f"operator health endpoint {url} not up after {timeout}s\n{tail(proc.log_path, 30)}")


# -- NACK ------------------------------------------------------------------------------------------


def start_nack(plane: ControlPlane, namespace: str, nats_url: str, log_dir: Path) -> Controller:
    return Controller(nack.start_nack(plane.kubeconfig, namespace, nats_url, log_dir))


def await_nack(ctl: Controller, timeout: float) -> None:
    """NACK has no health endpoint: up once it logged its start and stayed alive for 2 s."""
    proc = ctl.proc
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _check_alive(proc, "NACK")
        if "Starting" in tail(proc.log_path, 50):
            time.sleep(2.0)
            _check_alive(proc, "NACK")
            return
        time.sleep(0.1)
    raise TimeoutError(f"NACK did not start after {timeout}s\n{tail(proc.log_path, 30)}")


def _check_alive(proc: ManagedProcess, what: str) -> None:
    if not proc.running:
        raise RuntimeError(f"{what} exited early; log {proc.log_path}:\n{tail(proc.log_path, 40)}")


OURS = Side("ours", (OUR_STREAM, OUR_CONSUMER), our_manifests, start_ours, await_ours)
NACK = Side("NACK", (nack.NACK_STREAM, nack.NACK_CONSUMER), nack.nack_manifests, start_nack, await_nack)


# -- one side --------------------------------------------------------------------------------------


async def kubectl_apply(kubeconfig: Path, document: str, budget: float) -> None:
    proc = await asyncio.create_subprocess_exec(
        str(kubectl_binary()),
        "--kubeconfig",
        str(kubeconfig),
        "apply",
        "--server-side",
        "--field-manager=seam-bench",
        "-f",
        "-",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(document.encode()), budget)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"kubectl apply exited {proc.returncode}: {err.decode()[-2000:]}")


def start_py_spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy (through uvx) sampling the controller into collapsed stacks; stopped with SIGINT."""
    argv = ["uvx", "py-spy", "record", "-p", str(pid), "-o", str(out), "--format", "raw", "-r", "50"]
    out_err = subprocess.DEVNULL
    return subprocess.Popen(argv, stdout=out_err, stderr=out_err, start_new_session=True)


def stop_py_spy(spy: subprocess.Popen[bytes]) -> None:
    if spy.poll() is not None:
        return
    os.killpg(spy.pid, signal.SIGINT)  # uvx and py-spy: py-spy writes its file on SIGINT
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(spy.pid, signal.SIGKILL)
        spy.wait(5)


async def measure(
    side: Side,
    plane: ControlPlane,
    proc: ManagedProcess,
    namespace: str,
    count: int,
    budget: float,
    profile: Path | None = None,
) -> SideResult:
    docs = side.manifests(count, namespace)
    by_kind = names_by_kind(docs)
    tracker = ReadyTracker({(k, n) for k, names in by_kind.items() for n in names})
    watcher = ReadyWatcher(plane.kubeconfig, namespace, side.kinds, tracker)
    assert proc.pid is not None
    sampler = RssSampler(proc.pid)
    idle_rss = tree_rss(proc.pid)
    watch_task = asyncio.create_task(watcher.run())
    sample_task = asyncio.create_task(sampler.run())
    spy: subprocess.Popen[bytes] | None = None
    try:
        await watcher.wait_listed(watch_task)
        requests_before = await asyncio.to_thread(request_totals, plane)
        if profile is not None:
            spy = start_py_spy(proc.pid, profile)
            await asyncio.sleep(2.0)  # py-spy attached before the load arrives
        cpu_before = tree_cpu_seconds(proc.pid) or 0.0
        plane_cpu_before = control_plane_cpu(plane)
        started = time.monotonic()
        await kubectl_apply(plane.kubeconfig, yaml_stream(docs), budget)
        applied = time.monotonic() - started
        await watcher.wait_done(started + budget, watch_task)
        cpu_after = tree_cpu_seconds(proc.pid)
        plane_cpu = control_plane_cpu(plane) - plane_cpu_before
        requests = request_delta(requests_before, await asyncio.to_thread(request_totals, plane))
        _check_alive(proc, side.label)
    finally:
        if spy is not None:
            await asyncio.to_thread(stop_py_spy, spy)
        for task in (watch_task, sample_task):
            task.cancel()
        await asyncio.gather(watch_task, sample_task, return_exceptions=True)
    pending = tracker.pending()
    return side_result(
        side.label,
        tracker,
        started,
        sampler.peak or None,
        idle_rss_bytes=idle_rss,
        cpu_seconds=(cpu_after - cpu_before) if cpu_after is not None else None,
        apply_seconds=applied,
        control_plane_cpu_seconds=plane_cpu,
        api_requests=summarise(interesting(requests, (side.kinds[0].group,)), len(docs)),
        error=(
            f"{len(pending)} objects not Ready after {budget:.0f}s, e.g. {pending[:3]}" if pending else None
        ),
    )


def control_plane_cpu(plane: ControlPlane) -> float:
    """User+system CPU seconds of etcd, kube-apiserver and kube-controller-manager so far."""
    return sum(tree_cpu_seconds(p.pid) or 0.0 for p in plane.processes.values() if p.pid is not None)


def request_totals(plane: ControlPlane) -> Counter[RequestKey]:
    status, body = plane.api_get("/metrics", timeout=30)
    if status != 200:
        raise RuntimeError(f"apiserver /metrics answered {status}")
    return parse_request_totals(body.decode())


def apply_alone(plane: ControlPlane, count: int, budget: float) -> float:
    """Seconds the same apply takes with no controller running: the apiserver's own pace."""
    namespace = plane.create_namespace("bench-apply-alone")
    started = time.monotonic()
    asyncio.run(kubectl_apply(plane.kubeconfig, yaml_stream(our_manifests(count, namespace)), budget))
    return time.monotonic() - started


def run_side(
    side: Side, plane: ControlPlane, count: int, timeout: float, log_dir: Path, profile: Path | None = None
) -> SideResult:
    """Fresh namespace + nats-server + controller; measure; stop everything it started."""
    namespace = plane.create_namespace(f"bench-{side.label.lower()}")
    server = NatsProcess(name=f"nats-{side.label.lower()}")
    proc: ManagedProcess | None = None
    try:
        server.start()
        ctl = side.start(plane, namespace, server.url, log_dir)
        proc = ctl.proc
        side.await_up(ctl, 90.0)
        print(
            f"[bench] {side.label}: controller up, applying {count} Streams + {count} Consumers", flush=True
        )
        result = asyncio.run(measure(side, plane, proc, namespace, count, timeout, profile))
    except Exception as exc:  # reported in the table, the other side still runs
        result = SideResult(side.label, 2 * count, 0, None, (), None, error=f"{type(exc).__name__}: {exc}")
    finally:
        if proc is not None:
            proc.stop(grace=10)
        server.stop()
        # Namespaces are left alone: deleting them would load the apiserver while the next side
        # runs (and finalizers with no controller left would keep them); the plane goes at the end.
    print(f"[bench] {side.label}: {result.ready}/{result.expected} Ready; error: {result.error}", flush=True)
    return result


# -- setup and report ------------------------------------------------------------------------------


def install_crds(plane: ControlPlane, source: tuple[str, str], kinds: tuple[Kind, ...]) -> None:
    """Apply CRDs (`-k dir` or `-f file`) and wait until the watched kinds can be listed.

    Established comes before the storage of a new CRD is ready (lists answer 429 for a moment),
    so a controller started at once would begin with retries.
    """
    plane.kubectl("apply", "--server-side", "--force-conflicts", *source)
    plane.wait_established(
        *plane.kubectl("get", "crd", "-o", "name")
        .stdout.replace("customresourcedefinition.apiextensions.k8s.io/", "")
        .split()
    )
    deadline = time.monotonic() + 60
    for kind in kinds:
        while plane.kubectl("get", f"{kind.plural}.{kind.group}", "-A", check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{kind.plural}.{kind.group} does not list after 60s")
            time.sleep(0.2)


def git_describe() -> str:
    """The commit measured, with `+dirty` when the operator's files differ from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "operator", "crds"], capture_output=True, text=True, cwd=REPO
    )
    return (head.stdout.strip() or "?") + (" +dirty operator/crds" if dirty.stdout.strip() else "")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_info(kube_version: str, nack_version: str | None) -> dict[str, str]:
    cpu = cpu_model("?")
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    nats_version = nats_server_version(find_binary("nats-server"))
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": f"{os.cpu_count()} x {cpu}",
        "memory": mem,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "nats-server": nats_version.removeprefix("nats-server: "),
        "kube-apiserver": kube_version,
        "NACK jetstream-controller": nack_version or "not run",
    }


METHOD = (
    "One control plane (etcd + kube-apiserver + kube-controller-manager from the harness) serves both "
    "sides; each side gets a fresh namespace, a fresh nats-server (JetStream, file storage) and its "
    "controller, started alone and stopped before the other side runs.",
    "Load: N Streams (one subject each, file storage, 1 replica) then N durable pull Consumers, "
    "consumer i on stream i, in ONE multi-document YAML applied with one `kubectl apply --server-side`.",
    "A list+watch per kind stamps each object's first sighting and its first Ready=True condition with "
    "the local monotonic clock on arrival (apiserver timestamps have 1 s resolution).",
    "apply->Ready latency = Ready receipt - first sighting, per object; p50/p99 by linear interpolation.",
    "Time to all Ready = last Ready receipt - start of the kubectl apply.",
    "Peak RSS = maximum of RSS summed over the controller process and its children, sampled every 0.2 s "
    "from just before the apply until all objects are Ready (or the timeout); idle RSS is the first "
    "sample, with the controller up and nothing to do.",
    "CPU time = user+system seconds of the controller between the start of the apply and the end; "
    "control-plane CPU = the same for etcd + kube-apiserver + kube-controller-manager, i.e. the cost "
    "of the apply and of every request the controller made.",
    "Ratios are ours / NACK (below 1.00x means ours is faster or smaller). Targets apply to ours.",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.operator_bench", description=__doc__)
    parser.add_argument("--count", type=int, default=500, help="Streams (and as many Consumers) to apply")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per side to get all Ready")
    parser.add_argument("--skip-nack", action="store_true", help="measure our operator only")
    parser.add_argument("--skip-ours", action="store_true", help="measure NACK only (to validate that half)")
    parser.add_argument(
        "--py-spy",
        type=Path,
        metavar="FILE",
        help="sample our operator with py-spy during the run into FILE (collapsed stacks; skews figures)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "operator_benchmark.md")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count: must be at least 1")

    log_dir = Path(tempfile.mkdtemp(prefix="seam-opbench-"))
    load_at_start = load_average()
    nack_version: str | None = None
    alone: float | None = None
    ours: SideResult | None = None
    theirs: SideResult | None = None
    with ControlPlane(start_timeout=180.0) as plane:
        print(f"[bench] control plane up in {plane.startup_seconds}s; logs in {log_dir}", flush=True)
        kube_version = json.loads(plane.api_get("/version")[1]).get("gitVersion", "?")
        if not args.skip_ours:
            install_crds(plane, ("-k", str(OUR_CRDS)), (*OURS.kinds, OUR_CONNECTION))
            alone = apply_alone(plane, args.count, args.timeout)
            print(f"[bench] kubectl apply with no controller running: {alone:.1f}s", flush=True)
            ours = run_side(OURS, plane, args.count, args.timeout, log_dir, args.py_spy)
        if not args.skip_nack:
            try:
                binary = nack.nack_binary()
                nack_version = nack.nack_module_version(binary)
                install_crds(plane, ("-f", str(nack.nack_crds_path(nack_version))), NACK.kinds)
                theirs = run_side(NACK, plane, args.count, args.timeout, log_dir)
            except Exception as exc:
                theirs = SideResult(
                    "NACK", 2 * args.count, 0, None, (), None, error=f"{type(exc).__name__}: {exc}"
                )

    if ours is None:  # --skip-ours: show NACK in the first column so the half can be checked
        ours, theirs = theirs, None
    assert ours is not None
    rows = table_cells(ours, theirs)
    print(text_table(rows))
    notes = [f"{r.label}: {r.error}" for r in (ours, theirs) if r is not None and r.error]
    notes += [
        f"{r.label}: objects per Ready=False reason seen before Ready: {r.detours}"
        for r in (ours, theirs)
        if r is not None and r.detours
    ]
    notes += [
        f"{r.label}: API requests on its custom resources and Events during the run "
        f"(incl. the benchmark's apply): {r.api_requests}"
        for r in (ours, theirs)
        if r is not None and r.api_requests
    ]
    if theirs is not None and nack_version:
        notes.append(
            f"NACK {nack_version} (pinned in versions.env; the Go module proxy here refused the v0.17+ "
            "versions tried, so its newer control-loop mode is not measured). It runs informers "
            "with one worker per kind and client-go's default client-side rate limit (5 requests/s, "
            "burst 10; its main.go does not raise it), which paces its status writes."
        )
    if alone is not None:
        notes.append(
            f"The same kubectl apply with no controller running took {alone:.1f} s: the difference to each "
            "side's apply duration is the apiserver time its controller took away."
        )
    if args.skip_ours:
        notes.insert(0, "NACK only (--skip-ours): the 'ours' column shows NACK, no ratio.")
    parameters = {
        "count": f"{args.count} Streams + {args.count} Consumers",
        "timeout per side": f"{args.timeout:.0f} s",
        "operator log level": operator_log_level(),
        "commit": git_describe(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    machine = machine_info(kube_version, nack_version)
    machine["load average at start / end"] = (
        f"{load_at_start} / {load_average()} (1/5/15 min; other work shares the cores)"
    )
    args.out.write_text(markdown_report(args.count, rows, machine, parameters, METHOD, notes))
    for note in notes:
        print(f"[bench] note: {note}")
    print(f"[bench] report written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
