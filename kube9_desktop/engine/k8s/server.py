"""Serving the Kubernetes API over HTTPS inside the running loop, beside the Kube-9 API.

Same host rules as the Kube-9 API (loopback unless ``--allow-remote``), its own port
(``k8s_port``, default 6443), and the certificates of ``tls.py``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from kube9_desktop.engine.api.server import MAX_REQUEST_LINE, ProtocolLog, is_loopback
from kube9_desktop.engine.errors import EnvironmentProblem, UserError
from kube9_desktop.engine.k8s.app import create_app
from kube9_desktop.engine.k8s.tls import TlsFiles, ensure_certificates
from kube9_desktop.settings import Settings

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine


def server_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.server_cert, files.server_key)
    return context


def url_host(host: str) -> str:
    """The host a client should dial: loopback for a wildcard bind, brackets for IPv6."""
    host = "127.0.0.1" if host in ("0.0.0.0", "localhost", "") else host
    if host == "::":
        host = "::1"
    return f"[{host}]" if ":" in host else host


URL_FILE = "k8s/url"  # the serving engine's URL, while it serves (kubeconfig reads it)
log = logging.getLogger(__name__)


def write_url(path: Path, url: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(url + "\n")
    os.replace(tmp, path)


def served_url(data_dir: Path) -> str | None:
    """The URL an engine on ``data_dir`` serves the Kubernetes API at now, if one does."""
    try:
        url = (data_dir / URL_FILE).read_text().strip()
    except OSError:
        return None
    return url if url.startswith("https://") and len(url) < 300 else None


class K8sServer:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._runner: web.AppRunner | None = None
        self._url_file: Path | None = None
        self.port = 0

    async def start(self) -> str:
        """Serve; the URL clients use (``https://127.0.0.1:6443``)."""
        s = self.settings
        port = s.effective_k8s_port
        if not is_loopback(s.host) and not s.allow_remote:
            raise UserError(
                f"Refusing to serve the Kubernetes API on {s.host}: anyone on the network could "
                "drive your cluster. Use the default 127.0.0.1, or pass --allow-remote.",
                field="host",
            )
        files = await asyncio.to_thread(ensure_certificates, s.data_dir, s.host)
        context = await asyncio.to_thread(server_context, files)
        extra = set(s.allowed_hosts)
        if not is_loopback(s.host) and s.host not in ("0.0.0.0", "::"):
            extra.add(s.host.lower())
        self._runner = web.AppRunner(
            create_app(self.engine, frozenset(extra)),
            handle_signals=False,
            access_log=None,
            logger=ProtocolLog(logging.getLogger("aiohttp.server")),
            max_line_size=MAX_REQUEST_LINE,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, s.host, port, ssl_context=context, reuse_address=True)
        try:
            try:
                await site.start()
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or s.k8s_port is not None:
                    raise
                # 6443 by default only: another cluster on this machine (Docker Desktop's, a
                # kind or k3s API server) must not keep the app from starting. Any free port
                # then; kube9-desktop kubeconfig reads it from URL_FILE.
                log.warning("Port %d is in use: the Kubernetes API takes a free port", port)
                site = web.TCPSite(self._runner, s.host, 0, ssl_context=context)
                await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            if exc.errno == errno.EADDRINUSE:
                raise EnvironmentProblem(
                    f"Port {port} on {s.host} (the Kubernetes API) is already in use (another "
                    "Kube-9 Desktop, or a Kubernetes API server?). Stop it, choose another "
                    "--k8s-port, or use --k8s-port 0 to pick a free one."
                ) from exc
            raise EnvironmentProblem(
                f"Cannot serve the Kubernetes API on {s.host}:{port}: {exc.strerror}"
            ) from exc
        server = site._server
        sockets: list[socket.socket] = list(getattr(server, "sockets", None) or [])
        self.port = sockets[0].getsockname()[1] if sockets else port
        url = f"https://{url_host(s.host)}:{self.port}"
        self._url_file = s.data_dir / URL_FILE
        await asyncio.to_thread(write_url, self._url_file, url)
        return url

    async def stop(self) -> None:
        """Finish the requests in flight, then drop every connection at once: a TLS close
        waits up to 30 s for the client's close_notify, which an idle client never sends."""
        if self._runner is not None:
            server = self._runner.server
            transports = [h.transport for h in server.connections] if server else []
            await self._runner.cleanup()
            for transport in transports:
                if transport is not None:
                    transport.abort()
            self._runner = None
        if self._url_file is not None:
            self._url_file.unlink(missing_ok=True)
            self._url_file = None
