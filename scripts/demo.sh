#!/usr/bin/env bash
# The whole demo in one command (`make demo`): local stack (NATS JetStream + a real Kubernetes
# control plane), the CRDs, the operator, the example Stream and Consumer, `kubectl get` showing
# them Ready, and one message flowing through the adapter on the Consumer the operator created.
#
# Env: DEMO_NAMESPACE (default demo), DEMO_KEEP_OPERATOR=1 leaves the operator running.
# The stack stays up afterwards (`make dev-down` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-$(command -v uv 2>/dev/null || echo "python3 -m uv")}
NS=${DEMO_NAMESPACE:-demo}
STATE_DIR=${SEAM_STACK_DIR:-$PWD/.local/stack}
OP_LOG="$STATE_DIR/operator.log"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "local stack (NATS JetStream + kube-apiserver)"
exports=$($UV run --frozen seam-stack up | grep '^export ')
eval "$exports"
echo "$exports"
KUBECTL=(.venv/bin/kubectl)
NATS_URL=${SEAM_NATS_SERVER_URLS%%,*}

say "CRDs"
"${KUBECTL[@]}" apply --server-side --force-conflicts -k crds/ >/dev/null
# kubectl wait fails at once (not waits) while a new CRD has no status conditions yet: retry.
for attempt in $(seq 60); do
  "${KUBECTL[@]}" wait --for=condition=Established --timeout=60s \
    crd/streams.jetstream.oppie.xyz crd/consumers.jetstream.oppie.xyz crd/natsconnections.jetstream.oppie.xyz \
    2>/dev/null && break
  [ "$attempt" -lt 60 ] || { echo "CRDs not Established" >&2; exit 1; }
  sleep 1
done
"${KUBECTL[@]}" create namespace "$NS" --dry-run=client -o yaml | "${KUBECTL[@]}" apply -f - >/dev/null

say "operator (log: $OP_LOG)"
mkdir -p "$STATE_DIR"
METRICS_PORT=$($UV run --frozen python -c 'from seam_harness.process import free_port; print(free_port())')
SEAM_OPERATOR_METRICS_HOST=127.0.0.1 $UV run --frozen seam-operator --namespace "$NS" \
  --nats-url "$SEAM_NATS_SERVER_URLS" --standalone --health-port 0 --metrics-port "$METRICS_PORT" \
  --resync-seconds 10 >>"$OP_LOG" 2>&1 &
OP_PID=$!
stop_operator() {
  if [[ "${DEMO_KEEP_OPERATOR:-0}" != 1 ]] && kill -0 "$OP_PID" 2>/dev/null; then
    kill "$OP_PID" 2>/dev/null || true
    wait "$OP_PID" 2>/dev/null || true
  fi
}
trap stop_operator EXIT
echo "operator pid $OP_PID"

say "example resources"
"${KUBECTL[@]}" apply -n "$NS" -f manifests/examples/stream-orders.yaml -f manifests/examples/consumer-orders-worker.yaml
"${KUBECTL[@]}" wait -n "$NS" --for=condition=Ready --timeout=120s stream/orders consumer/orders-worker

say "kubectl get jetstream -n $NS"
"${KUBECTL[@]}" get jetstream -n "$NS"

say "one message through the adapter (env rendered from the Consumer resource)"
"${KUBECTL[@]}" get -n "$NS" consumer/orders-worker -o json >"$STATE_DIR/consumer.json"
NATS_URL="$NATS_URL" CONSUMER_JSON="$STATE_DIR/consumer.json" $UV run --frozen python - <<'PY'
import asyncio, json, os

from adapter_runtime.client import NatsClient
from adapter_runtime.server import NatsServer
from adapter_runtime.settings import AdapterSettings
from jetstream_operator.mapping.adapter_env import adapter_env
from jetstream_operator.spec.consumer import ConsumerSpec


async def main() -> None:
    body = json.load(open(os.environ["CONSUMER_JSON"]))
    spec = ConsumerSpec.from_resource(body)
    env = adapter_env(spec, body["status"]["streamName"], [os.environ["NATS_URL"]])
    print("pod env:", " ".join(f"{k}={v}" for k, v in sorted(env.items())))
    got: asyncio.Future = asyncio.get_running_loop().create_future()

    async def handle(subject, data, reply_to=None):
        if not got.done():
            got.set_result((subject, data))

    server = NatsServer(AdapterSettings.from_env(env))
    await server.connect()
    await server.subscribe("orders.created", handle)
    client = NatsClient(server_urls=[os.environ["NATS_URL"]], stream_name=env["SEAM_NATS_STREAM_NAME"], create_stream=False)
    await client.connect()
    ack = await client.publish("orders.created", {"order": 42, "item": "coffee"})
    print(f"published: stream={ack.stream} seq={ack.seq}")
    subject, data = await asyncio.wait_for(got, 30)
    print(f"consumed by the adapter on consumer {spec.durable_name}: {subject} {data}")
    await client.close()
    await server.stop()


asyncio.run(main())
PY

say "after the message"
"${KUBECTL[@]}" wait -n "$NS" --for=jsonpath='{.status.state.messages}'=1 --timeout=15s stream/orders >/dev/null 2>&1 || true
"${KUBECTL[@]}" get jetstream -n "$NS"

say "operator metrics (http://127.0.0.1:$METRICS_PORT/metrics)"
$UV run --frozen python - "$METRICS_PORT" <<'PY'
import sys, urllib.request

text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
wanted = ("seam_operator_reconcile_total", "seam_operator_resources", "seam_operator_nats_connections")
for line in text.splitlines():
    if line.startswith(wanted) and not line.rstrip().endswith(" 0.0"):
        print(line)
PY
echo
echo "Stack still running: 'make dev-down' stops it. Operator log: $OP_LOG"
