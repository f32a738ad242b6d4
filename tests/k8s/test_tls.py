"""The Kubernetes API's certificates: made once, private keys 0600, reused, renewed when needed."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
from pathlib import Path

from cryptography import x509

from kube9_desktop.engine.k8s.tls import TlsFiles, ensure_certificates, server_names


def names(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)) | {
        str(a) for a in san.get_values_for_type(x509.IPAddress)
    }


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_makes_a_ca_and_a_server_certificate(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path, "127.0.0.1")
    assert mode(files.ca_key) == 0o600 and mode(files.server_key) == 0o600
    assert mode(files.folder) == 0o700
    assert names(files.server_cert) == {"127.0.0.1", "::1", "localhost"}
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_a_restart_reuses_both(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path, "127.0.0.1")
    before = (
        first.ca_cert.read_bytes(),
        first.server_cert.read_bytes(),
        first.server_key.read_bytes(),
    )
    again = ensure_certificates(tmp_path, "localhost")  # covered by the same names
    assert (
        again.ca_cert.read_bytes(),
        again.server_cert.read_bytes(),
        again.server_key.read_bytes(),
    ) == before


def test_a_new_host_gets_a_new_server_certificate_from_the_same_ca(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path, "127.0.0.1")
    ca_before = files.ca_cert.read_bytes()
    ensure_certificates(tmp_path, "192.0.2.7")
    assert files.ca_cert.read_bytes() == ca_before  # kubeconfigs already written stay valid
    assert "192.0.2.7" in names(files.server_cert)
    ensure_certificates(tmp_path, "0.0.0.0")  # a wildcard needs no extra name
    assert "192.0.2.7" in names(files.server_cert)
    assert server_names("::") == ("127.0.0.1", "::1", "localhost")
    assert ipaddress.ip_address("::1")


def test_expiring_missing_or_foreign_server_certificates_are_made_again(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path, "127.0.0.1")
    old = files.server_cert.read_bytes()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)  # a day past its renewal point
    ensure_certificates(tmp_path, "127.0.0.1", now=later)
    assert files.server_cert.read_bytes() != old
    files.server_cert.unlink()
    ensure_certificates(tmp_path, "127.0.0.1")
    assert files.server_cert.exists()
    files.server_cert.write_text("not a certificate")
    ensure_certificates(tmp_path, "127.0.0.1")
    assert b"BEGIN CERTIFICATE" in files.server_cert.read_bytes()
    # a server certificate of another CA (a copied data directory half-restored)
    other = ensure_certificates(tmp_path / "other", "127.0.0.1")
    files.server_cert.write_bytes(other.server_cert.read_bytes())
    files.server_key.write_bytes(other.server_key.read_bytes())
    ensure_certificates(tmp_path, "127.0.0.1")
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    x509.load_pem_x509_certificate(files.server_cert.read_bytes()).verify_directly_issued_by(ca)


def test_a_lost_ca_key_makes_a_new_ca_and_server_certificate(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path, "127.0.0.1")
    ca_before = files.ca_cert.read_bytes()
    files.ca_key.unlink()
    ensure_certificates(tmp_path, "127.0.0.1")
    assert files.ca_cert.read_bytes() != ca_before
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    x509.load_pem_x509_certificate(files.server_cert.read_bytes()).verify_directly_issued_by(ca)
    assert TlsFiles.of(tmp_path) == files
