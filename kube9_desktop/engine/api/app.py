"""The aiohttp application factory: middlewares (errors, Host check, auth), body reading, routes.

Every answer is JSON (except ``GET /`` and ``/test_db``, kept as text from the original);
errors never carry a traceback, SQL or an HTML page.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import zlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from kube9_desktop.engine.api.auth import bearer, host_allowed
from kube9_desktop.engine.errors import Forbidden, Kube9Error, UserError
from kube9_desktop.engine.jsontypes import TextChecked
from kube9_desktop.engine.tokens import NODE_ID_DIGITS, Authenticator, Principal

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine

log = logging.getLogger(__name__)

API_BODY_LIMIT = 64 * 1024
HEARTBEAT_BODY_LIMIT = 16 * 1024

ENGINE: web.AppKey[Engine] = web.AppKey("engine")
ALLOWED_HOSTS: web.AppKey[frozenset[str]] = web.AppKey("allowed_hosts")
# Who may call each registered route: "admin", "node-or-admin" or "none" (Route.auth).
ROUTE_AUTH: web.AppKey[dict[web.AbstractRoute, str]] = web.AppKey("route_auth")
# Paths whose every route needs no token: a wrong method there is a 405 for anyone too.
PUBLIC_PATHS: web.AppKey[frozenset[str]] = web.AppKey("public_paths")
# The query parameters each route takes (Route.query); any other is refused, as a typo.
ROUTE_QUERY: web.AppKey[dict[web.AbstractRoute, frozenset[str]]] = web.AppKey("route_query")
# Who the auth middleware found the caller to be (routes that take a node's token).
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)
JSON_MAX_INT_DIGITS = 4300  # Python's own limit for int(str); no field takes more than 19

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PayloadTooLarge(Kube9Error):
    status = 413


class NotJson(Kube9Error):
    status = 415


class UnsupportedEncoding(Kube9Error):
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
        # A string from a client may hold lone surrogates (JSON "\\udcff", undecodable header
        # bytes); they go out as the JSON escapes they came in as, never as an encoding error.
        body=text.encode("utf-8", "backslashreplace"),
        status=status,
        content_type="application/json",
    )


def error_response(status: int, message: str, **extra: Any) -> web.Response:
    return json_response({"error": message, **extra}, status)


async def read_json(request: web.Request, limit: int = API_BODY_LIMIT) -> Any:
    """The request's JSON body (None when empty, which is not JSON null), refusing oversized
    bodies before reading them.

    Compressed bodies (Content-Encoding gzip or deflate) are inflated here, at most ``limit``
    bytes of them, so a small zip bomb is a 413 too; the server itself does not inflate.
    """
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(
            f"Request body too large: {request.content_length} bytes (limit {limit // 1024} KiB)"
        )
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = await request.content.read(min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"Request body too large (limit {limit // 1024} KiB)")
    except RequestPayloadError as exc:
        raise UserError(f"The body could not be read: {exc}", field="(body)") from None
    except ConnectionResetError:  # the client left mid-body: nobody to answer, nothing broke
        raise UserError("The client closed the connection before the body ended") from None
    raw = b"".join(chunks)
    if not raw.strip():
        return None
    ctype = request.content_type
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise NotJson(
            f"Content-Type must be application/json (got {ctype}); "
            "with curl add -H 'Content-Type: application/json'"
        )
    raw = _decode(raw, request.headers.get("Content-Encoding", ""), limit)
    if not raw.strip():
        return None
    data = parse_json(raw)
    if data is None:  # no body is the defaults; a JSON null is no object
        raise UserError("The body must be a JSON object, not null", field="(body)")
    if type(data) is dict and b"\\u" not in raw and b"\x00" not in raw:
        # No escape and no NUL byte (so UTF-8, not UTF-16): no string in it can hold a NUL or
        # a lone surrogate, and validation need not look for them.
        return TextChecked(data)
    return data


def _shown(text: str, limit: int = 40) -> str:
    """A client's header value fit to quote in a message: short printable ASCII, or nothing."""
    return repr(text) if len(text) <= limit and text.isascii() and text.isprintable() else ""


def _decode(raw: bytes, header: str, limit: int) -> bytes:
    """The body as the client meant it: inflated per its Content-Encoding, at most ``limit``."""
    encoding = header.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":  # zlib-wrapped as the RFC says, or raw as some clients send
        wbits = zlib.MAX_WBITS if raw[0] & 0x0F == 8 else -zlib.MAX_WBITS
    else:
        raise UnsupportedEncoding(
            f"Content-Encoding {_shown(header) or '(unreadable)'} is not supported: send the "
            "body uncompressed, or with Content-Encoding gzip or deflate"
        )
    inflater = zlib.decompressobj(wbits)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise UserError(
            f"The body is not {encoding} data, though its Content-Encoding says so",
            field="(body)",
        ) from None
    if len(body) > limit:
        raise PayloadTooLarge(
            f"Request body too large once inflated ({encoding}; limit {limit // 1024} KiB)"
        )
    if not inflater.eof or inflater.unused_data:
        raise UserError(
            f"The {encoding} body is {'cut short' if not inflater.eof else 'followed by junk'}",
            field="(body)",
        )
    return body


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > JSON_MAX_INT_DIGITS:
        raise UserError(
            f"The body holds an integer of {len(text.lstrip('-'))} digits; "
            "no field takes a number that long",
            field="(body)",
        )
    return int(text)


