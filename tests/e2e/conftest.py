"""Fixtures shared by the operator e2e tests: CRDs installed and operators that always stop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from seam_harness.kube import ControlPlane
from seam_harness.nats import NatsProcess
from seam_harness.pytest_plugin import attach_logs
from tests.e2e.operator_process import DEFAULT_RESYNC, OperatorProcess, StartOperator, install_crds


@pytest.fixture
def start_operator(
    kube: ControlPlane, kube_namespace: str, request: pytest.FixtureRequest
) -> Iterator[StartOperator]:
    """Start `python -m jetstream_operator` for the test's namespace (CRDs installed first).

    Every operator started is stopped at teardown, before the namespace goes, even when the test
    failed halfway; its log is attached to a failing test's report.
    """
    install_crds(kube)
    started: list[OperatorProcess] = []

    def start(nats_url: str, **options: Any) -> OperatorProcess:
        op = OperatorProcess(kube, kube_namespace, nats_url, **options)
        attach_logs(request, op.log_path)
        started.append(op)
        return op.start()

    yield start
    for op in reversed(started):
        op.stop()


@pytest.fixture
def operator_resync() -> float:
    """The `operator` fixture's resync period; a test module overrides this fixture to change it."""
    return DEFAULT_RESYNC


@pytest.fixture
def operator(
    nats_server: NatsProcess, start_operator: StartOperator, operator_resync: float
) -> OperatorProcess:
    """One operator for the test's namespace, reaching the test's nats-server."""
    return start_operator(nats_server.url, resync_seconds=operator_resync)
