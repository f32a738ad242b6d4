"""Hostile input over real sockets: each gets a 4xx JSON answer naming the problem, with or
without a token, and nothing is logged as a traceback (issue 11, section 6).

The requests are written byte by byte (``send``) so that a test can say exactly what goes on
the wire: header bytes that are not UTF-8, a Content-Encoding that lies, a chunked body.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest

from kube9_desktop.engine.core import Engine
from tests.helpers import Api, wait_for

NODE = {"name": "worker-1", "cpu_cores_avail": 2}
C = {"name": "c", "image": "nginx:latest"}
POD = {"name": "p", "cpu_cores_req": 0.5, "containers": [C]}
JSON_TYPE = (b"Content-Type", b"application/json")
ADMIN = object()  # "send the admin token" (the engine's token is known only at run time)
DEEP_LIST = b"[" * 30_000 + b"]" * 30_000  # 60 KB: under the body limit, past Python's stack
DEEP_OBJECT = b'{"a":' * 8_000 + b"1" + b"}" * 8_000
DEEP_HEARTBEAT = b"[" * 8_000 + b"]" * 8_000  # under the heartbeat's 16 KiB
HUGE_INT = b"9" * 5000


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error(self) -> str:
        assert isinstance(self.body, dict), self.body
        return str(self.body["error"])


def _wire(
    api: Api,
    method: str,
    path: str | bytes,
    body: bytes,
    token: object,
    headers: Sequence[tuple[bytes, bytes]],
    chunked: bool,
    length: int | None = None,
) -> bytes:
    target = path if isinstance(path, bytes) else path.encode()
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: localhost"]
    lines.append(b"Connection: close")
    if token is ADMIN:
        assert api.token is not None
        lines.append(b"Authorization: Bearer " + api.token.encode())
    elif isinstance(token, bytes):
        lines.append(b"Authorization: " + token)
    lines += [k + b": " + v for k, v in headers]
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
    else:
        lines.append(b"Content-Length: %d" % (len(body) if length is None else length))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _parse(raw: bytes) -> Reply:
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body: Any = payload.decode("utf-8", "replace")
    if "json" in headers.get("content-type", ""):
        body = json.loads(payload)
    return Reply(int(status_line.split()[1]), headers, body)


async def send(
    api: Api,
    method: str,
    path: str | bytes,
    body: bytes = b"",
    *,
    token: object = ADMIN,
    headers: Sequence[tuple[bytes, bytes]] = (JSON_TYPE,),
) -> Reply:
    """One request exactly as given; ``token`` is ADMIN, None, or a raw Authorization value."""
    url = urlparse(api.base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(_wire(api, method, path, body, token, headers, chunked=False) + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return _parse(raw)


async def status_line_while_sending(
    api: Api, path: str, size: int, *, token: object, chunked: bool
) -> bytes:
    """Start sending a ``size``-byte body and return the status line as soon as it comes."""
    url = urlparse(api.base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = _wire(api, "POST", path, b"", token, (JSON_TYPE,), chunked, length=size)

    async def pour() -> None:
        writer.write(head)
        block = b"x" * 65536
        sent = 0
        with contextlib.suppress(ConnectionError):
            while sent < size:
                n = min(len(block), size - sent)
                writer.write(b"%x\r\n%s\r\n" % (n, block[:n]) if chunked else block[:n])
                await writer.drain()
                sent += n

    pouring = asyncio.create_task(pour())
    try:
        return await asyncio.wait_for(reader.readline(), 10)
    finally:
        pouring.cancel()
        writer.close()
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await pouring
            await writer.wait_closed()


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever a client sends, the log gets no ERROR and no traceback."""
    caplog.set_level(logging.WARNING)
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")  # .records: this phase
    bad = [r for r in records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [f"{r.levelname} {r.name}: {r.getMessage()[:200]}" for r in bad]


def assert_401(reply: Reply) -> None:
    assert reply.status == 401, reply
    assert "token" in reply.error.lower() or "authorization" in reply.error.lower()


def assert_400(reply: Reply, field: str, *words: str) -> None:
    assert reply.status == 400, reply
    fields = {reply.body.get("field")} | {e["field"] for e in reply.body.get("errors", ())}
    assert field in fields, reply.body
    assert field in reply.error or field == "(body)", reply.body
    for word in words:
        assert word in reply.error, reply.body


def body(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


async def healthy_node(engine: Engine, name: str = "worker-1") -> tuple[int, str]:
    created = await engine.create_node_from_json({"name": name, "cpu_cores_avail": 2})
    await wait_for(
        lambda: engine.cluster.state.nodes[created.view.id].status == "healthy",
        what=f"{name} healthy",
    )
    return created.view.id, created.token


# ---- bodies that break a naive JSON reader -------------------------------------------------

BROKEN_JSON = [
    (DEEP_LIST, "nested too deeply"),
    (DEEP_OBJECT, "nested too deeply"),
    (b'{"name": "w", "cpu_cores_avail": ' + HUGE_INT + b"}", "integer of 5000 digits"),
    (b'{"name": "w", "cpu_cores_avail": -' + HUGE_INT + b"}", "integer of 5000 digits"),
    (b'{"name": "w", "cpu_cores_avail": NaN}', "NaN is not a JSON number"),
    (b'{"name": "w", "cpu_cores_avail": Infinity}', "Infinity is not a JSON number"),
    (b'{"name": "w\xe9", "cpu_cores_avail": 1}', "not UTF-8"),
    (b'{"name": "w", ', "not valid JSON"),
    (b"null", "not null"),  # no body means the defaults; null is not an object
    (b" [] ", "must be a JSON object"),
]


@pytest.mark.parametrize("int_limit", [4300, 0])  # Python's default; 0 = unlimited
def test_a_huge_integer_is_refused_whatever_pythons_own_int_limit(int_limit: int) -> None:
    """The parser leans on int()'s digit limit when it is on, and checks each integer itself
    when something turned the limit off."""
    import sys

    from kube9_desktop.engine.api.app import parse_json
    from kube9_desktop.engine.errors import UserError

    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(int_limit)
    try:
        for raw in (b'{"a": ' + HUGE_INT + b"}", b"[1, -" + HUGE_INT + b"]"):
            with pytest.raises(UserError, match="integer of 5000 digits"):
                parse_json(raw)
        assert parse_json(b'{"a": [1, -2, 3.5, "4"]}') == {"a": [1, -2, 3.5, "4"]}
    finally:
        sys.set_int_max_str_digits(before)


@pytest.mark.parametrize(("raw", "words"), BROKEN_JSON)
@pytest.mark.parametrize("path", ["/nodes/", "/pods/", "/nodes/1/simulate/failure"])
async def test_broken_json_is_400_naming_the_problem(
    api: Api, path: str, raw: bytes, words: str
) -> None:
    assert_400(await send(api, "POST", path, raw), "(body)", words)
    assert_401(await send(api, "POST", path, raw, token=None))


async def test_deep_nesting_that_python_can_follow_is_a_field_error(api: Api) -> None:
    nested = b"[" * 900 + b"]" * 900
    raw = b'{"name": "w", "cpu_cores_avail": 1, "memory_mb": ' + nested + b"}"
    assert_400(await send(api, "POST", "/nodes/", raw), "memory_mb")
    assert (await send(api, "GET", "/nodes/")).body == []


# ---- Content-Encoding ----------------------------------------------------------------------

PLAIN_NODE = body(NODE)


@pytest.mark.parametrize(
    ("encoding", "raw", "status", "words"),
    [
        (b"gzip", PLAIN_NODE, 400, "not gzip data"),
        (b"deflate", b"\x78garbage", 400, "not deflate data"),
        (b"deflate", PLAIN_NODE, 400, "not deflate data"),
        (b"gzip", gzip.compress(PLAIN_NODE)[:-12], 400, "cut short"),
        (b"gzip", gzip.compress(PLAIN_NODE) + b"junk", 400, "followed by junk"),
        (b"br", PLAIN_NODE, 415, "'br' is not supported"),
        (b"zstd", PLAIN_NODE, 415, "'zstd' is not supported"),
        (b"gzip, br", PLAIN_NODE, 415, "'gzip, br' is not supported"),
        (b"x-\xff", PLAIN_NODE, 415, "(unreadable) is not supported"),
        (b"gzip", gzip.compress(b'{"name": "' + b"a" * 10_000_000 + b'"}'), 413, "once inflated"),
    ],
)
async def test_a_content_encoding_that_does_not_match_the_body(
    api: Api, encoding: bytes, raw: bytes, status: int, words: str
) -> None:
    headers = (JSON_TYPE, (b"Content-Encoding", encoding))
    reply = await send(api, "POST", "/nodes/", raw, headers=headers)
    assert reply.status == status, reply
    assert words in reply.error, reply.body
    assert (await send(api, "GET", "/nodes/")).body == []
    assert_401(await send(api, "POST", "/nodes/", raw, headers=headers, token=None))


@pytest.mark.parametrize(
    ("encoding", "squeeze"),
    [
        (b"gzip", gzip.compress),
        (b"x-gzip", gzip.compress),
        (b"deflate", zlib.compress),
        (b"deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some clients send it
        (b"identity", lambda b: b),
    ],
)
async def test_compressed_bodies_that_are_what_they_say_work(
    api: Api, encoding: bytes, squeeze: Any
) -> None:
    headers = (JSON_TYPE, (b"Content-Encoding", encoding))
    reply = await send(api, "POST", "/nodes/", squeeze(PLAIN_NODE), headers=headers)
    assert reply.status == 201, reply
    assert reply.body["name"] == "worker-1"


# ---- authentication comes before the body --------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/nodes/", "/pods/", "/nodes/1/heartbeat", "/pods/1/simulate/failure"]
)
@pytest.mark.parametrize("chunked", [False, True])
async def test_a_stranger_is_refused_before_the_body_is_read(
    engine: Engine, api: Api, path: str, chunked: bool
) -> None:
    await healthy_node(engine)
    line = await status_line_while_sending(api, path, 5_000_000, token=None, chunked=chunked)
    assert b" 401 " in line, line
    line = await status_line_while_sending(
        api, path, 5_000_000, token=b"Bearer nope", chunked=chunked
    )
    assert b" 401 " in line, line
    # With the token the same body is refused for its size, chunked or announced.
    line = await status_line_while_sending(api, path, 5_000_000, token=ADMIN, chunked=chunked)
    assert b" 413 " in line, line


async def test_heartbeat_auth_is_decided_before_the_body(engine: Engine, api: Api) -> None:
    a = await engine.create_node_from_json({"name": "node-a", "cpu_cores_avail": 1})
    b = await engine.create_node_from_json({"name": "node-b", "cpu_cores_avail": 1})
    a_tok = b"Bearer " + a.token.encode()
    a_path, b_path = f"/nodes/{a.view.id}/heartbeat", f"/nodes/{b.view.id}/heartbeat"
    # Another node's heartbeat: 403 for the token, whatever the body would have said.
    for raw in (DEEP_HEARTBEAT, b'{"generation": ' + HUGE_INT + b"}", b"{not json"):
        reply = await send(api, "POST", b_path, raw, token=a_tok)
        assert reply.status == 403 and "not valid for node" in reply.error, reply
        assert_401(await send(api, "POST", a_path, raw, token=None))
        assert_401(await send(api, "POST", a_path, raw, token=b"Bearer k9n.1.forged"))
        # Its own heartbeat: authorised, then the body is read and refused.
        assert_400(await send(api, "POST", a_path, raw, token=a_tok), "(body)")
    # A node token on a path id too long to be any node's: 403; the admin gets the 404.
    huge = "/nodes/" + "9" * 5000 + "/heartbeat"
    reply = await send(api, "POST", huge, b"{}", token=a_tok)
    assert reply.status == 403, reply
    reply = await send(api, "POST", huge, b"{}")
    assert reply.status == 404 and "(5000 digits) not found" in reply.error, reply
    # The contract stands: own heartbeat 200, a deleted node told to stop.
    assert (await send(api, "POST", a_path, b"{}", token=a_tok)).status == 200
    assert (await send(api, "DELETE", f"/nodes/{a.view.id}?force=true")).status == 200
    reply = await send(api, "POST", a_path, b"{}", token=a_tok)
    assert reply.status == 404 and reply.body["should_stop_heartbeat"] is True


# ---- bearer tokens -------------------------------------------------------------------------

BAD_TOKENS = [
    b"Bearer \xff\xfe\x80",  # not UTF-8
    "Bearer é".encode(),
    "Bearer test-admin-tokén".encode(),
    b"Bearer k9n." + HUGE_INT + b".secret",
    "Bearer k9n.١.secret".encode(),  # an Arabic-Indic one, not node 1
    "Bearer k9n.1.sécret".encode(),
    b"Bearer " + b"a" * 8000,
    b"Bearer a b",
]
BAD_SCHEMES = [
    b"Basic dGVzdDp0ZXN0",
    b"Bearer",
    b"Bearer   ",
    b"Token abc",
    b"\xff\xfe abc",
    b"bearer\tabc",
]


@pytest.mark.parametrize("header", BAD_TOKENS)
async def test_malformed_bearer_tokens_are_401_invalid(
    engine: Engine, api: Api, header: bytes
) -> None:
    node_id, _ = await healthy_node(engine)
    for method, path in (("GET", "/nodes/"), ("POST", f"/nodes/{node_id}/heartbeat")):
        reply = await send(api, method, path, b"{}", token=header)
        assert reply.status == 401 and reply.error == "Invalid bearer token", reply


@pytest.mark.parametrize("header", BAD_SCHEMES)
async def test_malformed_authorization_headers_say_what_to_send(
    engine: Engine, api: Api, header: bytes
) -> None:
    node_id, _ = await healthy_node(engine)
    for method, path in (("GET", "/nodes/"), ("POST", f"/nodes/{node_id}/heartbeat")):
        reply = await send(api, method, path, b"{}", token=header)
        assert reply.status == 401, reply
        assert reply.error.startswith("Malformed Authorization header"), reply
        assert "'Authorization: Bearer <token>'" in reply.error
    reply = await send(api, "GET", "/nodes/", token=b"Basic dGVzdDp0ZXN0")
    assert "(got scheme 'Basic')" in reply.error


# ---- path ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/nodes/{}", "/nodes/{}/recover", "/nodes/{}/simulate/failure", "/pods/{}",
     "/pods/{}/health", "/pods/{}/simulate/failure", "/incidents/{}"],
)  # fmt: skip
async def test_path_ids_are_ascii_digits_of_sane_length(
    engine: Engine, api: Api, path: str
) -> None:
    await healthy_node(engine)  # node 1 exists, so a digit read as 1 would find it
    assert (await api.post("/pods/", POD))[0] == 201  # pod 1 too
    method = "POST" if path.endswith(("recover", "failure")) else "GET"
    reply = await send(api, method, path.format("9" * 5000), b"{}")
    assert reply.status == 404 and "(5000 digits) not found" in reply.error, reply
    for digit in ("%D9%A1", "%EF%BC%91", "%E0%A5%A7"):  # Arabic-Indic, fullwidth, Devanagari 1
        reply = await send(api, method, path.format(digit), b"{}")
        assert reply.status == 404 and reply.error.startswith("No route"), reply
    assert_401(await send(api, method, path.format("9" * 5000), b"{}", token=None))
    assert (await send(api, "GET", "/nodes/1")).status == 200


