"""kubeapi's pure parts: credentials, REST paths, error mapping; and the operator's import hygiene."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jetstream_operator.kubeapi import (
    ApiClient,
    Connection,
    KubeConfigError,
    error_from_response,
    in_cluster_connection,
    kubeconfig_connection,
    load_connection,
    resource_path,
    service_host_url,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (
            ("jetstream.oppie.xyz", "v1alpha1", "streams", "ns"),
            "/apis/jetstream.oppie.xyz/v1alpha1/namespaces/ns/streams",
        ),
        (
            ("jetstream.oppie.xyz", "v1alpha1", "streams", "ns", "orders", "status"),
            "/apis/jetstream.oppie.xyz/v1alpha1/namespaces/ns/streams/orders/status",
        ),
        (("", "v1", "secrets", "ns", "creds"), "/api/v1/namespaces/ns/secrets/creds"),
        (("", "v1", "events", "ns"), "/api/v1/namespaces/ns/events"),
        (("kopf.dev", "v1", "clusterkopfpeerings"), "/apis/kopf.dev/v1/clusterkopfpeerings"),
        (("", "v1", "secrets", "ns", "a/b?c"), "/api/v1/namespaces/ns/secrets/a%2Fb%3Fc"),
    ],
)
def test_resource_path(args: tuple[str, ...], path: str) -> None:
    assert resource_path(*args) == path


def test_subresource_needs_a_name() -> None:
    assert resource_path("g", "v1", "things", "ns", None, "status") == "/apis/g/v1/namespaces/ns/things"


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"}, "https://10.0.0.1:6443"),
        ({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "https://10.0.0.1:443"),
        ({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}, "https://[fd00::1]:443"),
    ],
)
def test_service_host_url(env: dict[str, str], url: str) -> None:
    assert service_host_url(env) == url


def _service_account(tmp_path: Path, token: str = "tok-1") -> Path:
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(token + "\n")
    (sa / "namespace").write_text("ops\n")
    return sa


def test_in_cluster_connection_reads_the_service_account(tmp_path: Path) -> None:
    sa = _service_account(tmp_path)
    conn = in_cluster_connection({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, sa)
    assert conn.info.server == "https://10.0.0.1:443"
    assert conn.info.token == "tok-1"
    assert conn.info.default_namespace == "ops"
    assert conn.info.ca_path is None  # no ca.crt in this directory
    assert conn.token_path == sa / "token"
    assert conn.info.as_http_headers() == {"Authorization": "Bearer tok-1"}


def test_in_cluster_without_token_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(KubeConfigError, match=r"no service-account token at .*/token"):
        in_cluster_connection({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, tmp_path)


def _kubeconfig(tmp_path: Path, user: dict[str, str], cluster: dict[str, str]) -> Path:
    path = tmp_path / "conf" / "kubeconfig"
    path.parent.mkdir()
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u", "namespace": "dev"}}],
        "current-context": "ctx",
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def test_kubeconfig_relative_paths_resolve_next_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _kubeconfig(
        tmp_path,
        {"client-certificate": "pki/tls.crt", "client-key": "/abs/tls.key"},
        {"server": "https://127.0.0.1:6443", "certificate-authority": "pki/ca.crt"},
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    conn = kubeconfig_connection({"KUBECONFIG": str(path)})
    assert conn.info.server == "https://127.0.0.1:6443"
    assert conn.info.ca_path == str(path.parent / "pki/ca.crt")
    assert conn.info.certificate_path == str(path.parent / "pki/tls.crt")
    assert conn.info.private_key_path == "/abs/tls.key"
    assert conn.info.default_namespace == "dev"
    assert conn.token_path is None


def test_kubeconfig_token_becomes_a_bearer_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _kubeconfig(tmp_path, {"token": "abc"}, {"server": "https://127.0.0.1:6443"})
    monkeypatch.setenv("KUBECONFIG", str(path))
    conn = kubeconfig_connection({"KUBECONFIG": str(path)})
    assert conn.info.as_http_headers() == {"Authorization": "Bearer abc"}


def test_kubeconfig_without_server_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _kubeconfig(tmp_path, {"token": "abc"}, {"insecure-skip-tls-verify": "true"})
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(KubeConfigError, match="has no server"):
        kubeconfig_connection({"KUBECONFIG": str(path)})


def test_no_credentials_anywhere_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(KubeConfigError, match=r"\$KUBECONFIG unset"):
        load_connection({})


def test_kubeconfig_wins_over_the_service_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _kubeconfig(tmp_path, {"token": "abc"}, {"server": "https://127.0.0.1:6443"})
    monkeypatch.setenv("KUBECONFIG", str(path))
    conn = load_connection({"KUBECONFIG": str(path), "KUBERNETES_SERVICE_HOST": "10.0.0.1"})
    assert conn.info.server == "https://127.0.0.1:6443"


def test_rotated_token_is_reread(tmp_path: Path) -> None:
    sa = _service_account(tmp_path, "old")
    client = ApiClient(in_cluster_connection({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, sa))
    (sa / "token").write_text("new\n")
    assert client._auth_headers() == {"Authorization": "Bearer old"}  # within TOKEN_MAX_AGE
    assert client._auth_headers(refresh=True) == {"Authorization": "Bearer new"}


def test_plain_http_server_has_no_ssl_context() -> None:
    import kopf

    client = ApiClient(Connection(info=kopf.ConnectionInfo(server="http://127.0.0.1:8080/")))
    assert client._ssl is None
    assert client._server == "http://127.0.0.1:8080"


def test_error_from_status_body() -> None:
    body = {
        "kind": "Status",
        "status": "Failure",
        "message": 'events "x" is forbidden: unable to create new content in namespace ns (terminating)',
        "reason": "Forbidden",
        "details": {"name": "x", "kind": "events", "causes": [{"reason": "NamespaceTerminating"}]},
        "code": 403,
    }
    exc = error_from_response(403, json.dumps(body), "Forbidden")
    assert (exc.status, exc.reason) == (403, "Forbidden")
    assert exc.message.startswith('events "x" is forbidden')
    assert exc.causes == ("NamespaceTerminating",)
    assert str(exc).startswith("403 Forbidden: events")


def test_error_from_not_found_status() -> None:
    body = {"kind": "Status", "message": 'secrets "s" not found', "reason": "NotFound", "code": 404}
    exc = error_from_response(404, json.dumps(body), "Not Found")
    assert (exc.status, exc.reason, exc.message, exc.causes) == (404, "NotFound", 'secrets "s" not found', ())


@pytest.mark.parametrize("text", ["upstream connect error", '{"kind": "List"}', ""])
def test_error_without_status_body_keeps_http_reason(text: str) -> None:
    exc = error_from_response(502, text, "Bad Gateway")
    assert (exc.status, exc.reason, exc.message) == (502, "Bad Gateway", text.strip())


def test_long_error_messages_are_capped() -> None:
    exc = error_from_response(500, "x" * 5000, "Internal Server Error")
    assert len(exc.message) == 1024


def _fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_operator_process_never_imports_a_client_library() -> None:
    code = (
        "import sys; import jetstream_operator.__main__; import jetstream_operator.handlers; "
        "import jetstream_operator.injection.webhook; import kopf; "
        "from kopf._core.intents.registries import get_default_registry as r; "
        "libs = ('kubernetes_asyncio', 'kubernetes', 'pykube'); "
        "print([m for m in sys.modules if m.split('.')[0] in libs]); "
        "print(sorted(h.id for h in r()._activities.get_all_handlers() "
        "if h.activity is not None and h.activity.value == 'authentication'))"
    )
    out = _fresh(code)
    assert out.returncode == 0, out.stderr
    loaded, logins = out.stdout.splitlines()
    assert loaded == "[]"
    assert "login_via_async_client" not in logins and "login_via_client" not in logins


def test_the_operator_package_imports_without_loading_kopf() -> None:
    code = "import sys, jetstream_operator.spec, jetstream_operator.mapping; print('kopf' in sys.modules)"
    out = _fresh(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_client_library_stays_importable_after_the_operator() -> None:
    code = "import jetstream_operator.__main__; import kubernetes_asyncio.client; print('ok')"
    out = _fresh(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_unreadable_rotated_token_keeps_the_old_one_and_never_logs_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sa = _service_account(tmp_path, "secret-token-value")
    client = ApiClient(in_cluster_connection({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, sa))
    (sa / "token").unlink()
    with caplog.at_level(logging.DEBUG):
        assert client._auth_headers(refresh=True) == {"Authorization": "Bearer secret-token-value"}
    assert "cannot re-read the service-account token" in caplog.text
    assert "secret-token-value" not in caplog.text
