"""The Kubernetes API's certificates: a CA of this data directory and a server certificate.

Generated on first start into ``<data-dir>/k8s/`` (keys 0600) and reused across restarts: the
CA lives ten years; the server certificate one year, and is made again when it is missing,
unreadable, expiring within a day, not signed by this CA, or its names do not cover the host
it serves (SANs 127.0.0.1, ::1, localhost and the bound host). The kubeconfig carries the CA,
so a client trusts exactly this cluster. Blocking (key generation, files): call in a thread.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kube9_desktop.engine.errors import EnvironmentProblem

CA_DAYS = 3650
SERVER_DAYS = 365
RENEW_BEFORE = dt.timedelta(days=1)
LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Where one data directory keeps its Kubernetes API's certificates and keys."""

    folder: Path

    @staticmethod
    def of(data_dir: Path) -> TlsFiles:
        return TlsFiles(data_dir / "k8s")

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.folder / "server.key"


def server_names(host: str) -> tuple[str, ...]:
    """The names a server certificate for ``host`` must carry: loopback always, and the host
    itself unless it is a wildcard (0.0.0.0 serves on every address; clients use loopback)."""
    extra = () if host in WILDCARD_HOSTS or host in LOOPBACK_NAMES else (host.lower(),)
    return (*LOOPBACK_NAMES, *extra)


def ensure_certificates(data_dir: Path, host: str, now: dt.datetime | None = None) -> TlsFiles:
    """The CA and a server certificate valid for ``host``, made or renewed as needed."""
    files = TlsFiles.of(data_dir)
    now = now or dt.datetime.now(dt.UTC)
    try:
        files.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(files.folder, 0o700)
        ca = _load_ca(files, now)
        fresh_ca = ca is None
        if ca is None:
            ca = _new_ca(now)
            _write(files.ca_key, _key_pem(ca[1]), private=True)
            _write(files.ca_cert, ca[0].public_bytes(serialization.Encoding.PEM))
        if fresh_ca or not _server_usable(files, ca[0], host, now):
            cert, key = _new_server_cert(ca, host, now)
            _write(files.server_key, _key_pem(key), private=True)
            _write(files.server_cert, cert.public_bytes(serialization.Encoding.PEM))
    except OSError as exc:
        raise EnvironmentProblem(
            f"Cannot write the Kubernetes API's certificates in {files.folder}: "
            f"{exc.strerror}. Choose a writable --data-dir."
        ) from exc
    return files


def agent_listener_certificate(data_dir: Path, host: str) -> tuple[Path, Path, bytes]:
    """A server certificate for ``host`` (the --advertise-url's), signed by the cluster's CA,
    for the API's listener that remote engines' agents heartbeat to; (cert, key, CA PEM).
    Made anew at each start (cheap), beside the Kubernetes API's own."""
    ca_pem = ensure_ca(data_dir)
    files = TlsFiles.of(data_dir)
    now = dt.datetime.now(dt.UTC)
    ca = _load_ca(files, now)
    assert ca is not None  # ensure_ca made it
    cert, key = _new_server_cert(ca, host, now)
    cert_path, key_path = files.folder / "agents.crt", files.folder / "agents.key"
    try:
        _write(key_path, _key_pem(key), private=True)
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    except OSError as exc:
        raise EnvironmentProblem(
            f"Cannot write the agents' listener certificate in {files.folder}: {exc.strerror}"
        ) from exc
    return cert_path, key_path, ca_pem


def ensure_ca(data_dir: Path) -> bytes:
    """The CA certificate (PEM) for a kubeconfig, made first if the engine never started."""
    files = TlsFiles.of(data_dir)
    now = dt.datetime.now(dt.UTC)
    if _load_ca(files, now) is None:
        ensure_certificates(data_dir, "127.0.0.1", now)
    return files.ca_cert.read_bytes()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write via a temporary file and a rename: a reader never sees half a key."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600 if private else 0o644)
    os.replace(tmp, path)


def _load_ca(
    files: TlsFiles, now: dt.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    """The stored CA, or None when it is missing, unreadable, expiring or not matching its key."""
    try:
        cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return None
    if cert.not_valid_after_utc - RENEW_BEFORE < now:
        return None
    if not _same_key(cert, key):
        return None
    os.chmod(files.ca_key, 0o600)
    return cert, key


def _server_usable(files: TlsFiles, ca: x509.Certificate, host: str, now: dt.datetime) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        key = serialization.load_pem_private_key(files.server_key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return False
    if not _same_key(cert, key):
        return False
    if cert.not_valid_after_utc - RENEW_BEFORE < now or cert.not_valid_before_utc > now:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    have |= {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    return all(_canonical(n) in have for n in server_names(host))


def _same_key(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)


def _canonical(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name.lower()


def _new_ca(now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube9-desktop-ca")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
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


def _new_server_cert(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], host: str, now: dt.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for n in server_names(host):
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            alt.append(x509.DNSName(n))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube9-apiserver")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key