async def test_raw_non_ascii_bytes_in_the_path_are_a_400_without_traceback(api: Api) -> None:
    """The HTTP parser refuses them before any route: a plain 400 and a one-line warning."""
    for token in (ADMIN, None):
        reply = await send(api, "GET", b"/nodes/\xd9\xa1", token=token)
        assert reply.status == 400, reply
    reply = await send(api, "GET", b"/nodes/\xff")
    assert reply.status == 400


async def test_a_malformed_chunked_body_is_a_400_without_traceback(api: Api) -> None:
    url = urlparse(api.base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(
        _wire(api, "POST", "/nodes/", b"", ADMIN, (JSON_TYPE,), chunked=True)
        + b"zz\r\nabc\r\n0\r\n\r\n"
    )
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert b" 400 " in line


# ---- quantities ----------------------------------------------------------------------------

HOSTILE_QUANTITIES = ["1e999999", "1e-999999", "nan", "inf", "-inf", "9" * 5000, "1e" + "9" * 5000,
                      "２", "١", "-1", "0x10", "1_000", "", " ", "\x002", "1e19"]  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE_QUANTITIES)
async def test_hostile_quantities_are_400_naming_the_field(
    engine: Engine, api: Api, value: str
) -> None:
    await healthy_node(engine)
    cases = [
        ("/nodes/", {"name": "w2", "cpu_cores_avail": value}, "cpu_cores_avail"),
        ("/nodes/", {"name": "w2", "cpu_cores_avail": 1, "memory_mb": value}, "memory_mb"),
        ("/pods/", {**POD, "cpu_cores_req": value}, "cpu_cores_req"),
        ("/pods/", {**POD, "containers": [{**C, "cpu_req": value}]}, "containers[0].cpu_req"),
        ("/pods/", {**POD, "containers": [{**C, "memory_req": value}]}, "containers[0].memory_req"),
    ]
    for path, data, field in cases:
        assert_400(await send(api, "POST", path, body(data)), field)
        assert_401(await send(api, "POST", path, body(data), token=None))
    assert len((await send(api, "GET", "/nodes/")).body) == 1
    assert (await send(api, "GET", "/pods/")).body == []


