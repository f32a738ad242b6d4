"""``kube9-desktop kubeconfig``: stdout or a 0600 file, never the user's own kubeconfig."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
import yaml

import main
from kube9_desktop.engine.k8s.tls import TlsFiles


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main.main(["kubeconfig", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_stdout_by_default_with_the_ca_and_token_of_the_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBE9_API_TOKEN", raising=False)
    rc, out, _ = run(capsys, "--data-dir", str(tmp_path))
    assert rc == 0
    config = yaml.safe_load(out)
    assert config["current-context"] == "kube9"
    (cluster,) = config["clusters"]
    assert cluster["name"] == "kube9" and cluster["cluster"]["server"] == "https://127.0.0.1:6443"
    ca = base64.b64decode(cluster["cluster"]["certificate-authority-data"])
    assert ca == TlsFiles.of(tmp_path).ca_cert.read_bytes()
    (user,) = config["users"]
    assert user["user"]["token"] == (tmp_path / "api-token").read_text().strip()
    assert config["contexts"] == [
        {"name": "kube9", "context": {"cluster": "kube9", "user": "kube9"}}
    ]
    rc, again, _ = run(capsys, "--data-dir", str(tmp_path), "--k8s-port", "7443", "--host", "::1")
    assert yaml.safe_load(again)["clusters"][0]["cluster"]["server"] == "https://[::1]:7443"
    assert yaml.safe_load(again)["users"] == config["users"]  # the same token, not a new one


def test_output_writes_a_private_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "kube" / "kube9"
    rc, out, err = run(capsys, "--data-dir", str(tmp_path / "data"), "--output", str(target))
    assert rc == 0 and out == "" and "KUBECONFIG=" in err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert yaml.safe_load(target.read_text())["kind"] == "Config"


def test_the_users_own_kubeconfig_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    own = tmp_path / "home" / ".kube" / "config"
    own.parent.mkdir(parents=True)
    own.write_text("theirs")
    rc, _, err = run(capsys, "--data-dir", str(tmp_path / "data"), "--output", str(own))
    assert rc == 2 and "never changes your own kubeconfig" in err
    assert own.read_text() == "theirs"


def test_a_port_picked_at_start_must_be_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = run(capsys, "--data-dir", str(tmp_path), "--k8s-port", "0")
    assert rc == 2 and "--k8s-port" in err
    rc, _, err = run(capsys, "--data-dir", str(tmp_path), "--k8s-port", "70000")
    assert rc == 2 and "k8s_port" in err
