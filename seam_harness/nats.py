"""Real nats-server processes with JetStream: one server, or a 3-node cluster on loopback."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path

from seam_harness.process import (
    HarnessError,
    ManagedProcess,
    find_binary,
    free_port,
    scratch_dir,
    tail,
    wait_for_port,
)


class NatsProcess:
    """One nats-server with JetStream on file storage; restarts keep the store and the ports."""

    def __init__(
        self,
        *,
        store_dir: Path | None = None,
        name: str = "n1",
        port: int | None = None,
        cluster_name: str | None = None,
        cluster_port: int | None = None,
        routes: list[int] | None = None,
        extra_config: str = "",
        log_dir: Path | None = None,
    ) -> None:
        self._own_dir = store_dir is None and log_dir is None
        base = Path(tempfile.mkdtemp(prefix=f"seam-nats-{name}-")) if self._own_dir else None
        self.base_dir = base
        self.store_dir = store_dir or (base / "store" if base else scratch_dir(f"nats-{name}-"))
        self.name = name
        self.port = port or free_port()
        self.monitor_port = free_port()
        self.cluster_name = cluster_name
        self.cluster_port = cluster_port
        self.routes = routes or []
        self.extra_config = extra_config
        log_root = log_dir or (base if base else self.store_dir.parent)
        self.config_path = log_root / f"{name}.conf"
        self.log_path = log_root / f"{name}.log"
        self.binary = find_binary("nats-server")
        self._proc = ManagedProcess([self.binary, "-c", str(self.config_path)], self.log_path)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_port}"

    @property
    def running(self) -> bool:
        return self._proc.running

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def _write_config(self) -> None:
        lines = [
            f'server_name: "{self.name}"',
            f"listen: 127.0.0.1:{self.port}",
            f"http: 127.0.0.1:{self.monitor_port}",
            f'jetstream {{ store_dir: "{self.store_dir}" }}',
        ]
        if self.cluster_name:
            routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in self.routes if p != self.cluster_port)
            lines.append(
                f'cluster {{ name: "{self.cluster_name}", listen: 127.0.0.1:{self.cluster_port}, '
                f"routes: [{routes}] }}"
            )
        lines.append(self.extra_config)
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 20.0) -> NatsProcess:
        self._write_config()
        self._proc.start()
        try:
            wait_for_port("127.0.0.1", self.port, timeout, self._proc.proc)
            self.wait_healthy(timeout)
        except HarnessError as exc:
            log = tail(self.log_path)
            raise HarnessError(f"nats-server {self.name} failed to start: {exc}\n{log}") from exc
        return self

    def healthz(self, js_enabled_only: bool = False) -> dict[str, object]:
        q = "?js-enabled-only=true" if js_enabled_only else ""
        try:
            with urllib.request.urlopen(f"{self.monitor_url}/healthz{q}", timeout=2) as r:
                return dict(json.loads(r.read()))
        except urllib.error.HTTPError as e:
            return dict(json.loads(e.read() or b"{}"))

    def wait_healthy(self, timeout: float = 20.0) -> None:
        """Wait until the monitor says JetStream is up (in a cluster: enabled; quorum comes later)."""
        deadline = time.monotonic() + timeout
        last: dict[str, object] = {}
        while time.monotonic() < deadline:
            try:
                last = self.healthz(js_enabled_only=self.cluster_name is not None)
                if last.get("status") == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise HarnessError(f"nats-server {self.name} not healthy after {timeout}s: {last}")

    def varz(self, endpoint: str = "varz") -> dict[str, object]:
        with urllib.request.urlopen(f"{self.monitor_url}/{endpoint}", timeout=5) as r:
            return dict(json.loads(r.read()))

    def stop(self) -> None:
        """Graceful: SIGTERM lets the server flush and close its store."""
        self._proc.stop()

    def kill(self) -> None:
        """kill -9: what a crash or OOM kill does."""
        self._proc.kill()

    def restart(self, *, kill: bool = False, timeout: float = 20.0) -> None:
        self.kill() if kill else self.stop()
        self.start(timeout)

    def close(self) -> None:
        self.stop()
        if self._own_dir and self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> NatsProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class NatsCluster:
    """A JetStream cluster of `size` nodes on loopback; any node can be stopped and started."""

    def __init__(self, size: int = 3, name: str = "seam") -> None:
        self.base_dir = Path(tempfile.mkdtemp(prefix="seam-natscluster-"))
        cluster_ports = [free_port() for _ in range(size)]
        self.nodes = [
            NatsProcess(
                name=f"{name}-n{i + 1}",
                store_dir=self.base_dir / f"n{i + 1}" / "store",
                log_dir=self.base_dir / f"n{i + 1}",
                cluster_name=name,
                cluster_port=cluster_ports[i],
                routes=cluster_ports,
            )
            for i in range(size)
        ]

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def log_paths(self) -> list[Path]:
        return [n.log_path for n in self.nodes]

    def start(self, timeout: float = 30.0) -> NatsCluster:
        for n in self.nodes:
            n._write_config()
            n._proc.start()
        for n in self.nodes:
            try:
                wait_for_port("127.0.0.1", n.port, timeout, n._proc.proc)
            except HarnessError as exc:
                raise HarnessError(f"{n.name}: {exc}\n{tail(n.log_path)}") from exc
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Every running node reports healthy, which in a cluster means JetStream meta quorum."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [n.healthz().get("status") for n in self.nodes if n.running]
            if states and all(s == "ok" for s in states):
                return
            time.sleep(0.1)
        raise HarnessError(
            "cluster not healthy: " + "; ".join(f"{n.name}={n.healthz()}" for n in self.nodes if n.running)
        )

    def stop_node(self, i: int, *, kill: bool = False) -> None:
        self.nodes[i].kill() if kill else self.nodes[i].stop()

    def start_node(self, i: int, timeout: float = 30.0) -> None:
        self.nodes[i].start(timeout)

    def close(self) -> None:
        for n in self.nodes:
            n.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
