"""The aiohttp application factory: middlewares (errors, Host check, auth), body reading, routes.

Every answer is JSON (except ``GET /`` and ``/test_db``, kept as text from the original);
errors never carry a traceback, SQL or an HTML page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kube9_desktop.engine.api.auth import (
    NODE_ID_DIGITS,
    Authenticator,
    Principal,
    bearer,
    host_allowed,
)
from kube9_desktop.engine.errors import Forbidden, Kube9Error, UserError

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine

log = logging.getLogger(__name__)

API_BODY_LIMIT = 64 * 1024
HEARTBEAT_BODY_LIMIT = 16 * 1024

ENGINE: web.AppKey[Engine] = web.AppKey("engine")
ALLOWED_HOSTS: web.AppKey[frozenset[str]] = web.AppKey("allowed_hosts")
# Who may call each registered route: "admin", "node-or-admin" or "none" (Route.auth).
ROUTE_AUTH: web.AppKey[dict[web.AbstractRoute, str]] = web.AppKey("route_auth")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PayloadTooLarge(Kube9Error):
    status = 413


class NotJson(Kube9Error):
    status = 415


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # built once, not per reply


def json_response(
    data: Any, status: int = 200, *, encoded: dict[str, str] | None = None
) -> web.Response:
    """``data`` as JSON; ``encoded`` members (already JSON text) are appended to the object."""
    text = _ENCODER.encode(data)
    if encoded:
        extra = ",".join(f"{_ENCODER.encode(k)}:{v}" for k, v in encoded.items())
        text = f"{text[:-1]},{extra}}}" if text != "{}" else f"{{{extra}}}"
    return web.Response(
        body=text.encode(),
        status=status,
        content_type="application/json",
    )


def error_response(status: int, message: str, **extra: Any) -> web.Response:
    return json_response({"error": message, **extra}, status)


async def read_json(request: web.Request, limit: int = API_BODY_LIMIT) -> Any:
    """The request's JSON body (None when empty), refusing oversized bodies before reading them."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(
            f"Request body too large: {request.content_length} bytes (limit {limit // 1024} KiB)"
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body too large (limit {limit // 1024} KiB)")
    raw = b"".join(chunks)
    if not raw.strip():
        return None
    ctype = request.content_type
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise NotJson(
            f"Content-Type must be application/json (got {ctype}); "
            "with curl add -H 'Content-Type: application/json'"
        )
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"The body is not valid JSON: {exc}", field="(body)") from None


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Kube9Error as exc:
        return json_response(exc.to_json(), exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = exc.headers.get("Allow")
        message = {
            404: f"No route {request.method} {request.path}",
            405: f"Method {request.method} is not allowed on {request.path}"
            + (f" (allowed: {allow.replace(',', ', ')})" if allow else ""),
            413: "Request body too large",
        }.get(exc.status, exc.reason)
        response = error_response(exc.status, message)
        if allow is not None:
            response.headers["Allow"] = allow
        return response
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(
            500, "Internal error: the engine hit a bug. Details are in the log file."
        )


@web.middleware
async def host_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not host_allowed(request.headers.get("Host"), request.app[ALLOWED_HOSTS]):
        return error_response(
            421 if request.headers.get("Host") else 400,
            "Host header not allowed: the API answers only to localhost names "
            "(DNS-rebinding protection); add the name with --allowed-host if you mean it",
        )
    return await handler(request)


def auth_middleware(auth: Callable[[], Authenticator]) -> Any:
    """Decide who may call before any handler runs, so no body is read for a stranger.

    Each route's rule comes from the route table (ROUTE_AUTH); a heartbeat also takes the
    token of the node in its path. Unknown routes need the admin token (no route probing).
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        rule = request.app[ROUTE_AUTH].get(request.match_info.route, "admin")
        if rule == "none":
            return await handler(request)
        who = auth().identify(bearer(request.headers.get("Authorization")))
        if rule == "node-or-admin":
            _require_own_node(who, request.match_info.get("id", ""))
        else:
            Authenticator.require_admin(who)
        return await handler(request)

    return middleware


def _require_own_node(who: Principal, raw_id: str) -> None:
    """The admin, or the node whose id is in the path (ASCII digits, by the route pattern)."""
    if who.admin:
        return
    if len(raw_id) > NODE_ID_DIGITS or not raw_id.isdigit():
        raise Forbidden(f"This node token is not valid for node {raw_id[:NODE_ID_DIGITS]}…")
    Authenticator.require_node(who, int(raw_id))


def create_app(engine: Engine, allowed_hosts: frozenset[str] = frozenset()) -> web.Application:
    from kube9_desktop.engine.api.routes import ROUTES

    app = web.Application(
        middlewares=[errors_middleware, host_middleware, auth_middleware(lambda: engine.auth)],
        client_max_size=API_BODY_LIMIT,
    )
    app[ENGINE] = engine
    app[ALLOWED_HOSTS] = allowed_hosts
    route_auth: dict[web.AbstractRoute, str] = {}
    for route in ROUTES:
        for path in route.paths:
            route_auth[app.router.add_route(route.method, path, route.handler)] = route.auth
    app[ROUTE_AUTH] = route_auth
    return app