async def test_memory_strings_mean_mb_like_numbers(engine: Engine, api: Api) -> None:
    as_text = await send(api, "POST", "/nodes/", body({**NODE, "memory_mb": "2048"}))
    as_number = await send(api, "POST", "/nodes/", body({**NODE, "name": "w2", "memory_mb": 2048}))
    assert as_text.status == as_number.status == 201
    assert as_text.body["memory_mb"] == as_number.body["memory_mb"] == 2048
    await wait_for(lambda: all(v.schedulable for v in engine.cluster.node_views()), what="ready")
    pod = {**POD, "containers": [{**C, "memory_req": "256"}, {**C, "name": "d", "memory_req": 256}]}
    reply = await send(api, "POST", "/pods/", body(pod))
    assert reply.status == 201, reply
    got = await send(api, "GET", f"/pods/{reply.body['pod_details']['id']}")
    assert got.body["memory_mb_req"] == 512
    assert [c["memory"] for c in got.body["containers"]] == [256, 256]
    # Kubernetes suffixes keep working.
    node = await send(api, "POST", "/nodes/", body({**NODE, "name": "w3", "cpu_cores_avail": "1500m",
                                                    "memory_mb": "1Gi"}))  # fmt: skip
    assert (node.body["cpu_cores"], node.body["memory_mb"]) == (1.5, 1024)


