"""pytest fixtures for real servers. A server that cannot start raises: the test fails, never skips."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seam_harness.nats import NatsCluster, NatsProcess
from seam_harness.process import tail

_LOGS_KEY = pytest.StashKey[list[Path]]()


def _remember_logs(request: pytest.FixtureRequest, *paths: Path) -> None:
    """Logs of servers a test used are attached to its report when it fails."""
    node = request.node
    node.stash.setdefault(_LOGS_KEY, []).extend(paths)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.failed:
        for path in item.stash.get(_LOGS_KEY, []):
            report.sections.append((f"server log {path.name}", tail(path, 60)))
    return report


@pytest.fixture
def nats_server(request: pytest.FixtureRequest) -> Iterator[NatsProcess]:
    """A fresh single nats-server with JetStream on file storage, private to the test."""
    server = NatsProcess()
    _remember_logs(request, server.log_path)
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
    _remember_logs(request, *cluster.log_paths)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.close()
