"""Apply an InjectionPlan to a pod (pure): env, downward-API identity, read-only Secret mounts.

Rules (docs/injection.md):
- Every selected container gets ``POD_NAME``/``POD_NAMESPACE`` (downward API), the rendered
  ``SEAM_NATS_*`` values, Secret-backed env as ``secretKeyRef`` and one read-only Secret volume per
  credential file. Credentials never appear as values.
- The user's own env wins: a variable the pod already sets is kept and reported as a warning.
- Idempotent: what the webhook injected is recorded in annotations, and a second pass replaces
  exactly that, so re-applying never duplicates env or volumes.
- The merged literal env of each container must load as AdapterSettings, else the pod is denied
  (a typo such as ``SEAM_NATS_BATCHSIZE`` fails at admission instead of in a crash loop).
"""

from __future__ import annotations

import copy
import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapter_runtime.settings import AdapterSettings, SettingsError, env_names
from jetstream_operator.injection.plan import InjectionPlan
from jetstream_operator.injection.request import (
    INJECTED_ANNOTATION,
    INJECTED_ENV_ANNOTATION,
    InjectionRequest,
)

VOLUME_PREFIX = "seam-nats-"
DOWNWARD_ENV = (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"))
# Credential settings are file paths (checked for existence) or Secret-backed: the webhook cannot
# and need not load them; everything else in a container's literal env is validated.
_CREDENTIAL_FIELDS = ("creds_file", "nkey_seed_file", "token_file", "user", "password_file", "tls_ca_file")
_CREDENTIAL_ENV = {
    name for f in (*_CREDENTIAL_FIELDS, "tls_cert_file", "tls_key_file") for name in env_names(f)
}


@dataclass(frozen=True)
class Injection:
    """The mutated pod (a copy) and warnings for the user (never containing Secret values)."""

    pod: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def rendered_env(plan: InjectionPlan) -> list[dict[str, Any]]:
    """The env entries every selected container should have, in a stable order."""
    entries: list[dict[str, Any]] = [
        {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}
        for name, path in DOWNWARD_ENV
    ]
    entries += [{"name": name, "value": value} for name, value in plan.env.items()]
    entries += [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": ref["name"], "key": ref["key"]}}}
        for name, ref in plan.secret_env.items()
    ]
    return entries


def _volume_name(mount_path: str) -> str:
    # /var/run/seam-nats/tls-ca/ca.crt -> seam-nats-tls-ca
    return VOLUME_PREFIX + posixpath.basename(posixpath.dirname(mount_path))


def rendered_volumes(plan: InjectionPlan) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(volume, volumeMount) per credential file: only that key of the Secret, read-only."""
    out = []
    for mount in plan.mounts:
        name = _volume_name(mount.path)
        volume = {
            "name": name,
            "secret": {"secretName": mount.secret, "items": [{"key": mount.key, "path": mount.key}]},
        }
        out.append((volume, {"name": name, "mountPath": posixpath.dirname(mount.path), "readOnly": True}))
    return out


def _describe(entry: Mapping[str, Any]) -> str:
    if "value" in entry:
        return repr(entry["value"])
    ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
    if ref:
        return f'Secret "{ref["name"]}" key "{ref["key"]}"'
    return "the downward API"


def inject(pod: Mapping[str, Any], plan: InjectionPlan, request: InjectionRequest) -> Injection:
    """Return a copy of ``pod`` with the plan applied; raise InjectionDenied on conflicts."""
    new = copy.deepcopy(dict(pod))
    meta = new.setdefault("metadata", {})
    annotations = meta.get("annotations") or {}
    meta["annotations"] = annotations
    try:
        previous: dict[str, list[str]] = json.loads(annotations.get(INJECTED_ENV_ANNOTATION) or "{}")
    except ValueError:
        previous = {}
    was_injected = INJECTED_ANNOTATION in annotations
    spec = new.setdefault("spec", {})
    containers: list[dict[str, Any]] = spec.get("containers") or []
    selected = [c for c in containers if request.containers is None or c.get("name") in request.containers]
    warnings: list[str] = []

    # Volumes: replace what an earlier pass injected, refuse to shadow a user's volume.
    volumes = rendered_volumes(plan)
    ours = {v["name"] for v, _ in volumes}
    kept_volumes = []
    for volume in spec.get("volumes") or []:
        name = volume.get("name", "")
        if name.startswith(VOLUME_PREFIX) and was_injected:
            continue
        if name in ours:
            raise request.denied(
                f'the pod already has a volume named "{name}"; names starting with "{VOLUME_PREFIX}" '
                "are reserved for injected credentials"
            )
        kept_volumes.append(volume)
    if volumes or kept_volumes or "volumes" in spec:
        spec["volumes"] = kept_volumes + [v for v, _ in volumes]

    wanted_env = rendered_env(plan)
    injected: dict[str, list[str]] = {}
    for container in selected:
        cname = str(container.get("name"))
        ours_before = set(previous.get(cname) or ())
        env = [e for e in container.get("env") or [] if e.get("name") not in ours_before]
        existing = {e.get("name"): e for e in env}
        added: list[str] = []
        for entry in wanted_env:
            have = existing.get(entry["name"])
            if have is None:
                env.append(entry)
                added.append(entry["name"])
            elif have != entry and entry["name"] not in ("POD_NAME", "POD_NAMESPACE"):
                warnings.append(
                    f'container "{cname}": {entry["name"]} set in the pod spec is kept '
                    f"({plan.source} renders {_describe(entry)})"
                )
        container["env"] = env
        if added:
            injected[cname] = added

        mounts = [
            m
            for m in container.get("volumeMounts") or []
            if not (was_injected and str(m.get("name", "")).startswith(VOLUME_PREFIX))
        ]
        taken = {m.get("mountPath"): m.get("name") for m in mounts}
        for _, mount in volumes:
            if mount["mountPath"] in taken:
                raise request.denied(
                    f'container "{cname}" already mounts volume "{taken[mount["mountPath"]]}" at '
                    f"{mount['mountPath']}, where the credentials of {plan.source} go"
                )
            mounts.append(mount)
        if mounts or "volumeMounts" in container:
            container["volumeMounts"] = mounts
        _check_settings(container, plan, request)

    annotations[INJECTED_ANNOTATION] = plan.source
    annotations[INJECTED_ENV_ANNOTATION] = json.dumps(injected, separators=(",", ":"), sort_keys=True)
    return Injection(pod=new, warnings=warnings)


def _check_settings(container: Mapping[str, Any], plan: InjectionPlan, request: InjectionRequest) -> None:
    literal = {
        e["name"]: str(e["value"])
        for e in container.get("env") or []
        if "value" in e and e.get("name") not in _CREDENTIAL_ENV
    }
    try:
        AdapterSettings.from_env(literal)
    except SettingsError as exc:
        problems = "; ".join(f"{name}: {why}" for name, why in exc.problems.items())
        raise request.denied(
            f'container "{container.get("name")}" would get invalid adapter settings from '
            f"{plan.source} and its own env: {problems}"
        ) from None


__all__ = ["DOWNWARD_ENV", "VOLUME_PREFIX", "Injection", "inject", "rendered_env", "rendered_volumes"]