# ---- text a process or the database cannot carry ------------------------------------------


def pod_with(**changes: Any) -> dict[str, Any]:
    return {**POD, **changes}


UNRUNNABLE = [
    (pod_with(name="p\x00"), "name"),
    (pod_with(containers=[{**C, "name": "c\x00"}]), "containers[0].name"),
    (pod_with(containers=[{**C, "image": "nginx\x00"}]), "containers[0].image"),
    (pod_with(containers=[{**C, "command": ["sh\x00"]}]), "containers[0].command"),
    (pod_with(containers=[{**C, "command": "sh -c x\x00"}]), "containers[0].command"),
    (pod_with(containers=[{**C, "args": ["-c", "echo\x00"]}]), "containers[0].args"),
    (pod_with(config=[{"name": "e", "key": "K", "value": "a\x00b"}]), "config[0].value"),
    (
        pod_with(config=[{"name": "e", "type": "secret", "key": "K", "value": "\x00"}]),
        "config[0].value",
    ),
    (pod_with(config=[{"name": "e", "key": "K\x00", "value": "v"}]), "config[0].key"),
    (pod_with(config=[{"name": "e", "key": "K", "value": "\udcff"}]), "config[0].value"),
    (pod_with(containers=[{**C, "args": ["\ud800"]}]), "containers[0].args[0]"),
    (pod_with(volumes=[{"name": "v", "path": "/data\x00"}]), "volumes[0].path"),
    (pod_with(volumes=[{"name": "v\x00"}]), "volumes[0].name"),
]


