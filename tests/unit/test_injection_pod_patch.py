"""Injection: plan + pod -> mutated pod (env, downward API, Secret mounts), idempotent, validated."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jetstream_operator.injection import InjectionDenied, InjectionPlan, build_plan, inject, parse_request

from adapter_runtime.settings import AdapterSettings
from tests.unit.test_injection_plan import NS, world

pytestmark = pytest.mark.unit

SECRET_VALUES = ("s3cr3t-password", "alice", "-----BEGIN CERTIFICATE-----")


def pod(annotations: dict[str, str], containers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "w-", "namespace": NS, "annotations": dict(annotations)},
        "spec": {
            "containers": containers
            or [
                {"name": "app", "image": "app:1", "env": [{"name": "LOG_LEVEL", "value": "debug"}]},
                {"name": "sidecar", "image": "proxy:1"},
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
        },
    }


async def run(p: dict[str, Any], mount_dir: str = "/var/run/seam-nats") -> tuple[Any, InjectionPlan]:
    request = parse_request(p)
    plan = await build_plan(request, NS, world(), ["nats://nats:4222"], secret_mount_dir=mount_dir)
    return inject(p, plan, request), plan


def env_of(p: dict[str, Any], container: str) -> list[dict[str, Any]]:
    c = next(c for c in p["spec"]["containers"] if c["name"] == container)
    return list(c.get("env") or [])


def by_name(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in entries}


async def test_consumer_side_every_app_container() -> None:
    original = pod({"jetstream.oppie.xyz/consumer": "orders-worker"})
    frozen = copy.deepcopy(original)
    result, _ = await run(original)
    assert original == frozen  # pure: the input is not touched
    for name in ("app", "sidecar"):
        env = by_name(env_of(result.pod, name))
        assert env["SEAM_NATS_STREAM_NAME"] == {"name": "SEAM_NATS_STREAM_NAME", "value": "ORDERS"}
        assert env["SEAM_NATS_CONSUMER_NAME"]["value"] == "orders-worker"
        assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
        assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert env_of(result.pod, "app")[0] == {"name": "LOG_LEVEL", "value": "debug"}  # user env first, kept
    assert result.pod["spec"]["volumes"] == [{"name": "data", "emptyDir": {}}]  # no credentials: no mounts
    annotations = result.pod["metadata"]["annotations"]
    assert annotations["jetstream.oppie.xyz/injected"] == "Consumer/orders-worker"
    assert set(json.loads(annotations["jetstream.oppie.xyz/injected-env"])) == {"app", "sidecar"}
    assert result.warnings == []


async def test_chosen_container_only() -> None:
    result, _ = await run(
        pod({"jetstream.oppie.xyz/stream": "orders", "jetstream.oppie.xyz/container": "sidecar"})
    )
    assert "SEAM_NATS_STREAM_NAME" in by_name(env_of(result.pod, "sidecar"))
    assert env_of(result.pod, "app") == [{"name": "LOG_LEVEL", "value": "debug"}]


async def test_secrets_are_mounted_read_only_and_never_copied() -> None:
    result, _ = await run(pod({"jetstream.oppie.xyz/consumer": "audit-reader"}))
    volumes = by_name(result.pod["spec"]["volumes"])
    assert volumes["seam-nats-password"]["secret"] == {
        "secretName": "hub-user",
        "items": [{"key": "password", "path": "password"}],
    }
    assert volumes["seam-nats-tls-ca"]["secret"]["secretName"] == "hub-ca"
    for name in ("app", "sidecar"):
        c = next(c for c in result.pod["spec"]["containers"] if c["name"] == name)
        mounts = by_name(c["volumeMounts"])
        assert mounts["seam-nats-password"] == {
            "name": "seam-nats-password",
            "mountPath": "/var/run/seam-nats/password",
            "readOnly": True,
        }
        assert mounts["seam-nats-tls-ca"]["mountPath"] == "/var/run/seam-nats/tls-ca"
        env = by_name(c["env"])
        assert env["SEAM_NATS_USER"] == {
            "name": "SEAM_NATS_USER",
            "valueFrom": {"secretKeyRef": {"name": "hub-user", "key": "username"}},
        }
        assert env["SEAM_NATS_PASSWORD_FILE"]["value"] == "/var/run/seam-nats/password/password"
    text = json.dumps(result.pod)
    assert not any(v in text for v in SECRET_VALUES)
    # Every literal value is a setting or a path; the credentials only travel as references.
    for c in result.pod["spec"]["containers"]:
        for e in c["env"]:
            if e["name"] in ("SEAM_NATS_USER",):
                assert "value" not in e


async def test_idempotent() -> None:
    once, _ = await run(pod({"jetstream.oppie.xyz/consumer": "audit-reader"}))
    twice, _ = await run(once.pod)
    assert twice.pod == once.pod
    assert twice.warnings == []
    names = [e["name"] for e in env_of(twice.pod, "app")]
    assert len(names) == len(set(names))
    assert len(twice.pod["spec"]["volumes"]) == 3


async def test_reinjection_follows_the_resource() -> None:
    once, _ = await run(pod({"jetstream.oppie.xyz/consumer": "audit-reader"}))
    moved = copy.deepcopy(once.pod)
    moved["metadata"]["annotations"]["jetstream.oppie.xyz/consumer"] = "orders-worker"
    again, _ = await run(moved)
    env = by_name(env_of(again.pod, "app"))
    assert env["SEAM_NATS_STREAM_NAME"]["value"] == "ORDERS"
    assert "SEAM_NATS_USER" not in env and "SEAM_NATS_PASSWORD_FILE" not in env  # stale entries gone
    assert [v["name"] for v in again.pod["spec"]["volumes"]] == ["data"]
    sidecar = next(c for c in again.pod["spec"]["containers"] if c["name"] == "sidecar")
    assert sidecar.get("volumeMounts") == []


async def test_user_env_wins_and_is_reported() -> None:
    containers = [
        {
            "name": "app",
            "image": "app:1",
            "env": [
                {"name": "SEAM_NATS_SERVER_URLS", "value": "nats://my-own:4222"},
                {"name": "SEAM_NATS_STREAM_NAME", "value": "ORDERS"},  # same as rendered: silent
            ],
        }
    ]
    result, _ = await run(pod({"jetstream.oppie.xyz/consumer": "orders-worker"}, containers))
    env = env_of(result.pod, "app")
    assert by_name(env)["SEAM_NATS_SERVER_URLS"]["value"] == "nats://my-own:4222"
    assert [e["name"] for e in env].count("SEAM_NATS_SERVER_URLS") == 1
    assert result.warnings == [
        'container "app": SEAM_NATS_SERVER_URLS set in the pod spec is kept '
        "(Consumer/orders-worker renders 'nats://nats:4222')"
    ]
    recorded = json.loads(result.pod["metadata"]["annotations"]["jetstream.oppie.xyz/injected-env"])
    assert "SEAM_NATS_SERVER_URLS" not in recorded["app"] and "SEAM_NATS_STREAM_NAME" not in recorded["app"]
    again, _ = await run(result.pod)  # the user's value survives a second pass too
    assert by_name(env_of(again.pod, "app"))["SEAM_NATS_SERVER_URLS"]["value"] == "nats://my-own:4222"


def write_mounted_files(plan: InjectionPlan) -> None:
    for mount in plan.mounts:
        Path(mount.path).parent.mkdir(parents=True, exist_ok=True)
        Path(mount.path).write_text("x")


async def test_rendered_env_round_trips_through_adapter_settings(tmp_path: Path) -> None:
    result, plan = await run(pod({"jetstream.oppie.xyz/consumer": "audit-reader"}), str(tmp_path))
    # What the kubelet would do: mount the Secret keys as files, resolve the references.
    write_mounted_files(plan)
    container = next(c for c in result.pod["spec"]["containers"] if c["name"] == "app")
    resolved: dict[str, str] = {}
    for e in container["env"]:
        if "value" in e:
            resolved[e["name"]] = e["value"]
        elif "secretKeyRef" in e["valueFrom"]:
            resolved[e["name"]] = "alice"
        else:
            resolved[e["name"]] = {"metadata.name": "w-abc", "metadata.namespace": NS}[
                e["valueFrom"]["fieldRef"]["fieldPath"]
            ]
    settings = AdapterSettings.from_env({k: v for k, v in resolved.items() if k != "LOG_LEVEL"})
    assert settings.user == "alice"
    assert settings.password_file == tmp_path / "password" / "password"
    assert settings.tls_ca_file == tmp_path / "tls-ca" / "ca.crt"
    assert (settings.pod_name, settings.namespace) == ("w-abc", NS)
    assert (settings.stream_name, settings.consumer_name, settings.js_domain) == (
        "audit",
        "audit-reader",
        "hub",
    )


DENIED: list[tuple[str, list[dict[str, Any]], dict[str, Any] | None, str]] = [
    (
        "typo in the pod's own adapter env",
        [{"name": "app", "image": "a", "env": [{"name": "SEAM_NATS_BATCHSIZE", "value": "10"}]}],
        None,
        'container "app" would get invalid adapter settings from Consumer/orders-worker and its own env: '
        "SEAM_NATS_BATCHSIZE: unknown variable",
    ),
    (
        "pod env breaks a cross-field rule",
        [{"name": "app", "image": "a", "env": [{"name": "SEAM_NATS_BATCH_SIZE", "value": "900"}]}],
        None,
        "SEAM_NATS_BATCH_SIZE: batch_size (900) must be <= max_ack_pending (500)",
    ),
    (
        "reserved volume name",
        [{"name": "app", "image": "a"}],
        {"name": "seam-nats-password", "emptyDir": {}},
        'the pod already has a volume named "seam-nats-password"',
    ),
    (
        "mount path taken",
        [
            {
                "name": "app",
                "image": "a",
                "volumeMounts": [{"name": "x", "mountPath": "/var/run/seam-nats/tls-ca"}],
            }
        ],
        {"name": "x", "emptyDir": {}},
        'container "app" already mounts volume "x" at /var/run/seam-nats/tls-ca',
    ),
]


@pytest.mark.parametrize(
    ("containers", "volume", "message"), [d[1:] for d in DENIED], ids=[d[0] for d in DENIED]
)
async def test_conflicts_are_denied(
    containers: list[dict[str, Any]], volume: dict[str, Any] | None, message: str
) -> None:
    consumer = "audit-reader" if volume else "orders-worker"
    p = pod({"jetstream.oppie.xyz/consumer": consumer}, containers)
    if volume:
        p["spec"]["volumes"].append(volume)
    with pytest.raises(InjectionDenied) as caught:
        await run(p)
    assert str(caught.value).startswith("jetstream.oppie.xyz/consumer: ")
    assert message in str(caught.value)
