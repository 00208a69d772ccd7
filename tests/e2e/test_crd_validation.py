"""The CRDs on a real kube-apiserver: accepted, Established, explained, and refusing bad specs at apply.

`kubectl apply` must fail at once, naming the field, for every invalid spec and every change NATS
would refuse, instead of the operator failing a reconcile later. No operator runs here: this is the
apiserver's own validation (OpenAPI schema + CEL rules) of the files in crds/.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jetstream_operator.spec import ConsumerSpec, NatsConnectionSpec, StreamSpec

from seam_harness.kube import ControlPlane

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "crds"
EXAMPLES = ROOT / "manifests" / "examples"
GROUP_VERSION = "jetstream.oppie.xyz/v1alpha1"
CRD_NAMES = [
    "streams.jetstream.oppie.xyz",
    "consumers.jetstream.oppie.xyz",
    "natsconnections.jetstream.oppie.xyz",
    "clusterkopfpeerings.kopf.dev",
    "kopfpeerings.kopf.dev",
]


@pytest.fixture(scope="module")
def crds(kube: ControlPlane) -> list[str]:
    """Install every CRD (idempotent: other modules may have done it) and wait until Established."""
    kube.kubectl("apply", "-k", str(CRDS))
    kube.wait_established(*CRD_NAMES)
    return CRD_NAMES


@pytest.fixture(scope="module")
def ns(kube: ControlPlane, crds: list[str]) -> Iterator[str]:
    name = kube.create_namespace("crd-validation")
    try:
        yield name
    finally:
        kube.delete_namespace(name)


def resource(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": GROUP_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec}


def apply(kube: ControlPlane, ns: str, doc: dict[str, Any], *flags: str) -> Any:
    return kube.kubectl("apply", "-n", ns, *flags, "-f", "-", input=json.dumps(doc), check=False)


def test_crds_are_established(kube: ControlPlane, crds: list[str]) -> None:
    for name in crds:
        crd = kube.kubectl_json("get", "crd", name)
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions.get("Established") == "True", (name, conditions)
        assert conditions.get("NamesAccepted") == "True", (name, conditions)


def test_examples_are_accepted_and_defaulted(kube: ControlPlane, ns: str) -> None:
    done = kube.kubectl("apply", "-n", ns, "-f", str(EXAMPLES), check=False)
    assert done.returncode == 0, done.stderr
    orders = kube.kubectl_json("get", "-n", ns, "stream", "orders")
    assert orders["spec"]["subjects"] == ["orders.>"]
    assert orders["spec"]["managementPolicy"] == "Manage"  # defaulted by the schema
    worker = kube.kubectl_json("get", "-n", ns, "consumer", "orders-worker")
    assert worker["spec"]["replayPolicy"] == "instant" and worker["spec"]["deletionPolicy"] == "Delete"
    assert worker["spec"]["adapter"]["batchSize"] == 100
    conn = kube.kubectl_json("get", "-n", ns, "natsconnection", "nats-main")
    assert conn["spec"]["auth"]["userPasswordSecretRef"] == {
        "name": "nats-app-user",
        "usernameKey": "username",
        "passwordKey": "password",
    }
    # what the apiserver stores (with its defaults filled in) is what the operator's models accept
    for kind, model in (
        ("stream", StreamSpec),
        ("consumer", ConsumerSpec),
        ("natsconnection", NatsConnectionSpec),
    ):
        for item in kube.kubectl_json("get", "-n", ns, kind)["items"]:
            model.from_resource(item)
    # short names and the category work
    names = kube.kubectl("get", "-n", ns, "jetstream", "-o", "name").stdout.split()
    assert (
        "stream.jetstream.oppie.xyz/orders" in names and "consumer.jetstream.oppie.xyz/orders-worker" in names
    )
    assert kube.kubectl("get", "-n", ns, "jss", "orders", "-o", "name").stdout.strip().endswith("/orders")


def test_printer_columns_read_the_status_shape(kube: ControlPlane, ns: str) -> None:
    assert apply(kube, ns, resource("Stream", "columns", {"subjects": ["columns.>"]})).returncode == 0
    status = {
        "status": {
            "observedGeneration": 1,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Synced",
                    "message": "stream is up to date",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                }
            ],
            "state": {"messages": 4242, "bytes": 1, "kopfExtra": {"anything": True}},
        }
    }
    kube.kubectl(
        "patch",
        "-n",
        ns,
        "stream",
        "columns",
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(status),
    )
    table = kube.kubectl("get", "-n", ns, "stream", "columns").stdout
    header, row = table.splitlines()[:2]
    assert header.split()[:4] == ["NAME", "READY", "REASON", "MESSAGES"]
    assert row.split()[:4] == ["columns", "True", "Synced", "4242"]
    stored = kube.kubectl_json("get", "-n", ns, "stream", "columns")
    assert stored["status"]["state"]["kopfExtra"] == {"anything": True}  # status keeps unknown fields


def test_kubectl_explain_teaches_the_fields(kube: ControlPlane, crds: list[str]) -> None:
    deadline = time.monotonic() + 60
    while True:  # the OpenAPI document is published shortly after the CRD is Established
        done = kube.kubectl("explain", "stream.spec.maxAge", check=False)
        if done.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert done.returncode == 0, done.stderr
    assert "Go duration" in done.stdout
    consumer = kube.kubectl("explain", "consumer.spec.adapter.batchSize").stdout
    assert "pull request" in consumer
    conn = kube.kubectl("explain", "natsconnection.spec.auth").stdout
    assert "credsSecretRef" in conn and "userPasswordSecretRef" in conn


REF = {"streamRef": {"name": "orders"}}
SERVERS = {"servers": ["nats://127.0.0.1:4222"]}
SECRET = {"name": "nats-secret", "key": "k"}

# (kind, metadata.name, spec, fragments that must all appear in kubectl's error)
INVALID: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("Stream", "s1", {"name": "orders.v1"}, ["spec.name", "should match"]),
    ("Stream", "s2", {"name": "or ders"}, ["spec.name", "should match"]),
    ("Stream", "s3", {"name": "orders>"}, ["spec.name", "should match"]),
    ("Stream", "bad.name", {"subjects": ["x"]}, ["spec.name", "NATS names cannot contain '.'"]),
    ("Stream", "s4", {"maxAge": "5x"}, ["spec.maxAge", "must be a Go duration"]),
    ("Stream", "s5", {"maxAge": 30}, ["spec.maxAge", "string"]),
    ("Stream", "s6", {"duplicateWindow": "1d"}, ["spec.duplicateWindow", "Go duration"]),
    ("Stream", "s7", {"retention": "forever"}, ["spec.retention", "Unsupported value", "workqueue"]),
    ("Stream", "s8", {"storage": "disk"}, ["spec.storage", "Unsupported value"]),
    ("Stream", "s9", {"discard": "oldest"}, ["spec.discard", "Unsupported value"]),
    ("Stream", "s10", {"replicas": -1}, ["spec.replicas", "greater than or equal to 1"]),
    ("Stream", "s11", {"replicas": 6}, ["spec.replicas", "less than or equal to 5"]),
    ("Stream", "s12", {"maxMsgs": -5}, ["spec.maxMsgs", "greater than or equal to -1"]),
    ("Stream", "s13", {"maxBytes": "1GB"}, ["spec.maxBytes"]),
    ("Stream", "s14", {"subjects": ["orders created"]}, ["spec.subjects[0]", "should match"]),
    (
        "Stream",
        "s15",
        {"mirror": {"name": "origin"}, "subjects": ["x"]},
        ["spec.subjects", "mirror stream cannot"],
    ),
    (
        "Stream",
        "s16",
        {"mirror": {"name": "o"}, "sources": [{"name": "p"}]},
        ["spec.sources", "both mirror and"],
    ),
    ("Stream", "s17", {"discardPerSubject": True}, ["spec.discardPerSubject", "discard: new"]),
    (
        "Stream",
        "s18",
        {"sources": [{"name": "a", "domain": "d", "external": {"apiPrefix": "x"}}]},
        ["domain or external"],
    ),
    ("Stream", "s19", {"maxAgee": "1h"}, ["maxAgee"]),
    (
        "Stream",
        "s20",
        {"connectionRef": {"name": "c", "namespace": "other"}},
        ["spec.connectionRef", "cross-namespace"],
    ),
    (
        "Consumer",
        "c1",
        {**REF, "filterSubject": "a", "filterSubjects": ["b"]},
        ["spec.filterSubjects", "not both"],
    ),
    ("Consumer", "c2", {**REF, "optStartSeq": 10}, ["spec.optStartSeq", "byStartSequence"]),
    ("Consumer", "c3", {**REF, "deliverPolicy": "byStartTime"}, ["spec.optStartTime", "byStartTime"]),
    ("Consumer", "c4", {**REF, "streamName": "ORDERS"}, ["spec.streamRef", "exactly one"]),
    ("Consumer", "c5", {}, ["spec.streamRef", "exactly one"]),
    ("Consumer", "c6", {**REF, "ackPolicy": "sometimes"}, ["spec.ackPolicy", "Unsupported value"]),
    ("Consumer", "c7", {**REF, "deliverPolicy": "first"}, ["spec.deliverPolicy", "Unsupported value"]),
    ("Consumer", "c8", {**REF, "backoff": ["1s", "2x"]}, ["spec.backoff[1]", "Go duration"]),
    (
        "Consumer",
        "c9",
        {**REF, "backoff": ["1s", "2s"], "maxDeliver": 2},
        ["spec.maxDeliver", "backoff steps"],
    ),
    (
        "Consumer",
        "c10",
        {**REF, "deliverSubject": "push.x", "maxWaiting": 5},
        ["spec.deliverSubject", "pull"],
    ),
    ("Consumer", "c11", {**REF, "deliverSubject": "push.x", "adapter": {}}, ["spec.adapter", "pull"]),
    (
        "Consumer",
        "c12",
        {**REF, "priorityPolicy": "overflow"},
        ["spec.priorityGroups", "needs priorityGroups"],
    ),
    ("Consumer", "c13", {**REF, "replicas": -1}, ["spec.replicas", "greater than or equal to 0"]),
    ("Consumer", "c14", {**REF, "replicas": 6}, ["spec.replicas", "less than or equal to 5"]),
    ("Consumer", "c15", {**REF, "adapter": {"batchSize": 0}}, ["spec.adapter.batchSize"]),
    ("Consumer", "c16", {**REF, "adapter": {"compressionCodec": "gzip"}}, ["spec.adapter.compressionCodec"]),
    ("Consumer", "c17", {**REF, "sampleFreq": "200%"}, ["spec.sampleFreq", "should match"]),
    ("Consumer", "c18", {**REF, "durableName": "w*"}, ["spec.durableName", "should match"]),
    (
        "Consumer",
        "c19",
        {"streamRef": {"name": "o", "namespace": "x"}},
        ["spec.streamRef", "cross-namespace"],
    ),
    ("Consumer", "c20", {**REF, "ackWait": "30"}, ["spec.ackWait", "Go duration"]),
    ("NatsConnection", "n1", {"servers": ["http://127.0.0.1:80"]}, ["spec.servers[0]", "should match"]),
    ("NatsConnection", "n2", {}, ["spec.servers", "Required value"]),
    (
        "NatsConnection",
        "n7",
        {"servers": ["nats://app:pw@127.0.0.1:4222"]},
        ["spec.servers[0]", "must not carry credentials"],
    ),
    (
        "NatsConnection",
        "n3",
        {**SERVERS, "auth": {"credsSecretRef": SECRET, "tokenSecretRef": SECRET}},
        ["spec.auth", "exactly one"],
    ),
    (
        "NatsConnection",
        "n4",
        {**SERVERS, "auth": {"credsSecretRef": {**SECRET, "namespace": "kube-system"}}},
        ["spec.auth.credsSecretRef", "cross-namespace Secret references are not allowed"],
    ),
    (
        "NatsConnection",
        "n5",
        {**SERVERS, "tls": {"certSecretRef": SECRET}},
        ["spec.tls", "certSecretRef and keySecretRef must be set together"],
    ),
    (
        "NatsConnection",
        "n6",
        {**SERVERS, "auth": {"tokenSecretRef": {"name": "t"}}},
        ["spec.auth.tokenSecretRef.key"],
    ),
]


@pytest.mark.parametrize(
    ("kind", "name", "spec", "fragments"), INVALID, ids=[f"{c[0]}-{c[1]}" for c in INVALID]
)
def test_invalid_spec_is_refused_at_apply(
    kube: ControlPlane, ns: str, kind: str, name: str, spec: dict[str, Any], fragments: list[str]
) -> None:
    done = apply(kube, ns, resource(kind, name, spec))
    assert done.returncode != 0, f"accepted: {done.stdout}"
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr
    missing = kube.kubectl("get", "-n", ns, kind.lower(), name, check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr


def test_cross_namespace_secret_is_refused_even_without_client_validation(
    kube: ControlPlane, ns: str
) -> None:
    doc = resource(
        "NatsConnection", "smuggled", {**SERVERS, "auth": {"credsSecretRef": {**SECRET, "namespace": "x"}}}
    )
    done = apply(kube, ns, doc, "--validate=false")
    assert done.returncode != 0
    assert "cross-namespace Secret references are not allowed" in done.stderr


# (kind, name, original spec, changed spec, fragments of the refusal)
REFUSED_CHANGES: list[tuple[str, str, dict[str, Any], dict[str, Any], list[str]]] = [
    ("Stream", "u-name", {"name": "ONE"}, {"name": "TWO"}, ["spec.name", "immutable"]),
    ("Stream", "u-name-default", {}, {"name": "OTHER"}, ["spec.name", "immutable"]),
    ("Stream", "u-storage", {"storage": "file"}, {"storage": "memory"}, ["spec.storage", "immutable"]),
    (
        "Stream",
        "u-ret-wq",
        {"retention": "limits"},
        {"retention": "workqueue"},
        ["spec.retention", "workqueue"],
    ),
    (
        "Stream",
        "u-ret-wq2",
        {"retention": "workqueue"},
        {"retention": "interest"},
        ["spec.retention", "workqueue"],
    ),
    ("Stream", "u-sealed", {"sealed": True}, {"sealed": False}, ["spec.sealed", "cannot be unsealed"]),
    ("Stream", "u-mirror-add", {}, {"mirror": {"name": "origin"}}, ["spec.mirror", "cannot be added"]),
    (
        "Stream",
        "u-mirror-chg",
        {"mirror": {"name": "a"}},
        {"mirror": {"name": "b"}},
        ["spec.mirror", "cannot be changed"],
    ),
    (
        "Consumer",
        "u-durable",
        {**REF, "durableName": "A"},
        {**REF, "durableName": "B"},
        ["spec.durableName", "immutable"],
    ),
    ("Consumer", "u-durable-def", REF, {**REF, "durableName": "B"}, ["spec.durableName", "immutable"]),
    ("Consumer", "u-pull-push", REF, {**REF, "deliverSubject": "push.x"}, ["spec.deliverSubject", "push"]),
    ("Consumer", "u-push-pull", {**REF, "deliverSubject": "push.x"}, REF, ["spec.deliverSubject", "push"]),
    ("Consumer", "u-streamref", REF, {"streamRef": {"name": "other"}}, ["spec.streamRef", "immutable"]),
    ("Consumer", "u-stream-kind", REF, {"streamName": "orders"}, ["spec.streamRef", "immutable"]),
    ("Consumer", "u-deliver", REF, {**REF, "deliverPolicy": "new"}, ["spec.deliverPolicy", "immutable"]),
    ("Consumer", "u-ack", REF, {**REF, "ackPolicy": "all"}, ["spec.ackPolicy", "immutable"]),
    ("Consumer", "u-replay", REF, {**REF, "replayPolicy": "original"}, ["spec.replayPolicy", "immutable"]),
    ("Consumer", "u-maxwaiting", REF, {**REF, "maxWaiting": 10}, ["spec.maxWaiting", "immutable"]),
    ("Consumer", "u-memstorage", REF, {**REF, "memStorage": True}, ["spec.memStorage", "immutable"]),
    (
        "Consumer",
        "u-startseq",
        {**REF, "deliverPolicy": "byStartSequence", "optStartSeq": 1},
        {**REF, "deliverPolicy": "byStartSequence", "optStartSeq": 2},
        ["spec.optStartSeq", "immutable"],
    ),
]


@pytest.mark.parametrize(
    ("kind", "name", "before", "after", "fragments"), REFUSED_CHANGES, ids=[c[1] for c in REFUSED_CHANGES]
)
def test_change_nats_refuses_is_refused_at_apply(
    kube: ControlPlane,
    ns: str,
    kind: str,
    name: str,
    before: dict[str, Any],
    after: dict[str, Any],
    fragments: list[str],
) -> None:
    created = apply(kube, ns, resource(kind, name, before))
    assert created.returncode == 0, created.stderr
    stored = kube.kubectl_json("get", "-n", ns, kind.lower(), name)["spec"]
    done = apply(kube, ns, resource(kind, name, after))
    assert done.returncode != 0, f"change accepted: {done.stdout}"
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr
    assert kube.kubectl_json("get", "-n", ns, kind.lower(), name)["spec"] == stored


ALLOWED_CHANGES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("Stream", "a-retention", {"retention": "limits"}, {"retention": "interest"}),
    (
        "Stream",
        "a-limits",
        {"maxAge": "1h", "subjects": ["a.>"]},
        {"maxAge": "2h", "subjects": ["a.>", "b.>"]},
    ),
    ("Stream", "a-name-same", {}, {"name": "a-name-same"}),  # spelling out the default is not a rename
    ("Stream", "a-max-consumers", {"maxConsumers": 1}, {"maxConsumers": 5}),
    ("Stream", "a-promote-mirror", {"mirror": {"name": "origin"}}, {"subjects": ["promoted.>"]}),
    ("Stream", "a-seal", {}, {"sealed": True}),
    ("Consumer", "a-consumer", {**REF, "maxDeliver": 3}, {**REF, "maxDeliver": 5, "description": "d"}),
    ("Consumer", "a-adapter", REF, {**REF, "adapter": {"batchSize": 10}}),
]


@pytest.mark.parametrize(
    ("kind", "name", "before", "after"), ALLOWED_CHANGES, ids=[c[1] for c in ALLOWED_CHANGES]
)
def test_changes_nats_allows_are_accepted(
    kube: ControlPlane, ns: str, kind: str, name: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    assert apply(kube, ns, resource(kind, name, before)).returncode == 0
    done = apply(kube, ns, resource(kind, name, copy.deepcopy(after)))
    assert done.returncode == 0, done.stderr
    stored = kube.kubectl_json("get", "-n", ns, kind.lower(), name)["spec"]
    assert {k: stored[k] for k in after} == after