@pytest.mark.parametrize(("data", "field"), UNRUNNABLE)
async def test_text_no_process_can_carry_is_refused_at_creation(
    engine: Engine, api: Api, data: dict[str, Any], field: str
) -> None:
    await healthy_node(engine)
    raw = body(data)  # json.dumps writes NUL as \u0000 and a lone surrogate as \udcff
    assert_400(await send(api, "POST", "/pods/", raw), field)
    assert_401(await send(api, "POST", "/pods/", raw, token=None))
    assert (await send(api, "GET", "/pods/")).body == []
    assert not engine.cluster.state.pods


async def test_nul_in_a_node_name_or_an_unknown_key_is_400(api: Api) -> None:
    assert_400(await send(api, "POST", "/nodes/", body({**NODE, "name": "w\x00"})), "name")
    reply = await send(api, "POST", "/nodes/", body({**NODE, "\x00": 2}))
    assert reply.status == 400 and "unknown field" in reply.error, reply
    reply = await send(api, "POST", "/nodes/", body({**NODE, "\udcff": 1}))
    assert reply.status == 400 and "unicode string" in reply.error, reply


# ---- integers past what the store can hold -------------------------------------------------

HEARTBEAT_INTEGERS = [
    ({"generation": 2**64}, "generation"),
    ({"generation": -1}, "generation"),
    ({"agent": {"seq": 2**64}}, "agent.seq"),
    ({"pod_ids": [2**70]}, "pod_ids[0]"),
    ({"pods": [{"id": 2**70}]}, "pods[0].id"),
    ({"pods": [{"id": 1, "containers": [{"name": "c", "restarts": 2**31}]}]},
     "pods[0].containers[0].restarts"),
    ({"pods": [{"id": 1, "containers": [{"name": "c", "exit_code": 10**20}]}]},
     "pods[0].containers[0].exit_code"),
    ({"pods": [{"id": 1, "containers": [{"name": "c", "pid": 2**70}]}]},
     "pods[0].containers[0].pid"),
    ({"pods": [{"id": 1, "containers": [{"name": "c", "reason": "x\x00"}]}]},
     "pods[0].containers[0].reason"),
    ({"components": {"kubelet": "running\x00"}}, "components"),
    ({"health_status": "\x00"}, "health_status"),
    ({"cpu_cores_avail": 10**400}, "cpu_cores_avail"),
    # No coercion: the schema says integer or number, so a string or a bool is refused.
    ({"generation": "1"}, "generation"),
    ({"cpu_cores_avail": "2"}, "cpu_cores_avail"),
    ({"pod_count": 3.0}, "pod_count"),
    ({"pod_ids": [True]}, "pod_ids[0]"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "field"), HEARTBEAT_INTEGERS)
