"""The server's TLS certificate: the operator's (``tls_cert``/``tls_key``), or a pair made
on first start in ``DATA_DIR/tls`` and reused after.

The made pair is a small CA (``ca.pem``: what clients trust, e.g. with
``REQUESTS_CA_BUNDLE``) and a server certificate it signed for the names clients use:
the listen host, the endpoint's host, ``tls_names``, ``localhost``, ``127.0.0.1``,
``::1``, this machine's names and addresses. Keys are written 0600 in a 0700 directory.
A server certificate that lacks a wanted name, or expires within 30 days, is issued
again by the same CA on the next start, so clients that trust the CA keep trusting it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from podyard.config import Settings

CA_DAYS = 3650
SERVER_DAYS = 825
RENEW_BEFORE = timedelta(days=30)
CA_FILE, CA_KEY_FILE = "ca.pem", "ca-key.pem"
CERT_FILE, KEY_FILE = "server.pem", "server-key.pem"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ServerTls:
    cert_file: Path
    key_file: Path
    # The file clients trust: the made CA; None for the operator's certificate (its CA is theirs).
    ca_file: Path | None
    fingerprint: str  # SHA-256 of the server certificate, AA:BB:...
    issued: bool = False  # issued on this start
    ca_fingerprint: str | None = None  # SHA-256 of the made CA's certificate


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def server_tls(settings: Settings) -> ServerTls | None:
    """What ``podyard serve`` serves TLS with, or None for plain HTTP."""
    if not settings.serves_tls:
        return None
    if settings.tls_cert is not None and settings.tls_key is not None:
        for path in (settings.tls_cert, settings.tls_key):
            if not path.is_file():
                raise SystemExit(f"podyard: the TLS file {path} does not exist")
        cert = x509.load_pem_x509_certificate(settings.tls_cert.read_bytes())
        return ServerTls(settings.tls_cert, settings.tls_key, None, fingerprint(cert))
    return ensure_pair(settings.data_dir / "tls", wanted_names(settings))


def _machine_names() -> set[str]:
    names = {socket.gethostname(), socket.getfqdn()}
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None):
            names.add(str(info[4][0]))
    # The address of the default route (no packet is sent; none if there is no route).
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))
        names.add(s.getsockname()[0])
    return names


def wanted_names(settings: Settings) -> list[str]:
    names = {settings.host, settings.public_endpoint.rpartition(":")[0], "localhost", "127.0.0.1", "::1"}
    names |= set(settings.tls_names) | _machine_names()
    cleaned = {n.strip("[]").lower() for n in names}
    return sorted(n for n in cleaned if n and not (_is_ip(n) and ipaddress.ip_address(n).is_unspecified))


def _general_names(names: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            address: IpAddress = ipaddress.ip_address(name)
        except ValueError:
            out.append(x509.DNSName(name))
            continue
        # Link-local addresses (and their %scope) name no host a client reaches by them.
        if not (address.is_unspecified or address.is_link_local):
            out.append(x509.IPAddress(address))
    return out


def _covers(cert: x509.Certificate, names: list[str]) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return set(_general_names(names)) <= set(san)


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _new_ca(now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "podyard"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"podyard CA {socket.gethostname()}"[:64]),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _new_server(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, names: list[str], now: datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    dns = [n for n in names if not _is_ip(n)]
    common = dns[0] if dns else "podyard"
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "podyard"),
                    x509.NameAttribute(NameOID.COMMON_NAME, common[:64]),
                ]
            )
        )
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + timedelta(days=SERVER_DAYS), ca.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_general_names(names)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _load_ca(directory: Path, now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    try:
        ca = x509.load_pem_x509_certificate((directory / CA_FILE).read_bytes())
        key = serialization.load_pem_private_key((directory / CA_KEY_FILE).read_bytes(), None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or ca.not_valid_after_utc - now < RENEW_BEFORE:
        return None
    return ca, key


def _usable_server(directory: Path, ca: x509.Certificate, names: list[str], now: datetime) -> x509.Certificate | None:
    try:
        cert = x509.load_pem_x509_certificate((directory / CERT_FILE).read_bytes())
        serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), None)
        cert.verify_directly_issued_by(ca)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return None
    if cert.not_valid_after_utc - now < RENEW_BEFORE or not _covers(cert, names):
        return None
    return cert


def ensure_pair(directory: Path, names: list[str], now: datetime | None = None) -> ServerTls:
    """The CA and server certificate in ``directory``, made or renewed as needed."""
    now = now or datetime.now(UTC)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    loaded = _load_ca(directory, now)
    if loaded is None:
        ca, ca_key = _new_ca(now)
        _write(directory / CA_KEY_FILE, _key_pem(ca_key), 0o600)
        _write(directory / CA_FILE, ca.public_bytes(serialization.Encoding.PEM), 0o644)
    else:
        ca, ca_key = loaded
    cert = _usable_server(directory, ca, names, now)
    issued = cert is None
    if cert is None:
        cert, key = _new_server(ca, ca_key, names, now)
        _write(directory / KEY_FILE, _key_pem(key), 0o600)
        _write(directory / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return ServerTls(
        directory / CERT_FILE, directory / KEY_FILE, directory / CA_FILE, fingerprint(cert), issued, fingerprint(ca)
    )
