"""The traffic generator against real sockets on loopback: servers that answer, fail with
5xx, refuse, reset mid-answer and never answer, each counted as what it is."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from kube9_desktop.engine import traffic
from kube9_desktop.engine.traffic import TrafficRun, TrafficSpec, percentile, read_response
from tests.helpers import free_port, wait_for

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[int]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> int:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def answering(status: int = 200, pod: str | None = "web-1", chunked: bool = False) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                header = f"X-Kube9-Pod: {pod}\r\n" if pod else ""
                if chunked:
                    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                    head = f"HTTP/1.1 {status} X\r\n{header}Transfer-Encoding: chunked\r\n\r\n"
                else:
                    body = b"pod answer"
                    head = f"HTTP/1.1 {status} X\r\n{header}Content-Length: {len(body)}\r\n\r\n"
                writer.write(head.encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return handle


async def run(port: int, rate: float = 200, duration_s: float = 0.25, **kw: object) -> TrafficRun:
    spec = TrafficSpec(rate, duration_s, concurrency=int(kw.pop("concurrency", 4)))  # type: ignore[call-overload]
    r = TrafficRun(1, "web", "127.0.0.1", port, spec, **kw)  # type: ignore[arg-type]
    await r.run()
    return r


async def test_every_slot_of_the_schedule_is_sent_and_attributed(serve: object) -> None:
    port = await serve(answering(pod="web-1"))  # type: ignore[operator]
    r = await run(port, rate=200, duration_s=0.25)
    totals = r.totals()
    # Request i is due at i / rate: exactly ceil(rate * duration) of them, whatever the clock.
    assert totals["requests"] == totals["ok"] == math.ceil(200 * 0.25)
    assert totals["by_endpoint"] == {"web-1": 50}
    assert totals["errors"] == {"refused": 0, "reset": 0, "timeout": 0, "http_5xx": 0}
    assert totals["latency_ms"]["p50"] is not None
    assert r.state == "finished"
    out = r.to_json()
    assert sum(s["ok"] for s in out["series"]) == 50 and out["target"] == f"127.0.0.1:{port}"


async def test_chunked_answers_and_the_proxys_attribution(serve: object) -> None:
    port = await serve(answering(pod=None, chunked=True))  # type: ignore[operator]
    seen: list[tuple[str, int]] = []

    def attribute(local: tuple[str, int]) -> str:
        seen.append(local)
        return "via-proxy"

    r = await run(port, rate=100, duration_s=0.2, attribute=attribute)
    assert r.totals()["by_endpoint"] == {"via-proxy": 20} and seen[0][0] == "127.0.0.1"


async def test_5xx_refused_reset_and_timeout_are_told_apart(
    serve: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = await serve(answering(status=503))  # type: ignore[operator]
    assert (await run(failing, rate=40, duration_s=0.25)).totals()["errors"]["http_5xx"] == 10

    closed = free_port()  # nothing listens there
    assert (await run(closed, rate=40, duration_s=0.25)).totals()["errors"]["refused"] == 10

    async def half_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
        await writer.drain()
        writer.close()

    resetting = await serve(half_answer)  # type: ignore[operator]
    assert (await run(resetting, rate=40, duration_s=0.25)).totals()["errors"]["reset"] == 10

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers; the client gives up
        writer.close()

    monkeypatch.setattr(traffic, "REQUEST_TIMEOUT_S", 0.1)
    hanging = await serve(silent)  # type: ignore[operator]
    totals = (await run(hanging, rate=20, duration_s=0.1, concurrency=2)).totals()
    assert totals["errors"]["timeout"] == totals["requests"] == 2


async def test_stop_ends_the_run_and_keeps_its_figures(serve: object) -> None:
    port = await serve(answering())  # type: ignore[operator]
    r = TrafficRun(1, "web", "127.0.0.1", port, TrafficSpec(50, 3600, concurrency=2))
    r.start()
    await wait_for(lambda: r.totals()["ok"] >= 3, what="a few answers")
    await r.stop()
    assert r.state == "stopped" and r.ended is not None
    sent = r.totals()["requests"]
    assert 3 <= sent < 50 * 3600


async def test_a_garbage_answer_is_a_reset_not_a_crash() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"SSH-2.0-OpenSSH\r\n\r\n")
    reader.feed_eof()
    with pytest.raises(traffic.BadResponse):
        await read_response(reader)


def test_percentiles_come_from_the_histogram() -> None:
    second = traffic.Second()
    for ms in (1.0, 1.0, 1.0, 100.0):
        second.add(ms, "a", None)
    assert percentile(second.latency, 50) == pytest.approx(1.0, rel=0.06)
    assert percentile(second.latency, 99) == pytest.approx(100.0, rel=0.06)
    assert percentile([0] * len(second.latency), 50) is None


async def test_a_kept_alive_connection_closed_unanswered_is_retried_once(serve: object) -> None:
    """A server that drains closes idle connections: the next GET goes again on a new one
    (not an error), but a connection that dies once a request is answered half is an error."""

    async def one_answer_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nX-Kube9-Pod: p\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")  # the next request arrives...
        writer.close()  # ...and the connection closes unanswered (a drain)

    port = await serve(one_answer_per_connection)  # type: ignore[operator]
    r = await run(port, rate=40, duration_s=0.25, concurrency=1)
    totals = r.totals()
    assert totals["ok"] == totals["requests"] == 10
    assert totals["retried"] >= 4 and sum(totals["errors"].values()) == 0


async def test_connections_are_opened_anew_after_requests_per_connection(serve: object) -> None:
    """So that a Service's new endpoint gets a share: the proxy balances connections."""
    opened: list[int] = []
    inner = answering()

    async def counting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened.append(1)
        await inner(reader, writer)

    port = await serve(counting)  # type: ignore[operator]
    spec = TrafficSpec(200, 0.25, concurrency=1, requests_per_connection=5)
    r = TrafficRun(1, "web", "127.0.0.1", port, spec)
    await r.run()
    assert r.totals()["ok"] == 50 and r.totals()["retried"] == 0
    assert len(opened) == 10
