"""Serving the Kubernetes API over HTTPS inside the running loop, beside the Kube-9 API.

Same host rules as the Kube-9 API (loopback unless ``--allow-remote``), its own port
(``k8s_port``, default 6443), and the certificates of ``tls.py``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
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


class K8sServer:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._runner: web.AppRunner | None = None
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
        return f"https://{url_host(s.host)}:{self.port}"

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
