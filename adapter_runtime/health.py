"""HTTP endpoints of a pod: /livez, /readyz on health_port and Prometheus /metrics on metrics_port.

When both ports are equal one aiohttp server serves all three paths. A port already served by
another client/server of the same process is shared, not bound twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapter_runtime import metrics
from adapter_runtime.settings import AdapterSettings

log = logging.getLogger("adapter_runtime")

ReadyCheck = Callable[[], bool]


class _Site:
    """One aiohttp server on a port, shared by every client/server of the process that uses it."""

    def __init__(self, runner: web.AppRunner, checks: list[ReadyCheck]) -> None:
        self.runner = runner
        self.checks = checks
        self.users = 0


_sites: dict[int, _Site] = {}


async def _livez(_req: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def _readyz_handler(checks: list[ReadyCheck]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def readyz(_req: web.Request) -> web.Response:
        ok = bool(checks) and all(check() for check in checks)
        return web.Response(status=200 if ok else 503, text="ready\n" if ok else "not ready\n")

    return readyz


async def _metrics(_req: web.Request) -> web.Response:
    body = metrics.prometheus_text()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def _open_site(port: int) -> _Site | None:
    checks: list[ReadyCheck] = []
    app = web.Application()
    app.router.add_get("/livez", _livez)
    app.router.add_get("/readyz", _readyz_handler(checks))
    app.router.add_get("/metrics", _metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "0.0.0.0", port).start()
    except OSError as exc:
        await runner.cleanup()
        log.error("cannot serve health/metrics on port %d: %s", port, exc)
        return None
    return _Site(runner, checks)


class HealthServer:
    """Starts (or joins) the HTTP endpoints for one client/server; leaves them on stop."""

    def __init__(self, settings: AdapterSettings, ready: ReadyCheck) -> None:
        self.health_port = settings.health_port
        self.metrics_port = settings.metrics_port
        self.ready = ready
        self._joined: list[int] = []

    async def start(self) -> None:
        for port in sorted({p for p in (self.health_port, self.metrics_port) if p}):
            site = _sites.get(port)
            if site is None:
                site = await _open_site(port)
                if site is None:
                    continue
                _sites[port] = site
            site.users += 1
            if port == self.health_port:
                site.checks.append(self.ready)
            self._joined.append(port)

    async def stop(self) -> None:
        for port in self._joined:
            site = _sites.get(port)
            if site is None:
                continue
            if self.ready in site.checks:
                site.checks.remove(self.ready)
            site.users -= 1
            if site.users <= 0:
                _sites.pop(port, None)
                await site.runner.cleanup()
        self._joined.clear()
