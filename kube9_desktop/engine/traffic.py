"""The built-in traffic generator: real HTTP/1.1 requests through a Service at a chosen rate
and concurrency for a chosen time, recorded second by second, so a failure shows as a dip in
one endpoint's requests and a short spike of errors.

Each of ``concurrency`` workers keeps one keep-alive connection to the Service's address and
takes the next send slot of a shared schedule (request *i* is due at start + i / rate), so
the rate holds while requests are fast and the workers send as fast as they can when they
are not. A request that fails is counted by why (``refused``, ``reset``, ``timeout``,
``http_5xx``) and its connection is opened again for the next one. A GET whose kept-alive
connection the server closed before answering a byte is sent once more on a new connection
(what HTTP clients do; counted as ``retried``, not as an error). Which endpoint answered:
the ``X-Kube9-Pod`` header of the engine's built-in responder, else the Service proxy's word
for the connection (``attribute``), else ``unknown``.

Latencies go into a fixed log-scale histogram per second (5 % buckets from 50 µs to 60 s), so
an hour at 20,000 requests/s takes the same memory as a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ERROR_KINDS = ("refused", "reset", "timeout", "http_5xx")
RATE_MAX = 20_000.0
DURATION_MAX_S = 3600.0
CONCURRENCY_MAX = 256
REQUEST_TIMEOUT_S = 2.0
PATH_MAX = 2048
HEADERS_MAX = 64 * 1024
BODY_MAX = 16 * 1024 * 1024  # a larger answer is read and dropped in pieces, never held
POD_HEADER = "x-kube9-pod"
UNKNOWN = "unknown"

# Histogram bucket upper edges in milliseconds: 0.05 ms * 1.05^k up to 60 s.
_EDGES: tuple[float, ...] = tuple(
    0.05 * 1.05**k for k in range(math.ceil(math.log(60_000 / 0.05) / math.log(1.05)) + 1)
)

# (local address of the client's connection) -> the endpoint's pod name, as the proxy saw it
Attribute = Callable[[tuple[str, int]], str | None]


@dataclass(frozen=True, slots=True)
class TrafficSpec:
    rate: float  # requests per second, all workers together
    duration_s: float
    path: str = "/"
    concurrency: int = 8
    # A connection is closed and opened again after this many requests (as HTTP clients cap
    # reuse): the proxy balances connections, so a new endpoint gets a share only from new ones.
    requests_per_connection: int = 100


@dataclass(slots=True)
class Second:
    """What one second of the run saw."""

    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    latency: list[int] = field(default_factory=lambda: [0] * len(_EDGES))

    def add(self, latency_ms: float, endpoint: str | None, error: str | None) -> None:
        if error is None:
            self.ok += 1
        else:
            self.errors[error] += 1
        if endpoint is not None:
            self.by_endpoint[endpoint] += 1
        self.latency[min(bisect_left(_EDGES, latency_ms), len(_EDGES) - 1)] += 1


def percentile(histogram: list[int], q: float) -> float | None:
    """The bucket edge (ms) below which ``q`` percent of the samples fall; None: no samples."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = math.ceil(total * q / 100)
    seen = 0
    for edge, count in zip(_EDGES, histogram, strict=True):
        seen += count
        if seen >= rank:
            return round(edge, 3)
    return round(_EDGES[-1], 3)


