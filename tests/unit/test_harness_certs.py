"""The throwaway PKI maps users and groups the way kube-apiserver reads client certificates."""

from __future__ import annotations

import base64
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from seam_harness.certs import TinyCA, service_account_signing_key
from seam_harness.kube import kubeconfig_document

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def ca() -> TinyCA:
    return TinyCA()


def _load(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def test_client_cert_carries_user_as_cn_and_groups_as_o(ca: TinyCA) -> None:
    cert = _load(ca.client_cert("seam-admin", ("system:masters", "devs")).cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "seam-admin"
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "system:masters",
        "devs",
    ]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    cert.verify_directly_issued_by(ca.cert)


def test_user_without_groups_has_no_organization(ca: TinyCA) -> None:
    cert = _load(ca.client_cert("jane").cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) == []


def test_serving_cert_names_ips_and_dns_names(ca: TinyCA) -> None:
    cert = _load(ca.serving_cert(["127.0.0.1", "localhost"]).cert_pem)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH
    ]
    cert.verify_directly_issued_by(ca.cert)


def test_ca_is_a_ca(ca: TinyCA) -> None:
    assert ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_service_account_key_pair_matches() -> None:
    private_pem, public_pem = service_account_signing_key()
    private = serialization.load_pem_private_key(private_pem, password=None)
    assert (
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == public_pem
    )


def test_kubeconfig_embeds_ca_and_client_credentials(ca: TinyCA) -> None:
    pair = ca.client_cert("jane")
    doc = kubeconfig_document("https://127.0.0.1:6443", ca.cert_pem, "jane", pair)
    cluster = doc["clusters"][0]["cluster"]
    user = doc["users"][0]["user"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == ca.cert_pem
    assert base64.b64decode(user["client-certificate-data"]) == pair.cert_pem
    assert base64.b64decode(user["client-key-data"]) == pair.key_pem
    context = next(c for c in doc["contexts"] if c["name"] == doc["current-context"])
    assert context["context"] == {"cluster": "seam", "user": "jane"}