async def test_heartbeat_values_out_of_range_are_400(
    engine: Engine, api: Api, data: dict[str, Any], field: str
) -> None:
    node_id, token = await healthy_node(engine)
    path = f"/nodes/{node_id}/heartbeat"
    for auth in (ADMIN, b"Bearer " + token.encode()):
        assert_400(await send(api, "POST", path, body(data), token=auth), field)
    assert_401(await send(api, "POST", path, body(data), token=None))
    assert (await send(api, "POST", path, b"{}", token=b"Bearer " + token.encode())).status == 200


async def test_huge_volume_sizes_and_pod_integers_are_400(engine: Engine, api: Api) -> None:
    await healthy_node(engine)
    for size in (2**63, 10**30, -1):
        data = pod_with(volumes=[{"name": "v", "size": size}])
        assert_400(await send(api, "POST", "/pods/", body(data)), "volumes[0].size")
    assert (await send(api, "GET", "/pods/")).body == []


# ---- query parameters ----------------------------------------------------------------------

JUNK_NUMBERS = ["abc", "9" * 5000, "%D9%A1", "%EF%BC%91", "%201", "1%20", "1.5", "-1", "0x10",
                "1e3", "%FF", "%00", "+1"]  # fmt: skip


@pytest.mark.parametrize("name", ["limit", "since", "node_id", "pod_id"])
@pytest.mark.parametrize("junk", JUNK_NUMBERS)
async def test_junk_numbers_in_the_query_are_400_naming_it(api: Api, name: str, junk: str) -> None:
    reply = await send(api, "GET", f"/events?{name}={junk}")
    assert reply.status == 400 and reply.body["field"] == name, reply
    assert reply.error.startswith(f"{name}: ")
    assert_401(await send(api, "GET", f"/events?{name}={junk}", token=None))


