"""pytest fixtures for real servers. A server that cannot start raises: the test fails, never skips."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsCluster, NatsProcess
from seam_harness.process import reap_orphans, tail
from seam_harness.toxiproxy import Toxiproxy

_LOGS_KEY = pytest.StashKey[list[Path]]()
_REAPED_KEY = pytest.StashKey[list[int]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Servers left running by an earlier run that was SIGKILLed would hold ports and memory."""
    session.config.stash[_REAPED_KEY] = reap_orphans()


def attach_logs(request: pytest.FixtureRequest, *paths: Path) -> None:
    """Logs of processes a test used (servers, the operator) are attached to its report when it fails."""
    node = request.node
    node.stash.setdefault(_LOGS_KEY, []).extend(paths)


@pytest.fixture
def nats_server(request: pytest.FixtureRequest) -> Iterator[NatsProcess]:
    """A fresh single nats-server with JetStream on file storage, private to the test."""
    server = NatsProcess()
    attach_logs(request, server.log_path)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def nats_url(nats_server: NatsProcess) -> str:
    return nats_server.url


@pytest.fixture
def nats_cluster(request: pytest.FixtureRequest) -> Iterator[NatsCluster]:
    """A 3-node JetStream cluster on loopback."""
    cluster = NatsCluster(3)
    attach_logs(request, *cluster.log_paths)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.close()


# -- control plane and toxiproxy (harness engineer) ------------------------------------------------

_KUBE_KEY = pytest.StashKey[ControlPlane]()


@pytest.fixture(scope="session")
def kube(request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """One real control plane (etcd + kube-apiserver + kube-controller-manager) for the session."""
    plane = ControlPlane()
    request.config.stash[_KUBE_KEY] = plane
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture
def kube_namespace(kube: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace named after the test, deleted (without waiting) afterwards."""
    prefix = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower().removeprefix("test_")).strip("-")
    name = kube.create_namespace(prefix[:40] or "test")
    try:
        yield name
    finally:
        kube.delete_namespace(name)


@pytest.fixture
def toxiproxy(request: pytest.FixtureRequest) -> Iterator[Toxiproxy]:
    """A toxiproxy-server private to the test; create proxies with `toxiproxy.proxy(name, upstream)`."""
    proxy_server = Toxiproxy()
    attach_logs(request, proxy_server.log_path)
    proxy_server.start()
    try:
        yield proxy_server
    finally:
        proxy_server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A failing test gets the tail of the log of every server it used in its report."""
    report = yield
    if report.failed:
        for path in item.stash.get(_LOGS_KEY, []):
            report.sections.append((f"server log {path.name}", tail(path, 150)))
        plane = item.config.stash.get(_KUBE_KEY, None)
        if plane is not None and "kube" in getattr(item, "fixturenames", ()):
            report.sections.append(("control plane logs", plane.log_tails(40)))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    plane = config.stash.get(_KUBE_KEY, None)
    if plane is not None and plane.startup_seconds is not None:
        terminalreporter.write_line(f"seam control plane startup: {plane.startup_seconds:.2f} s")
    reaped = config.stash.get(_REAPED_KEY, [])
    if reaped:
        terminalreporter.write_line(
            f"seam harness: killed {len(reaped)} server(s) left by an earlier killed run"
        )
