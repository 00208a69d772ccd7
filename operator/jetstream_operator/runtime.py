"""The operator's shared process state, created at startup and handed to handlers via kopf's memo."""

from __future__ import annotations

from dataclasses import dataclass, field

from jetstream_operator.config import OperatorSettings
from jetstream_operator.connections import ConnectionPool
from jetstream_operator.kubeapi import KubeAPI
from jetstream_operator.reconcile.connection_config import ConfigCache
from jetstream_operator.registry import Registry


@dataclass
class Runtime:
    settings: OperatorSettings
    kube: KubeAPI
    pool: ConnectionPool
    registry: Registry
    configs: ConfigCache = field(default_factory=lambda: ConfigCache(ttl=30.0))