async def test_incident_limits_and_event_kinds_are_checked(api: Api) -> None:
    for junk in ("9" * 5000, "%D9%A1", "0"):
        reply = await send(api, "GET", f"/incidents?limit={junk}")
        assert reply.status == 400 and reply.body["field"] == "limit", reply
    for junk in ("bogus", "%00", "drift,%FF", "node_created%00"):
        reply = await send(api, "GET", f"/events?kind={junk}")
        assert reply.status == 400 and reply.body["field"] == "kind", reply
    assert (await send(api, "GET", "/events?kind=drift,node_created&limit=5&since=0")).status == 200


@pytest.mark.parametrize("junk", ["maybe", "%EF%BD%94rue", "tru%00e", "2", "9" * 5000])
async def test_junk_force_is_400_and_deletes_nothing(engine: Engine, api: Api, junk: str) -> None:
    node_id, _ = await healthy_node(engine)
    reply = await send(api, "DELETE", f"/nodes/{node_id}?force={junk}")
    assert reply.status == 400 and reply.body["field"] == "force", reply
    assert_401(await send(api, "DELETE", f"/nodes/{node_id}?force={junk}", token=None))
    assert (await send(api, "GET", f"/nodes/{node_id}")).status == 200
    assert (await send(api, "DELETE", f"/nodes/{node_id}?force=FALSE")).status == 200


# ---- 405 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("PUT", "/nodes/", "GET,POST"), ("PATCH", "/pods/1", "DELETE,GET"),
     ("GET", "/nodes/1/heartbeat", "POST"), ("DELETE", "/cluster/summary", "GET")],
)  # fmt: skip
async def test_405_carries_allow(api: Api, method: str, path: str, allow: str) -> None:
    reply = await send(api, method, path)
    assert reply.status == 405, reply
    assert reply.headers["allow"] == allow
    assert reply.error.endswith(f"(allowed: {allow.replace(',', ', ')})")
    assert_401(await send(api, method, path, token=None))
