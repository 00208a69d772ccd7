"""The operator's shared process state, created at startup and handed to handlers via kopf's memo."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jetstream_operator.config import OperatorSettings
from jetstream_operator.connections import ConnectionPool
from jetstream_operator.kubeapi import KubeAPI
from jetstream_operator.metrics import OperatorMetrics
from jetstream_operator.reconcile.connection_config import ConfigCache
from jetstream_operator.registry import Registry


@dataclass
class Runtime:
    settings: OperatorSettings
    kube: KubeAPI
    pool: ConnectionPool
    registry: Registry
    configs: ConfigCache = field(default_factory=lambda: ConfigCache(ttl=30.0))
    # kopf index of Stream resources, (namespace, name) -> stores of slim bodies (handlers/streams.py),
    # so a Consumer reconcile reads its Stream from memory instead of GETting it. None: always GET.
    streams: Mapping[tuple[str, str], Any] | None = None
    # Prometheus metrics, recorded by the reconcile runner, served by handlers/metrics.py.
    metrics: OperatorMetrics = field(default_factory=OperatorMetrics)
