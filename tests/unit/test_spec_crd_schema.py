"""The CRD schemas (checked by the apiserver) and the spec models (checked by the operator) agree.

Both layers validate the same spec; this keeps their field sets, enums, defaults and patterns from
drifting apart. Pure: reads the YAML files, no apiserver.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
import yaml
from jetstream_operator.spec import ConsumerSpec, NatsConnectionSpec, StreamSpec
from jetstream_operator.spec.connection import SERVER_URL_PATTERN
from jetstream_operator.spec.fields import DURATION_PATTERN, NAME_PATTERN, SIZE_PATTERN, parse_duration
from pydantic import BaseModel

pytestmark = pytest.mark.unit

CRDS = Path(__file__).resolve().parents[2] / "crds"
MODELS: dict[str, type[BaseModel]] = {
    "jetstream.oppie.xyz_streams.yaml": StreamSpec,
    "jetstream.oppie.xyz_consumers.yaml": ConsumerSpec,
    "jetstream.oppie.xyz_natsconnections.yaml": NatsConnectionSpec,
}
# Declared in the CRD only so a CEL rule can refuse it with a clear message.
FORBIDDEN_SENTINELS = {"namespace"}


def crd(file: str) -> dict[str, Any]:
    return yaml.safe_load((CRDS / file).read_text())


def version_schema(doc: dict[str, Any]) -> dict[str, Any]:
    (version,) = doc["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for arg in (annotation, *get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        if get_origin(arg) is list:
            inner = _model_of(get_args(arg)[0])
            if inner is not None:
                return inner
    return None


def _literal_values(annotation: Any) -> list[str] | None:
    for arg in (annotation, *get_args(annotation)):
        if get_origin(arg) is Literal:
            return list(get_args(arg))
    return None


def walk(model: type[BaseModel], schema: dict[str, Any], path: str) -> list[tuple[str, Any, dict[str, Any]]]:
    """(path, field info, schema) for every model field, recursing into nested models."""
    out = []
    props = schema["properties"] if "properties" in schema else schema["items"]["properties"]
    declared = set(props) - FORBIDDEN_SENTINELS
    aliases = {f.alias for f in model.model_fields.values()}
    assert declared == aliases, f"{path}: CRD-only {declared - aliases}, model-only {aliases - declared}"
    for info in model.model_fields.values():
        sub = props[info.alias]
        out.append((f"{path}.{info.alias}", info, sub))
        nested = _model_of(info.annotation)
        if nested is not None:
            out.extend(walk(nested, sub, f"{path}.{info.alias}"))
    return out


ALL_FIELDS = [
    (file, path, info, sub)
    for file, model in MODELS.items()
    for path, info, sub in walk(model, version_schema(crd(file))["properties"]["spec"], "spec")
]


def test_crd_basics() -> None:
    for file in MODELS:
        doc = crd(file)
        spec = doc["spec"]
        assert spec["group"] == "jetstream.oppie.xyz"
        assert spec["scope"] == "Namespaced"
        assert "jetstream" in spec["names"]["categories"]
        assert spec["names"]["shortNames"]
        (version,) = spec["versions"]
        assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
        assert version["subresources"] == {"status": {}}
        status = version_schema(doc)["properties"]["status"]
        assert status == {**status, "type": "object", "x-kubernetes-preserve-unknown-fields": True}
        columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
        assert columns["Ready"] == '.status.conditions[?(@.type=="Ready")].status'


@pytest.mark.parametrize(("file", "path", "info", "sub"), ALL_FIELDS, ids=[f[1] for f in ALL_FIELDS])
def test_field_matches_model(file: str, path: str, info: Any, sub: dict[str, Any]) -> None:
    assert sub.get("description"), f"{path} has no description (kubectl explain would be empty)"
    values = _literal_values(info.annotation)
    if values is not None:
        assert sub["enum"] == values, path
    if not info.is_required() and info.default is not None and not callable(info.default):
        assert sub.get("default") == info.default, path
    elif "default" in sub:
        pytest.fail(f"{path}: CRD default {sub['default']!r} but the model has none")
    if "pattern" in sub and sub.get("type") == "string":
        assert sub.get("maxLength"), f"{path}: strings need maxLength for CEL cost estimates"


def test_lists_and_maps_are_bounded() -> None:
    def visit(schema: dict[str, Any], path: str) -> None:
        if schema.get("type") == "array":
            assert "maxItems" in schema, f"{path}: unbounded list"
            visit(schema["items"], f"{path}[]")
        if isinstance(schema.get("additionalProperties"), dict):
            assert "maxProperties" in schema, f"{path}: unbounded map"
        for name, sub in schema.get("properties", {}).items():
            visit(sub, f"{path}.{name}")

    for file in MODELS:
        visit(version_schema(crd(file))["properties"]["spec"], file)


def _patterns(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        found = [schema["pattern"]] if isinstance(schema.get("pattern"), str) else []
        return found + [p for v in schema.values() for p in _patterns(v)]
    if isinstance(schema, list):
        return [p for v in schema for p in _patterns(v)]
    return []


def test_duration_fields_use_the_models_pattern() -> None:
    checked = []
    for path, info, sub in [(p, i, s) for _, p, i, s in ALL_FIELDS]:
        if "_duration_before" in repr(info.annotation):
            schema = sub["items"] if sub.get("type") == "array" else sub
            rules = [r["rule"] for r in schema["x-kubernetes-validations"]]
            assert rules == [f"self.matches('{DURATION_PATTERN}')"], path
            assert "Go duration" in schema["x-kubernetes-validations"][0]["message"]
            assert "pattern" not in schema, path
            checked.append(path)
    assert "spec.maxAge" in checked and "spec.backoff" in checked and "spec.adapter.fetchTimeout" in checked
    assert len(checked) == 17
    assert re.match(DURATION_PATTERN, "1h30m") and parse_duration("1h30m")


def test_name_size_and_url_patterns_are_the_models() -> None:
    patterns = {p for file in MODELS for p in _patterns(version_schema(crd(file)))}
    assert NAME_PATTERN in patterns
    assert SIZE_PATTERN in patterns
    assert SERVER_URL_PATTERN in patterns
    for file in MODELS:
        for pattern in _patterns(version_schema(crd(file))):
            re.compile(pattern)


def test_secret_and_object_refs_refuse_namespace() -> None:
    def visit(schema: dict[str, Any], path: str, hits: list[str]) -> None:
        props = schema.get("properties", {})
        if "namespace" in props and path.endswith("Ref"):
            rules = [r["rule"] for r in schema.get("x-kubernetes-validations", [])]
            assert "!has(self.__namespace__)" in rules, path
            hits.append(path)
        for name, sub in props.items():
            visit(sub, f"{path}.{name}", hits)

    hits: list[str] = []
    for file in MODELS:
        visit(version_schema(crd(file))["properties"]["spec"], "spec", hits)
    assert len(hits) == 10  # 2x connectionRef, streamRef, 4 auth refs, 3 tls refs
    assert "spec.auth.credsSecretRef" in hits and "spec.tls.keySecretRef" in hits


def test_kopf_peering_crds() -> None:
    docs = list(yaml.safe_load_all((CRDS / "kopf-peering.yaml").read_text()))
    kinds = {d["spec"]["names"]["kind"]: d["spec"]["scope"] for d in docs}
    assert kinds == {"ClusterKopfPeering": "Cluster", "KopfPeering": "Namespaced"}
    assert {d["spec"]["group"] for d in docs} == {"kopf.dev"}


def test_kustomization_lists_every_crd() -> None:
    listed = set(yaml.safe_load((CRDS / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in CRDS.glob("*.yaml")} - {"kustomization.yaml"}


def test_reference_doc_lists_every_field() -> None:
    doc = (CRDS.parent / "docs" / "crd-reference.md").read_text()
    missing = [path for _, path, _, _ in ALL_FIELDS if f"`{path}`" not in doc]
    assert missing == []
