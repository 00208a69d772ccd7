"""TLS material for the admission webhook: a self-signed CA and a serving certificate it signs.

kopf can make its own self-signed certificate, but only through certbuilder/oscrypto, which does
not load on current OpenSSL. This module does the same with ``cryptography``; the files it writes
(``ca.crt``, ``tls.crt``, ``tls.key``) are what kopf's ``WebhookServer`` takes as ``cafile``,
``certfile`` and ``pkeyfile``. A directory that already holds all three (e.g. a mounted
cert-manager Secret) is used as it is.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import ipaddress
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.crt"
CERT_FILE = "tls.crt"
KEY_FILE = "tls.key"
VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True)
class WebhookCerts:
    """Paths of the CA bundle (for the apiserver) and the serving cert/key (for the server)."""

    cafile: Path
    certfile: Path
    pkeyfile: Path


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def build_certs(hostnames: Iterable[str], *, now: dt.datetime | None = None) -> tuple[bytes, bytes, bytes]:
    """(CA cert PEM, serving cert PEM, serving key PEM) for ``hostnames`` (DNS names or IPs)."""
    names = [h for h in dict.fromkeys(hostnames) if h and h not in ("0.0.0.0", "::")]
    if not names:
        raise ValueError("the webhook certificate needs at least one host name or IP address")
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seam-jetstream webhook CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return ca.public_bytes(pem), cert.public_bytes(pem), _key_pem(key)


def ensure_certs(directory: Path, hostnames: Iterable[str]) -> WebhookCerts:
    """Use the certs in ``directory`` when all three files exist, else generate and write them."""
    certs = WebhookCerts(directory / CA_FILE, directory / CERT_FILE, directory / KEY_FILE)
    if all(p.is_file() for p in (certs.cafile, certs.certfile, certs.pkeyfile)):
        return certs
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_pem, cert_pem, key_pem = build_certs(hostnames)
    certs.cafile.write_bytes(ca_pem)
    certs.certfile.write_bytes(cert_pem)
    # The private key is readable by the operator only.
    fd = os.open(certs.pkeyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    return certs


def secret_manifest(name: str, namespace: str, hostnames: Iterable[str]) -> dict[str, object]:
    """A Secret holding fresh certs, for the in-cluster install (every replica mounts the same)."""
    ca_pem, cert_pem, key_pem = build_certs(hostnames)
    files = {CA_FILE: ca_pem, CERT_FILE: cert_pem, KEY_FILE: key_pem}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {k: base64.b64encode(v).decode() for k, v in files.items()},
    }


def main(argv: list[str] | None = None) -> None:
    """Print the webhook TLS Secret for a Service: ``... | kubectl apply -f -``."""
    parser = argparse.ArgumentParser(
        prog="python -m jetstream_operator.webhook_certs", description=main.__doc__
    )
    parser.add_argument("--service", default="seam-jetstream-system/seam-jetstream-operator")
    parser.add_argument("--secret", default="seam-jetstream-webhook-tls")
    args = parser.parse_args(argv)
    namespace, _, service = args.service.partition("/")
    names = [f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.cluster.local"]
    print(json.dumps(secret_manifest(args.secret, namespace, names), indent=2))


if __name__ == "__main__":
    main()
