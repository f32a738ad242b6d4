"""Serving the API inside the already running loop (GUI and headless alike)."""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import ssl
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

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


# Every request the document allows must parse: a 4096-character label selector, each character
# percent-encoded, is 12 KiB, past aiohttp's 8 KiB default. Longer lines are refused by the
# HTTP parser itself (a text/plain 400, as the document says).
MAX_REQUEST_LINE = 64 * 1024


class ProtocolLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server log, where HTTP a client got wrong (a raw byte in the request line, a
    bad chunk size) is one warning line, not an ERROR with a traceback: it is no bug of ours."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kw: Any) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else sys.exc_info()[1]
        if isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500:
            reason = (exc.message or type(exc).__name__).strip().splitlines()[0]
            self.warning("%s: %s %s", str(msg) % args, exc.code, reason[:200], **kw)
        else:
            self.logger.exception(msg, *args, exc_info=exc_info, **kw)


class ApiServer:
    def __init__(
        self, engine: Engine, settings: Settings, *, agent_tls: ssl.SSLContext | None = None
    ) -> None:
        """``agent_tls``: the advertised listener's TLS (an https:// --advertise-url)."""
        self.engine = engine
        self.settings = settings
        self.agent_tls = agent_tls
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
        advertised = self._advertised_host()
        if advertised:
            extra.add(advertised.lower())
        app = create_app(self.engine, frozenset(extra))
        # auto_decompress off: read_json inflates bodies itself, within the body limit, and
        # answers a bad or unknown Content-Encoding in JSON (aiohttp's parser would log it).
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            auto_decompress=False,
            logger=ProtocolLog(logging.getLogger("aiohttp.server")),
            max_line_size=MAX_REQUEST_LINE,
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
        if advertised and advertised != s.host:
            # Agents on remote Docker engines heartbeat to the advertised address (engines.py):
            # the API listens there too, on the same port unless the URL names one.
            port = urlsplit(s.advertise_url or "").port or self.port
            remote = web.TCPSite(
                self._runner, advertised, port, reuse_address=True, ssl_context=self.agent_tls
            )
            try:
                await remote.start()
            except OSError as exc:
                await self._runner.cleanup()
                self._runner = None
                raise EnvironmentProblem(
                    f"Cannot serve the API on the advertised address {advertised}:{port} "
                    f"(--advertise-url): {exc.strerror}"
                ) from exc
        host = "127.0.0.1" if s.host in ("0.0.0.0", "localhost") else s.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def _advertised_host(self) -> str | None:
        """The --advertise-url's host, when remote Docker engines' agents use it."""
        s = self.settings
        if not (s.docker_engines and s.advertise_url):
            return None
        return urlsplit(s.advertise_url).hostname

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