class BadResponse(Exception):
    """The answer was not HTTP/1.x (counted as a reset: the connection is unusable)."""


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bool]:
    """Status, headers (lower-case names) and whether the connection stays usable; the body
    is read and dropped (Content-Length, chunked, or up to EOF)."""
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > HEADERS_MAX:
        raise BadResponse("headers too large")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise BadResponse(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep = headers.get("connection", "").lower() != "close" and parts[0] != "HTTP/1.0"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            await _drop(reader, size + 2)
            if size == 0:
                break
    elif "content-length" in headers:
        await _drop(reader, int(headers["content-length"]))
    elif status not in (204, 304) and not 100 <= status < 200:
        while await reader.read(65536):
            pass
        keep = False
    return status, headers, keep


async def _drop(reader: asyncio.StreamReader, count: int) -> None:
    if count < 0:
        raise BadResponse("negative length")
    while count > 0:
        chunk = await reader.readexactly(min(count, 65536))
        count -= len(chunk)


def closed_while_idle(exc: BaseException) -> bool:
    """The server closed a kept-alive connection before answering a byte (it drained, or its
    pod stopped): safe to send a GET again on a new connection, as HTTP clients do once."""
    if isinstance(exc, asyncio.IncompleteReadError):
        return not exc.partial
    return isinstance(exc, (ConnectionResetError, BrokenPipeError))


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "timeout"
    return "reset"  # reset, EOF mid-answer, a broken answer: the connection died under us


class TrafficRun:
    """One run against ``host:port``; ``run()`` until the duration is over or ``stop()``."""

    def __init__(
        self,
        service_id: int,
        service_name: str,
        host: str,
        port: int,
        spec: TrafficSpec,
        *,
        attribute: Attribute | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.service_id = service_id
        self.service_name = service_name
        self.host, self.port = host, port
        self.spec = spec
        self.attribute = attribute
        self._clock = clock
        self.started_wall = wall()
        self.started = clock()
        self.ended: float | None = None
        self.state = "running"
        self.seconds: list[Second] = []
        self._all = Second()  # the sum of every second, kept as requests end
        self._frozen: list[dict[str, Any]] = []  # seconds no request can land in any more
        self._next = 0
        self.retried = 0  # GETs sent again after a kept-alive connection closed unanswered
        self.first_error_at: float | None = None  # the clock's time of the first/last failure
        self.last_error_at: float | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._request = (
            f"GET {spec.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "User-Agent: kube9-traffic\r\nConnection: keep-alive\r\n\r\n"
        ).encode("ascii")

    # ---- running -----------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name=f"traffic-{self.service_name}")
        return self._task

    async def run(self) -> None:
        try:
            await asyncio.gather(*(self._worker() for _ in range(self.spec.concurrency)))
        finally:
            self.ended = self._clock()
            if self.state == "running":
                self.state = "finished"

    async def stop(self) -> None:
        if self.state == "running":
            self.state = "stopped"
        self._stopping.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _second(self, at: float) -> Second:
        index = int(at - self.started)
        while len(self.seconds) <= index:
            self.seconds.append(Second())
        return self.seconds[index]

    async def _worker(self) -> None:
        end = self.started + self.spec.duration_s
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        used = 0  # requests answered on ``conn``
        try:
            while not self._stopping.is_set():
                slot = self._next
                self._next += 1
                due = self.started + slot / self.spec.rate
                if due >= end:
                    return
                wait = due - self._clock()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), wait)
                    if self._stopping.is_set():
                        return
                sent = self._clock()
                endpoint: str | None = None
                error: str | None = None
                for attempt in (0, 1):
                    reused = conn is not None
                    try:
                        async with asyncio.timeout(REQUEST_TIMEOUT_S):
                            if conn is None:
                                conn = await asyncio.open_connection(self.host, self.port)
                                used = 0
                            reader, writer = conn
                            writer.write(self._request)
                            status, headers, keep = await read_response(reader)
                        endpoint = headers.get(POD_HEADER) or self._attributed(writer)
                        if status >= 500:
                            error = "http_5xx"
                        used += 1
                        if not keep or used >= self.spec.requests_per_connection:
                            _close(conn)
                            conn = None
                    except (OSError, TimeoutError, asyncio.IncompleteReadError,
                            asyncio.LimitOverrunError, BadResponse, ValueError) as exc:  # fmt: skip
                        if conn is not None:
                            endpoint = self._attributed(conn[1])
                            _close(conn)
                            conn = None
                        if attempt == 0 and reused and closed_while_idle(exc):
                            self.retried += 1  # as HTTP clients do: once, on a new connection
                            continue
                        error = _error_kind(exc)
                    break
                done = self._clock()
                if error is not None:
                    self.last_error_at = done
                    if self.first_error_at is None:
                        self.first_error_at = done
                latency_ms = (done - sent) * 1000
                self._second(sent).add(latency_ms, endpoint or UNKNOWN, error)
                self._all.add(latency_ms, endpoint or UNKNOWN, error)
        finally:
            if conn is not None:
                _close(conn)

    def _attributed(self, writer: asyncio.StreamWriter) -> str | None:
        if self.attribute is None:
            return None
        local = writer.get_extra_info("sockname")
        if not isinstance(local, tuple) or len(local) < 2:
            return None
        return self.attribute((str(local[0]), int(local[1])))

    # ---- reading -----------------------------------------------------------------------

    def totals(self) -> dict[str, Any]:
        """The whole run so far, from its running sum (not a pass over every second)."""
        ok, errors, by_endpoint, latency = (
            self._all.ok, self._all.errors, self._all.by_endpoint, self._all.latency
        )  # fmt: skip
        return {
            "requests": ok + sum(errors.values()),
            "ok": ok,
            "retried": self.retried,
            "errors": {kind: errors.get(kind, 0) for kind in ERROR_KINDS},
            "by_endpoint": dict(sorted(by_endpoint.items())),
            "latency_ms": {f"p{q}": percentile(latency, q) for q in (50, 90, 99)},
        }

    def to_json(self, *, series: bool = True) -> dict[str, Any]:
        now = self.ended if self.ended is not None else self._clock()
        out: dict[str, Any] = {
            "service_id": self.service_id,
            "service": self.service_name,
            "target": f"{self.host}:{self.port}",
            "state": self.state,
            "rate": self.spec.rate,
            "duration_s": self.spec.duration_s,
            "path": self.spec.path,
            "concurrency": self.spec.concurrency,
            "requests_per_connection": self.spec.requests_per_connection,
            "started_at": self.started_wall,
            "elapsed_s": round(now - self.started, 3),
            "totals": self.totals(),
        }
        if series:
            out["series"] = self._series(now)
        return out

    def _series(self, now: float) -> list[dict[str, Any]]:
        """Each second's figures. A second no request can still land in (older than the
        request timeout, twice: a GET may be sent again once) is built once and kept: the
        window reads the series every second."""
        settled = int(now - self.started - 2 * REQUEST_TIMEOUT_S) - 1
        if self.ended is not None:
            settled = len(self.seconds)
        frozen = self._frozen
        while len(frozen) < min(settled, len(self.seconds)):
            frozen.append(_second_json(len(frozen), self.seconds[len(frozen)]))
        return frozen + [
            _second_json(i, self.seconds[i]) for i in range(len(frozen), len(self.seconds))
        ]


def _second_json(i: int, s: Second) -> dict[str, Any]:
    return {
        "second": i,
        "ok": s.ok,
        "errors": {kind: s.errors.get(kind, 0) for kind in ERROR_KINDS},
        "by_endpoint": dict(sorted(s.by_endpoint.items())),
        "p50_ms": percentile(s.latency, 50),
        "p99_ms": percentile(s.latency, 99),
    }


def _close(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
    with contextlib.suppress(Exception):
        conn[1].close()
