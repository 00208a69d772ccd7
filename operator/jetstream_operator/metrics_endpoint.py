"""`GET /metrics` over aiohttp, inside the operator's event loop (no extra thread or process)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

PATH = "/metrics"


class MetricsEndpointError(RuntimeError):
    """The metrics port cannot be served (in use, no permission)."""


def metrics_app(registry: CollectorRegistry) -> web.Application:
    async def metrics(_: web.Request) -> web.Response:
        # A few dozen series: rendering takes well under a millisecond, fine on the loop.
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get(PATH, metrics)
    return app


class MetricsEndpoint:
    """Serves a registry on host:port until `stop`."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._runner = web.AppRunner(metrics_app(registry), access_log=None)

    async def start(self) -> None:
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as exc:
            await self._runner.cleanup()
            raise MetricsEndpointError(
                f"metrics_port: cannot listen on {self.host}:{self.port}: {exc.strerror or exc}"
            ) from exc

    async def stop(self) -> None:
        await self._runner.cleanup()
