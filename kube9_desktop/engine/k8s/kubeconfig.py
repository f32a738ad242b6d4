"""``kube9-desktop kubeconfig``: a kubeconfig for this data directory's Kubernetes API.

One cluster (the server URL and the data directory's CA), one user (the admin token), one
context, all named ``kube9``, and ``current-context: kube9``. Written to stdout, or to a file
created 0600; never merged into ``~/.kube/config`` (that file is refused as a target).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.k8s.server import served_url, url_host
from kube9_desktop.engine.k8s.tls import TlsFiles, ensure_ca
from kube9_desktop.engine.tokens import load_or_create_admin_token
from kube9_desktop.settings import Settings

NAME = "kube9"


def kubeconfig(server: str, ca_pem: bytes, token: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": NAME,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": NAME, "user": {"token": token}}],
        "contexts": [{"name": NAME, "context": {"cluster": NAME, "user": NAME}}],
        "current-context": NAME,
        "preferences": {},
    }


def kubeconfig_text(settings: Settings) -> str:
    """The kubeconfig of ``settings``' data directory, host and Kubernetes port (creating the
    token and the CA if no engine ever started there: the engine then uses the same). With no
    port given, the URL of the engine serving that data directory now, if one does (it may
    have taken a free port), else the default port."""
    port = settings.effective_k8s_port
    served = served_url(settings.data_dir) if settings.k8s_port is None else None
    if port == 0 and served is None:
        raise UserError(
            "The Kubernetes API port is picked at start (k8s port 0): pass the port the engine "
            "printed with --k8s-port.",
            field="k8s_port",
        )
    token, _ = load_or_create_admin_token(settings.data_dir, settings.api_token)
    ca = ensure_ca(settings.data_dir)
    server = served or f"https://{url_host(settings.host)}:{port}"
    return yaml.safe_dump(kubeconfig(server, ca, token), sort_keys=False)


def served_kubeconfig_text(url: str, data_dir: Path, token: str) -> str:
    """The kubeconfig of a serving engine (the window's Copy/Save kubeconfig)."""
    ca = TlsFiles.of(data_dir).ca_cert.read_bytes()
    return yaml.safe_dump(kubeconfig(url, ca, token), sort_keys=False)


def default_kubeconfig() -> Path:
    return Path.home() / ".kube" / "config"


def write_kubeconfig(text: str, output: Path) -> None:
    """Write ``text`` to ``output`` (0600, its folder made 0700 if missing), replacing it."""
    target = output.expanduser()
    if target.resolve() == default_kubeconfig().resolve():
        raise UserError(
            f"Refusing to write {target}: kube9-desktop never changes your own kubeconfig. "
            "Write another file (--output ~/.kube/kube9) and use it with "
            "KUBECONFIG=~/.kube/kube9 kubectl …",
            field="output",
        )
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