def _json_constant(name: str) -> Any:
    raise UserError(f"The body is not valid JSON: {name} is not a JSON number", field="(body)")


# Built once: json.loads with any keyword builds a decoder (and its scanner) per call.
_DECODER = json.JSONDecoder(parse_constant=_json_constant)
_DECODER_INT_CHECKED = json.JSONDecoder(parse_int=_json_int, parse_constant=_json_constant)


def parse_json(raw: bytes) -> Any:
    """Strict JSON: no NaN/Infinity, no integer of thousands of digits, no nesting so deep
    that Python cannot follow it; each is a 400 naming the problem, never a 500."""
    try:
        # As json.loads reads bytes: UTF-8, -16 or -32 as detected, lone surrogates kept.
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
        if 0 < sys.get_int_max_str_digits() <= JSON_MAX_INT_DIGITS:
            # Python refuses longer integers itself (a ValueError, below): no callback per
            # integer, which was a third of a heartbeat's parse.
            return _DECODER.decode(text)
        return _DECODER_INT_CHECKED.decode(text)
    except RecursionError:
        raise UserError(
            "The body is nested too deeply (hundreds of levels of lists or objects)",
            field="(body)",
        ) from None
    except UnicodeDecodeError:
        raise UserError(
            "The body is not valid JSON: it is not UTF-8 text", field="(body)"
        ) from None
    except json.JSONDecodeError as exc:
        raise UserError(f"The body is not valid JSON: {exc}", field="(body)") from None
    except ValueError as exc:  # int()'s own limit ("... value has 5000 digits; ...")
        found = re.search(r"value has (\d+) digits", str(exc))
        digits = found.group(1) if found else f"over {JSON_MAX_INT_DIGITS}"
        raise UserError(
            f"The body holds an integer of {digits} digits; no field takes a number that long",
            field="(body)",
        ) from None


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
    token of the node in its path. Unknown routes need the admin token (no route probing),
    but for a wrong method on a public path (PUBLIC_PATHS). Then query parameters the route
    does not take are refused.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        rule = request.app[ROUTE_AUTH].get(request.match_info.route, "admin")
        if rule == "admin" and request.path in request.app[PUBLIC_PATHS]:
            rule = "none"  # PUT /healthz: the 405 it is, not a 401
        if rule != "none":
            who = auth().identify(bearer(request.headers.get("Authorization")))
            if rule == "node-or-admin":
                _require_own_node(who, request.match_info.get("id", ""))
                request[PRINCIPAL] = who  # the heartbeat's handler need not look again
            else:
                Authenticator.require_admin(who)
        _check_query(request)  # one middleware for both: each layer costs every request
        return await handler(request)

    return middleware


def _check_query(request: web.Request) -> None:
    """Refuse query parameters the route does not take: ``?limt=5`` is a typo, not a no-op.

    Called after auth, so a stranger learns nothing about the routes' parameters."""
    if not request.query_string:
        return
    known = request.app[ROUTE_QUERY].get(request.match_info.route)
    if known is not None:
        for name in request.query:
            if name not in known:
                takes = ", ".join(sorted(known)) or "none"
                shown = _shown(name) or "(unprintable)"
                raise UserError(
                    f"{shown}: unknown query parameter (this route takes: {takes})", field=name
                )


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
        middlewares=[
            errors_middleware,
            host_middleware,
            auth_middleware(lambda: engine.auth),
        ],
        client_max_size=API_BODY_LIMIT,
    )
    app[ENGINE] = engine
    app[ALLOWED_HOSTS] = allowed_hosts
    route_auth: dict[web.AbstractRoute, str] = {}
    route_query: dict[web.AbstractRoute, frozenset[str]] = {}
    for route in ROUTES:
        for path in route.paths:
            added = app.router.add_route(route.method, path, route.handler)
            route_auth[added] = route.auth
            route_query[added] = frozenset(q.name for q in route.query)
    app[ROUTE_AUTH] = route_auth
    app[ROUTE_QUERY] = route_query
    by_path: dict[str, set[str]] = {}
    for route in ROUTES:
        for path in route.paths:
            by_path.setdefault(path, set()).add(route.auth)
    app[PUBLIC_PATHS] = frozenset(p for p, rules in by_path.items() if rules == {"none"})
    return app
