"""NACK (github.com/nats-io/nack jetstream-controller) as the benchmark's baseline.

`scripts/provision.sh nack` builds the controller into the provision cache; its CRDs ship inside
the Go module it was built from, so they are read from the Go module cache and applied from
there, never copied into this repository.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.operator_manifests import Kind, consumer_name, stream_name, subject
from seam_harness.process import HarnessError, ManagedProcess, cache_dir

NACK_MODULE = "github.com/nats-io/nack"
NACK_GROUP = "jetstream.nats.io"
NACK_API_VERSION = "v1beta2"
NACK_STREAM = Kind(NACK_GROUP, NACK_API_VERSION, "streams", "Stream")
NACK_CONSUMER = Kind(NACK_GROUP, NACK_API_VERSION, "consumers", "Consumer")
_PROVISION_HINT = "run `scripts/provision.sh nack`"


class NackError(HarnessError):
    """NACK's binary or CRDs are missing, or the controller did not start."""


def nack_binary() -> Path:
    path = cache_dir() / "bin" / "jetstream-controller"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise NackError(f"jetstream-controller not found at {path}: {_PROVISION_HINT}")
    return path


def module_version_from_buildinfo(text: str) -> str:
    """The NACK module version from `go version -m <binary>` output (pure, for tests)."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("mod", "dep") and parts[1] == NACK_MODULE:
            return parts[2]
    raise NackError(f"{NACK_MODULE} not found in the binary's build info")


def nack_module_version(binary: Path) -> str:
    """The module version the binary was built from, read from its embedded build info."""
    done = subprocess.run(["go", "version", "-m", str(binary)], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise NackError(f"go version -m {binary} failed: {done.stderr.strip()}")
    return module_version_from_buildinfo(done.stdout)


def go_mod_cache() -> Path:
    done = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, timeout=30)
    if done.returncode != 0 or not done.stdout.strip():
        raise NackError(f"go env GOMODCACHE failed: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def nack_crds_path(version: str, modcache: Path | None = None) -> Path:
    """deploy/crds.yml of the NACK module `version` in the Go module cache."""
    if not re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", version):
        raise NackError(f"not a module version: {version!r}")
    path = (modcache or go_mod_cache()) / f"{NACK_MODULE}@{version}" / "deploy" / "crds.yml"
    if not path.is_file():
        raise NackError(f"NACK CRDs not found at {path}: {_PROVISION_HINT}")
    return path


def nack_manifests(count: int, namespace: str) -> list[dict[str, Any]]:
    """The benchmark load in NACK's schema: same names, subjects and consumer settings as ours."""
    if count < 1 or count > 9999:
        raise ValueError(f"count: must be within 1..9999, got {count}")
    streams = [
        {
            "apiVersion": NACK_STREAM.api_version,
            "kind": NACK_STREAM.kind,
            "metadata": {"name": stream_name(i), "namespace": namespace},
            "spec": {"name": stream_name(i), "subjects": [subject(i)], "storage": "file", "replicas": 1},
        }
        for i in range(count)
    ]
    consumers = [
        {
            "apiVersion": NACK_CONSUMER.api_version,
            "kind": NACK_CONSUMER.kind,
            "metadata": {"name": consumer_name(i), "namespace": namespace},
            "spec": {
                "streamName": stream_name(i),
                "durableName": consumer_name(i),
                "deliverPolicy": "all",
                "ackPolicy": "explicit",
                "maxDeliver": 5,
            },
        }
        for i in range(count)
    ]
    return streams + consumers


def nack_argv(binary: Path, kubeconfig: Path, namespace: str, nats_url: str, workdir: Path) -> list[str]:
    """The controller's command line; `env -C` runs it in `workdir` because it creates a cache
    directory in its working directory."""
    return [
        "env",
        "-C",
        str(workdir),
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--namespace={namespace}",
        f"-s={nats_url}",
    ]


def start_nack(kubeconfig: Path, namespace: str, nats_url: str, log_dir: Path) -> ManagedProcess:
    """Start the controller watching `namespace` only, with the global NATS URL."""
    workdir = Path(tempfile.mkdtemp(prefix="seam-nack-", dir=log_dir))
    proc = ManagedProcess(
        nack_argv(nack_binary(), kubeconfig, namespace, nats_url, workdir), log_dir / "nack.log"
    )
    proc.start()
    return proc
