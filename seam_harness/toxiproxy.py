"""Network faults between a client and a real server, through a real toxiproxy-server.

Tests put a proxy in front of nats-server and hand clients the proxy's URL; cutting the proxy
drops every open connection and refuses new ones, which is what a network partition looks like
to a client. The HTTP API is small enough for urllib.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from seam_harness.kube import server_binary
from seam_harness.process import HarnessError, ManagedProcess, free_port, tail, wait_for_port


class ToxiproxyError(HarnessError):
    """The toxiproxy API refused a request."""


class Proxy:
    """One TCP proxy: `listen` is what clients connect to, `upstream` the real server."""

    def __init__(self, api: Toxiproxy, name: str, listen: str, upstream: str) -> None:
        self._api = api
        self.name = name
        self.listen = listen
        self.upstream = upstream

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    @property
    def url(self) -> str:
        """A NATS URL through the proxy."""
        return f"nats://{self.listen}"

    def cut(self) -> None:
        """Disable the proxy: open connections are dropped, new ones refused."""
        self._api.request("POST", f"/proxies/{self.name}", {"enabled": False})

    def restore(self) -> None:
        """Enable the proxy again on the same listen address."""
        self._api.request("POST", f"/proxies/{self.name}", {"enabled": True})

    def latency(self, ms: int, jitter_ms: int = 0, stream: str = "downstream") -> None:
        """Delay data flowing `downstream` (server to client) or `upstream` by `ms` milliseconds."""
        self._api.request(
            "POST",
            f"/proxies/{self.name}/toxics",
            {
                "name": f"latency_{stream}",
                "type": "latency",
                "stream": stream,
                "toxicity": 1.0,
                "attributes": {"latency": ms, "jitter": jitter_ms},
            },
        )

    def reset(self) -> None:
        """Remove every toxic and enable the proxy."""
        for toxic in self.toxics():
            self._api.request("DELETE", f"/proxies/{self.name}/toxics/{toxic['name']}")
        self.restore()

    def toxics(self) -> list[dict[str, Any]]:
        return list(self._api.request("GET", f"/proxies/{self.name}/toxics") or [])

    def enabled(self) -> bool:
        return bool(self._api.request("GET", f"/proxies/{self.name}")["enabled"])


class Toxiproxy:
    """A toxiproxy-server on a random loopback port; a context manager."""

    def __init__(self, log_dir: Path | None = None) -> None:
        self._own_dir = log_dir is None
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="seam-toxiproxy-"))
        self.log_path = self.log_dir / "toxiproxy.log"
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.proxies: dict[str, Proxy] = {}
        self._proc = ManagedProcess(
            [str(server_binary("toxiproxy-server")), "-host", "127.0.0.1", "-port", str(self.port)],
            self.log_path,
        )

    def start(self, timeout: float = 20.0) -> Toxiproxy:
        self._proc.start()
        try:
            wait_for_port("127.0.0.1", self.port, timeout, self._proc.proc)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    self.request("GET", "/version")
                    break
                except (OSError, ToxiproxyError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        except (HarnessError, OSError) as exc:
            self.stop()
            raise HarnessError(f"toxiproxy-server failed to start: {exc}\n{tail(self.log_path)}") from exc
        return self

    def stop(self) -> None:
        self._proc.stop(grace=5)
        if self._own_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def __enter__(self) -> Toxiproxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the HTTP API; JSON in, JSON out, a ToxiproxyError naming the call on failure."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.api_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raise ToxiproxyError(
                f"toxiproxy {method} {path} -> {err.code}: {err.read().decode(errors='replace')}"
            ) from err
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode(errors="replace")

    def proxy(self, name: str, upstream: str, listen_port: int | None = None) -> Proxy:
        """Create a proxy from a fresh loopback port to `upstream` ("host:port" or a nats:// URL)."""
        upstream = upstream.split("://", 1)[-1].rstrip("/")
        listen = f"127.0.0.1:{listen_port or free_port()}"
        created = self.request(
            "POST", "/proxies", {"name": name, "listen": listen, "upstream": upstream, "enabled": True}
        )
        proxy = Proxy(self, name, str(created.get("listen", listen)), upstream)
        self.proxies[name] = proxy
        return proxy

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self.request("POST", "/reset")

    def delete_all(self) -> None:
        for name in list(self.proxies):
            self.request("DELETE", f"/proxies/{name}")
            del self.proxies[name]
