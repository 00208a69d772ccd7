"""Locating NACK's CRDs from the binary's build info (pure parts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.nack import NackError, module_version_from_buildinfo, nack_argv, nack_crds_path

pytestmark = pytest.mark.unit

BUILDINFO = """/root/.cache/seam-jetstream/bin/jetstream-controller: go1.26.8
\tpath\tgithub.com/nats-io/nack/cmd/jetstream-controller
\tmod\tgithub.com/nats-io/nack\tv0.16.2\th1:abc=
\tdep\tgithub.com/nats-io/nats.go\tv1.35.0\th1:def=
"""


def test_version_is_read_from_the_main_module_line() -> None:
    assert module_version_from_buildinfo(BUILDINFO) == "v0.16.2"


def test_version_is_read_when_nack_is_a_dependency_of_a_wrapper_module() -> None:
    text = (
        "x: go1.26\n\tpath\tgithub.com/nats-io/nack/cmd/jetstream-controller\n"
        "\tmod\tseam.local/nackbuild\t(devel)\n\tdep\tgithub.com/nats-io/nack\tv0.16.2\th1:x=\n"
    )
    assert module_version_from_buildinfo(text) == "v0.16.2"


def test_missing_module_is_a_clear_error() -> None:
    with pytest.raises(NackError, match=r"github\.com/nats-io/nack not found"):
        module_version_from_buildinfo("x: go1.26\n\tpath\tother\n")


def test_crds_path_inside_the_module_cache(tmp_path: Path) -> None:
    crds = tmp_path / "github.com/nats-io/nack@v0.16.2/deploy/crds.yml"
    crds.parent.mkdir(parents=True)
    crds.write_text("kind: CustomResourceDefinition\n")
    assert nack_crds_path("v0.16.2", tmp_path) == crds


def test_crds_path_missing_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(NackError, match=r"NACK CRDs not found at .*nack@v0\.16\.2/deploy/crds\.yml"):
        nack_crds_path("v0.16.2", tmp_path)


@pytest.mark.parametrize("version", ["latest", "../../etc", "0.16.2", ""])
def test_crds_path_refuses_a_non_version(tmp_path: Path, version: str) -> None:
    with pytest.raises(NackError, match="not a module version"):
        nack_crds_path(version, tmp_path)


def test_argv_runs_in_workdir_against_one_namespace(tmp_path: Path) -> None:
    argv = nack_argv(Path("/bin/jc"), Path("/k/admin.kubeconfig"), "ns1", "nats://127.0.0.1:4222", tmp_path)
    assert argv[:3] == ["env", "-C", str(tmp_path)]
    assert argv[3] == "/bin/jc"
    assert "--namespace=ns1" in argv
    assert "--kubeconfig=/k/admin.kubeconfig" in argv
    assert "-s=nats://127.0.0.1:4222" in argv
