"""Log setup: kopf's plain or JSON format; Secret values never reach a log line, even at DEBUG."""

from __future__ import annotations

import logging

import kopf


def configure_logging(*, json_logs: bool, level: str) -> None:
    kopf.configure(
        debug=level.upper() == "DEBUG",
        quiet=level.upper() in ("WARNING", "ERROR"),
        log_format=kopf.LogFormat.JSON if json_logs else kopf.LogFormat.FULL,
        log_prefix=not json_logs,
        log_refkey="k8s" if json_logs else None,
    )
    # kubeapi never logs request headers or response bodies (tokens, Secret data); keep it so
    # even if a library it uses learns to: the HTTP client's own logger stays at INFO or above.
    logging.getLogger("aiohttp.client").setLevel(logging.INFO)
    # nats-py and aiohttp are chatty at INFO during reconnect storms.
    logging.getLogger("nats").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
