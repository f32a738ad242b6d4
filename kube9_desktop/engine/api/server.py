"""Serving the API inside the already running loop (GUI and headless alike)."""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import TYPE_CHECKING

from aiohttp import web

from kube9_desktop.engine.api.app import create_app
from kube9_desktop.engine.errors import EnvironmentProblem, UserError
from kube9_desktop.settings import Settings

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ApiServer:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> str:
        s = self.settings
        if not is_loopback(s.host) and not s.allow_remote:
            raise UserError(
                f"Refusing to serve the API on {s.host}: anyone on the network could drive "
                "your cluster. Use the default 127.0.0.1, or pass --allow-remote if you mean it.",
                field="host",
            )
        extra = set(s.allowed_hosts)
        if not is_loopback(s.host) and s.host not in ("0.0.0.0", "::"):
            extra.add(s.host.lower())
        extra.add("host.docker.internal")  # agents in Docker Desktop's bridge network
        app = create_app(self.engine, frozenset(extra))
        # auto_decompress off: read_json inflates bodies itself, within the body limit, and
        # answers a bad or unknown Content-Encoding in JSON (aiohttp's parser would log it).
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, auto_decompress=False
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, s.host, s.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            if exc.errno == errno.EADDRINUSE:
                raise EnvironmentProblem(
                    f"Port {s.port} on {s.host} is already in use (another Kube-9 Desktop?). "
                    "Stop it, choose another --port, or use --port 0 to pick a free one."
                ) from exc
            raise EnvironmentProblem(
                f"Cannot serve the API on {s.host}:{s.port}: {exc.strerror}"
            ) from exc
        server = site._server
        sockets: list[socket.socket] = list(getattr(server, "sockets", None) or [])
        self.port = sockets[0].getsockname()[1] if sockets else s.port
        host = "127.0.0.1" if s.host in ("0.0.0.0", "localhost") else s.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
