"""What a benchmark report says about the machine: CPU model and the nats-server version.

Shared by the adapter, operator and resilience reports so each reads them the same way.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path


def cpu_model(default: str = "unknown") -> str:
    """The first `model name` of /proc/cpuinfo, else `default`."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return default


def nats_server_version(binary: str) -> str:
    """`nats-server --version` as printed (e.g. 'nats-server: v2.15.1')."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False)
    return out.stdout.strip() or out.stderr.strip()
