"""In-process index of the resources this replica reconciles, for event-driven repair.

Each resource gets one lock (so a handler, the drift daemon and an advisory never reconcile it
concurrently) and, while its daemon runs, a wake-up event. The index answers "which resources
use NATS stream S on connection K", "which depend on NatsConnection N", and "which Consumers
reference Stream resource R". Daemons stop when kopf pauses this replica (peering), so a
standby replica has no awake entries and ignores advisories.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

STREAM = "streams"
CONSUMER = "consumers"
CONNECTION = "natsconnections"


@dataclass(frozen=True)
class ResourceKey:
    plural: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.plural}/{self.namespace}/{self.name}"


@dataclass
class Tracked:
    key: ResourceKey
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wake: asyncio.Event | None = None  # set while the drift daemon runs
    missed: bool = False  # a nudge came while no daemon ran: the next daemon checks at once
    pool_key: str | None = None
    stream: str | None = None  # NATS stream name in use
    consumer: str | None = None  # NATS consumer name in use (consumers only)
    connection: str | None = None  # NatsConnection name (None = operator default)
    stream_resource: str | None = None  # Stream resource a Consumer references
    deleting: bool = False
    observe: bool = False  # managementPolicy Observe: woken when the object appears
    attempt: int = 0  # consecutive failures, for backoff
    problem: str = ""  # "Reason: message" of the last failed reconcile, for kopf's retry log
    written: dict[str, Any] | None = None  # last status this replica wrote (the watch may lag)
    secrets: frozenset[str] = frozenset()  # Secrets a NatsConnection reads


class Registry:
    def __init__(self) -> None:
        self._items: dict[ResourceKey, Tracked] = {}

    def track(self, plural: str, namespace: str, name: str) -> Tracked:
        key = ResourceKey(plural, namespace, name)
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = Tracked(key)
        return item

    def find(self, plural: str, namespace: str, name: str) -> Tracked | None:
        """The entry if this replica tracks the resource (unlike `track`, never creates one)."""
        return self._items.get(ResourceKey(plural, namespace, name))

    def forget(self, plural: str, namespace: str, name: str) -> None:
        self._items.pop(ResourceKey(plural, namespace, name), None)

    def items(self) -> list[Tracked]:
        return list(self._items.values())

    @staticmethod
    def nudge(items: list[Tracked]) -> int:
        """Wake the daemons of `items`; returns how many were awake to receive it."""
        woken = 0
        for item in items:
            if item.deleting:
                continue
            if item.wake is not None:
                item.wake.set()
                woken += 1
            else:
                item.missed = True
        return woken

    def using_stream(self, pool_key: str, stream: str) -> list[Tracked]:
        """Streams and Consumers bound to NATS stream `stream` over connection `pool_key`."""
        return [i for i in self._items.values() if i.pool_key == pool_key and i.stream == stream]

    def using_consumer(self, pool_key: str, stream: str, consumer: str) -> list[Tracked]:
        return [
            i
            for i in self._items.values()
            if i.key.plural == CONSUMER
            and i.pool_key == pool_key
            and i.stream == stream
            and i.consumer == consumer
        ]

    def using_pool(self, pool_key: str) -> list[Tracked]:
        return [i for i in self._items.values() if i.pool_key == pool_key]

    def using_connection(self, namespace: str, connection: str) -> list[Tracked]:
        return [
            i
            for i in self._items.values()
            if i.key.namespace == namespace and i.connection == connection and i.key.plural != CONNECTION
        ]

    def consumers_of(self, namespace: str, stream_resource: str) -> list[Tracked]:
        return [
            i
            for i in self._items.values()
            if i.key.plural == CONSUMER
            and i.key.namespace == namespace
            and i.stream_resource == stream_resource
        ]
