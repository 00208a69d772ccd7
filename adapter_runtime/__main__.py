"""``python -m adapter_runtime check-env``: validate the pod env before anything connects."""

from __future__ import annotations

import argparse
import sys

from adapter_runtime.settings import AdapterSettings, SettingsError


def check_env() -> int:
    try:
        settings = AdapterSettings.from_env()
    except SettingsError as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 2
    print("OK")
    for name, value in settings.redacted().items():
        print(f"{name}={value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapter_runtime")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check-env", help="validate SEAM_NATS_* env and print the effective settings")
    args = parser.parse_args(argv)
    if args.command == "check-env":
        return check_env()
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
