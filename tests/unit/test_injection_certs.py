"""Webhook TLS material: a CA that signs a serving cert for the given names; kept when present."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from jetstream_operator.config import OperatorSettings
from jetstream_operator.webhook_certs import build_certs, ensure_certs

pytestmark = pytest.mark.unit


def test_serving_cert_is_signed_by_the_ca_for_every_name() -> None:
    ca_pem, cert_pem, key_pem = build_certs(["svc.ns.svc", "127.0.0.1", "0.0.0.0"])
    ca = x509.load_pem_x509_certificate(ca_pem)
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.issuer == ca.subject
    public_key = ca.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["svc.ns.svc"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]  # 0.0.0.0 dropped
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert b"PRIVATE KEY" in key_pem and b"PRIVATE KEY" not in cert_pem + ca_pem


def test_ssl_accepts_the_pair(tmp_path: Path) -> None:
    certs = ensure_certs(tmp_path / "c", ["127.0.0.1"])
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(certs.certfile, certs.pkeyfile)
    client = ssl.create_default_context(cafile=str(certs.cafile))
    assert client.cert_store_stats()["x509_ca"] == 1
    assert stat.S_IMODE(certs.pkeyfile.stat().st_mode) == 0o600


def test_existing_certs_are_kept(tmp_path: Path) -> None:
    first = ensure_certs(tmp_path, ["a.example"])
    before = first.certfile.read_bytes()
    again = ensure_certs(tmp_path, ["b.example"])
    assert again.certfile.read_bytes() == before


def test_needs_a_name() -> None:
    with pytest.raises(ValueError, match="at least one host name"):
        build_certs(["0.0.0.0"])


def test_webhook_settings() -> None:
    op = OperatorSettings(webhook_port=9443, webhook_service="seam-jetstream-system/seam-jetstream-operator")
    assert op.webhook_service_ref == ("seam-jetstream-system", "seam-jetstream-operator", 443)
    assert OperatorSettings(webhook_service="a/b:8443").webhook_service_ref == ("a", "b", 8443)
    assert OperatorSettings().webhook_port == 0  # off unless asked for
    with pytest.raises(ValueError, match="must be namespace/name"):
        OperatorSettings(webhook_service="just-a-name")


def test_cli_flags_reach_the_settings() -> None:
    from jetstream_operator.__main__ import parse_args

    argv = "-n shop --webhook-port 9443 --webhook-addr 127.0.0.1 --webhook-host op.local"
    argv += " --webhook-service sys/op:8443 --webhook-cert-dir /c --webhook-config-name x.example"
    op = parse_args(argv.split())
    assert (op.webhook_port, op.webhook_addr, op.webhook_host) == (9443, "127.0.0.1", "op.local")
    assert (op.webhook_service_ref, op.webhook_cert_dir, op.webhook_config_name) == (
        ("sys", "op", 8443),
        "/c",
        "x.example",
    )


def test_webhook_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAM_OPERATOR_WEBHOOK_PORT", "9443")
    monkeypatch.setenv("SEAM_OPERATOR_WEBHOOK_SERVICE", "seam-jetstream-system/seam-jetstream-operator:443")
    op = OperatorSettings()
    assert op.webhook_port == 9443
    assert op.webhook_service_ref == ("seam-jetstream-system", "seam-jetstream-operator", 443)
