"""`seam-operator`: run the JetStream operator (namespaced or cluster-wide, with peering)."""

from __future__ import annotations

from jetstream_operator.kopf_loading import load_kopf_without_client_libraries

# First, before anything imports kopf: kopf would otherwise load kubernetes_asyncio (~60 MB RSS).
load_kopf_without_client_libraries()

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import kopf  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from jetstream_operator.config import OperatorSettings  # noqa: E402
from jetstream_operator.logs import configure_logging  # noqa: E402


def default_priority() -> int:
    """Older replicas win: a replica started later gets a lower peering priority and waits."""
    return 10**13 - int(time.time() * 1000)


def parse_args(argv: list[str] | None) -> OperatorSettings:
    parser = argparse.ArgumentParser(prog="seam-operator", description=__doc__)
    parser.add_argument(
        "-n", "--namespace", action="append", dest="namespaces", help="watch this namespace (repeatable)"
    )
    parser.add_argument(
        "-A", "--all-namespaces", action="store_true", dest="clusterwide", help="watch every namespace"
    )
    parser.add_argument("--nats-url", help="servers for resources without a connectionRef")
    parser.add_argument("--resync-seconds", type=float, help="periodic drift check and state refresh")
    parser.add_argument("--health-port", type=int, help="liveness endpoint port (0: off)")
    parser.add_argument("--metrics-port", type=int, help="Prometheus /metrics port (0: off)")
    parser.add_argument("--json-logs", action="store_true", default=None, help="log JSON lines")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING")
    parser.add_argument("--peering-name", help="KopfPeering object shared by the replicas")
    parser.add_argument("--standalone", action="store_true", default=None, help="no peering (single replica)")
    parser.add_argument("--priority", type=int, help="peering priority (default: older replica wins)")
    hook = parser.add_argument_group("pod injection webhook (docs/injection.md)")
    hook.add_argument("--webhook-port", type=int, help="serve the injection webhook on this port (0: off)")
    hook.add_argument("--webhook-addr", help="listen address (default 0.0.0.0)")
    hook.add_argument("--webhook-host", help="host name/IP in the URL the apiserver calls")
    hook.add_argument("--webhook-service", help="namespace/name[:port] of a Service the apiserver calls")
    hook.add_argument("--webhook-cert-dir", help="ca.crt, tls.crt, tls.key (generated when missing)")
    hook.add_argument("--webhook-config-name", help="MutatingWebhookConfiguration managed by the operator")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if v is not None and v is not False}
    try:
        return OperatorSettings(**overrides)
    except ValidationError as exc:
        parser.error(str(exc))
        raise  # unreachable


def main(argv: list[str] | None = None) -> None:
    op = parse_args(argv)
    if op.clusterwide == bool(op.namespaces):
        sys.exit("seam-operator: pass either --namespace NS (repeatable) or --all-namespaces")
    configure_logging(json_logs=op.json_logs, level=op.log_level)
    import jetstream_operator.handlers  # noqa: F401  (registers the handlers)

    if op.webhook_port:  # registers the pod injection webhook
        from jetstream_operator.injection import webhook as _webhook  # noqa: F401

    kopf.run(
        clusterwide=op.clusterwide,
        namespaces=op.namespaces,
        standalone=op.standalone,
        peering_name=None if op.standalone else op.peering_name,
        priority=op.priority if op.priority is not None else default_priority(),
        liveness_endpoint=op.liveness_endpoint,
        memo=kopf.Memo(operator_settings=op),
    )


if __name__ == "__main__":
    main()
