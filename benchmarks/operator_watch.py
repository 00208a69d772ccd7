"""I/O probes of the operator benchmark: a Ready watcher on the apiserver and an RSS sampler.

The watcher lists then watches each custom resource kind from the list's resourceVersion, so no
event between the list and the watch is lost, and stamps every event with the local monotonic
clock on arrival (the figures come from `ReadyTracker`, which is pure).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException

from benchmarks.operator_bench_report import ReadyTracker
from benchmarks.operator_manifests import Kind


async def api_client(kubeconfig: Path) -> client.ApiClient:
    """An API client of its own (no global configuration), for the admin kubeconfig."""
    conf = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=conf)
    return client.ApiClient(configuration=conf)


async def _watch_kind(
    api: client.CustomObjectsApi,
    kind: Kind,
    namespace: str,
    tracker: ReadyTracker,
    on_listed: Callable[[], None],
) -> None:
    listed = await api.list_namespaced_custom_object(kind.group, kind.version, namespace, kind.plural)
    now = time.monotonic()
    for obj in listed.get("items", []):
        tracker.observe(kind.kind, obj, now)
    rv = listed["metadata"]["resourceVersion"]
    on_listed()
    while True:
        w = watch.Watch()
        try:
            async with w.stream(
                api.list_namespaced_custom_object,
                kind.group,
                kind.version,
                namespace,
                kind.plural,
                resource_version=rv,
                timeout_seconds=300,
                allow_watch_bookmarks=True,
            ) as stream:
                async for event in stream:
                    obj = event["object"]
                    if event["type"] in ("ADDED", "MODIFIED"):
                        tracker.observe(kind.kind, obj, time.monotonic())
                    rv = obj.get("metadata", {}).get("resourceVersion", rv)
        except TimeoutError:
            continue  # client-side read timeout: resume from the last resourceVersion
        except ApiException as exc:
            if exc.status != 410:
                raise
            # The resourceVersion expired: relist (sightings already stamped keep their times).
            listed = await api.list_namespaced_custom_object(kind.group, kind.version, namespace, kind.plural)
            now = time.monotonic()
            for obj in listed.get("items", []):
                tracker.observe(kind.kind, obj, now)
            rv = listed["metadata"]["resourceVersion"]


@dataclass
class ReadyWatcher:
    """Watches the given kinds in one namespace into a tracker until cancelled."""

    kubeconfig: Path
    namespace: str
    kinds: tuple[Kind, ...]
    tracker: ReadyTracker
    listed: asyncio.Event = field(default_factory=asyncio.Event)
    _lists_done: int = 0

    def _on_listed(self) -> None:
        self._lists_done += 1
        if self._lists_done == len(self.kinds):
            self.listed.set()

    async def run(self) -> None:
        async with await api_client(self.kubeconfig) as api_client_:
            api = client.CustomObjectsApi(api_client_)
            await asyncio.gather(
                *(_watch_kind(api, k, self.namespace, self.tracker, self._on_listed) for k in self.kinds)
            )

    async def wait_listed(self, task: asyncio.Task[None], budget_s: float = 30.0) -> None:
        """Return once every kind is listed: from then on the watches miss no event."""
        deadline = time.monotonic() + budget_s
        while not self.listed.is_set():
            if task.done():
                task.result()
                raise RuntimeError("watcher stopped before listing")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"watcher could not list within {budget_s}s")
            await asyncio.sleep(0.02)

    async def wait_done(self, deadline: float, task: asyncio.Task[None]) -> bool:
        """True once every expected object is Ready; False at the deadline. Watch errors propagate."""
        while not self.tracker.done:
            if task.done():
                task.result()  # raises the watch's error
                return False
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True


def tree_rss(pid: int) -> int | None:
    """RSS of a process plus all its descendants, in bytes; None once it is gone."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def tree_cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds of a process plus its live descendants."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


@dataclass
class RssSampler:
    """Samples the RSS of a process tree every `interval` seconds and keeps the peak."""

    pid: int
    interval: float = 0.2
    peak: int = 0
    samples: int = 0

    async def run(self) -> None:
        while True:
            rss = await asyncio.to_thread(tree_rss, self.pid)
            if rss is not None:
                self.peak = max(self.peak, rss)
                self.samples += 1
            await asyncio.sleep(self.interval)
