"""The Service proxy: the balancer's picks as a table; the proxy thread over real loopback
sockets (round robin, a refusing endpoint retried, no endpoint reset, a listener closed);
the engine's virtual pods answered through the cluster IP and the node port, following
Services and endpoints as commits move them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kube9_desktop.engine.clock import FakeClock
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.proxy.balancer import Balancer
from kube9_desktop.engine.proxy.responder import VirtualResponder
from kube9_desktop.engine.proxy.tables import Backend, PortTable, ServiceTable
from kube9_desktop.engine.proxy.thread import ProxyThread
from kube9_desktop.engine.service_specs import ServiceCreate, ServicePatch
from kube9_desktop.engine.specs import PodCreate, parse_body
from kube9_desktop.engine.traffic import TrafficSpec
from kube9_desktop.serve import start_engine
from tests.helpers import fast_settings, wait_for

HEALTHY = NodeStatus.HEALTHY


def backend(pod_id: int, port: int = 0, ip: str = "127.0.0.1", virtual: bool = False) -> Backend:
    return Backend(pod_id, f"p{pod_id}", "w1", ip, port, virtual)


def port_table(*backends: Backend, affinity: bool = False, sid: int = 1) -> PortTable:
    return PortTable(sid, "default/web", "", backends, affinity,
                     by_pod={b.pod_id: b for b in backends})  # fmt: skip


# ---- the balancer ---------------------------------------------------------------------------


def picks(bal: Balancer, table: PortTable, n: int, client: str = "c", now: float = 0.0) -> list:
    out = []
    for _ in range(n):
        chosen = bal.pick(table, client, now)
        out.append(chosen.pod_id if chosen else None)
    return out


def test_round_robin_goes_through_every_backend_in_turn() -> None:
    bal, t = Balancer(), port_table(backend(1), backend(2), backend(3))
    assert picks(bal, t, 7) == [1, 2, 3, 1, 2, 3, 1]


def test_a_retry_skips_what_was_tried_and_the_turn_moves_past_it() -> None:
    bal, t = Balancer(), port_table(backend(1), backend(2), backend(3))
    assert picks(bal, t, 1) == [1]
    second = bal.pick(t, "c", 0.0, tried={2})  # 2 would be next; refused before
    assert second is not None and second.pod_id == 3
    assert picks(bal, t, 1) == [1]
    assert bal.pick(t, "c", 0.0, tried={1, 2, 3}) is None  # every one refused
    assert bal.pick(port_table(), "c", 0.0) is None  # no backend at all


def test_a_shrinking_backend_list_keeps_the_turn_in_range() -> None:
    bal = Balancer()
    assert picks(bal, port_table(backend(1), backend(2), backend(3)), 2) == [1, 2]
    assert picks(bal, port_table(backend(1), backend(2)), 3) == [1, 2, 1]


@pytest.mark.parametrize(
    ("later", "now", "expected"),
    [
        # (backends at the second connection, its time, where it goes)
        ((1, 2, 3), 100.0, 1),  # stuck: the same endpoint again
        ((1, 2, 3), 10799.0, 1),  # just inside Kubernetes' 10800 s
        ((1, 2, 3), 10800.0, 2),  # exactly the timeout: expired, a fresh pick (the turn)
        ((2, 3), 100.0, 3),  # its endpoint left: re-stuck to the turn's pick (index 1)
    ],
)
def test_client_ip_affinity(later: tuple[int, ...], now: float, expected: int) -> None:
    bal = Balancer()
    first = port_table(*(backend(i) for i in (1, 2, 3)), affinity=True)
    assert picks(bal, first, 1, client="10.0.0.1") == [1]
    again = port_table(*(backend(i) for i in later), affinity=True)
    assert picks(bal, again, 1, client="10.0.0.1", now=now) == [expected]


def test_affinity_is_per_client_and_refreshed_by_each_connection() -> None:
    bal = Balancer()
    t = port_table(backend(1), backend(2), affinity=True)
    assert picks(bal, t, 1, client="a") == [1]
    assert picks(bal, t, 1, client="b") == [2]
    assert picks(bal, t, 1, client="a", now=10000.0) == [1]
    assert picks(bal, t, 1, client="a", now=20000.0) == [1]  # 10000 s after its last
    bal.sweep(40000.0)
    assert picks(bal, t, 1, client="a", now=40000.0) == [1]  # expired: the turn, which is 1


# ---- the virtual responder ----------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.data = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        self.closed = True


def responder(alive: bool = True) -> tuple[VirtualResponder, Sink]:
    sink = Sink()
    return VirtualResponder(sink, 1, "web-0", "w1", lambda _: alive), sink  # type: ignore[arg-type]


def test_the_responder_answers_pipelined_requests_and_bodies_in_pieces() -> None:
    r, sink = responder()
    r.feed(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")
    assert sink.data.count(b"200 OK") == 1
    r.feed(b"cdHEAD / HTTP/1.1\r\n\r\n")
    assert sink.data.count(b"200 OK") == 3 and sink.data.count(b"pod web-0 on w1\n") == 2
    assert not sink.closed
    r.feed(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert sink.closed and sink.data.endswith(b"Connection: close\r\n\r\npod web-0 on w1\n")


@pytest.mark.parametrize(
    ("request_bytes", "status", "closed"),
    [
        (b"GET / HTTP/1.0\r\n\r\n", b"200 OK", True),  # 1.0 closes by default
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", b"200 OK", False),
        (b"hello\r\n\r\n", b"400 Bad Request", True),  # no HTTP
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"411", True),
        (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", b"400", True),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 20000, b"431", True),
    ],
)
def test_the_responder_table(request_bytes: bytes, status: bytes, closed: bool) -> None:
    r, sink = responder()
    r.feed(request_bytes)
    assert sink.data.startswith(b"HTTP/1.1 " + status) and sink.closed is closed


def test_a_pod_gone_stops_answering() -> None:
    r, sink = responder(alive=False)
    r.feed(b"GET / HTTP/1.1\r\n\r\n")
    assert sink.data == b"" and sink.closed


# ---- the proxy thread over real sockets -------------------------------------------------------


def free_address(host: str) -> tuple[str, int]:
    with socket.socket() as s:
        s.bind((host, 0))
        return host, int(s.getsockname()[1])


async def named_server(name: str) -> tuple[asyncio.Server, int]:
    """A one-line-per-connection TCP server on 127.0.0.1 answering its name."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read(100)
        writer.write(name.encode() + b":" + data)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


async def ask(address: tuple[str, int], text: bytes = b"hi") -> bytes:
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(text)
        writer.write_eof()
        return await reader.read()
    finally:
        writer.close()


async def rejected(address: tuple[str, int]) -> bool:
    """Whether the proxy accepted and at once reset (or closed) the connection, no byte said."""
    try:
        reader, writer = await asyncio.open_connection(*address)
    except ConnectionRefusedError:
        return False  # nothing listens: not the proxy's rejection
    try:
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        await writer.drain()
        return await reader.read() == b""
    except OSError:  # reset (ECONNRESET, or ENOTCONN when it came before our write)
        return True
    finally:
        writer.close()


@pytest.fixture
async def thread() -> AsyncIterator[ProxyThread]:
    problems: list[str] = []
    t = ProxyThread(FakeClock().monotonic, problems.append, connect_timeout=2.0)
    t.start()
    yield t
    await t.stop()


def service_table(address: tuple[str, int], table: PortTable) -> dict[int, ServiceTable]:
    pods = frozenset(table.by_pod)
    return {table.service_id: ServiceTable(table.service_id, {address: table}, frozenset(), pods)}


async def test_connections_go_round_robin_and_a_refusing_endpoint_is_retried(
    thread: ProxyThread,
) -> None:
    servers = [await named_server(n) for n in ("a", "b", "c")]
    _, refusing = free_address("127.0.0.1")  # nothing listens there
    address = free_address("127.96.250.1")
    backends = [backend(i + 1, port) for i, (_, port) in enumerate(servers)]
    table = port_table(backends[0], backend(9, refusing), *backends[1:])
    thread.apply(service_table(address, table))
    await wait_for(lambda: address in thread.listening, what="listening")
    answers = [await ask(address) for _ in range(6)]
    # 9 refuses every time: its turn goes to the next one, and the client never sees it.
    assert answers == [b"a:hi", b"b:hi", b"c:hi", b"a:hi", b"b:hi", b"c:hi"]
    for server, _ in servers:
        server.close()


async def test_no_endpoint_resets_at_once_and_a_removed_listener_closes(
    thread: ProxyThread,
) -> None:
    address = free_address("127.96.250.2")
    thread.apply(service_table(address, port_table()))
    await wait_for(lambda: address in thread.listening, what="listening")
    assert await rejected(address)  # reset by the proxy: no endpoint, no connection
    thread.apply({})
    await wait_for(lambda: address not in thread.listening, what="closed")
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(*address)


async def test_every_endpoint_refusing_resets_the_client(thread: ProxyThread) -> None:
    address = free_address("127.96.250.3")
    _, p1 = free_address("127.0.0.1")
    _, p2 = free_address("127.0.0.1")
    thread.apply(service_table(address, port_table(backend(1, p1), backend(2, p2))))
    await wait_for(lambda: address in thread.listening, what="listening")
    assert await rejected(address)


async def test_bytes_flow_both_ways_in_bulk_with_half_close(thread: ProxyThread) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    address = free_address("127.96.250.4")
    thread.apply(service_table(address, port_table(backend(1, port))))
    await wait_for(lambda: address in thread.listening, what="listening")
    payload = bytes(range(256)) * 40_000  # 10 MB: the write buffers fill and drain
    reader, writer = await asyncio.open_connection(*address)

    async def send() -> None:
        writer.write(payload)
        await writer.drain()
        writer.write_eof()

    sending = asyncio.create_task(send())
    sockname = writer.get_extra_info("sockname")
    await wait_for(lambda: thread.attribute(sockname) == "p1", what="the connection's pod")
    got = await reader.read(-1)
    await sending
    writer.close()
    server.close()
    assert got == payload


async def test_a_taken_address_is_reported_once_and_tried_again() -> None:
    problems: list[str] = []
    t = ProxyThread(FakeClock().monotonic, problems.append, retry_bind_s=0.05)
    t.start()
    blocker = socket.socket()
    blocker.bind(("127.96.250.5", 0))
    blocker.listen()
    address = ("127.96.250.5", int(blocker.getsockname()[1]))
    try:
        t.apply(service_table(address, port_table()))
        await wait_for(lambda: bool(problems), what="a problem reported")
        assert f"default/web cannot listen on {address[0]}:{address[1]}" in problems[0]
        assert address not in t.listening
        blocker.close()  # the address is free again: the next try binds it
        await wait_for(lambda: address in t.listening, what="bound on a later try")
        assert len(problems) == 1  # reported once
    finally:
        blocker.close()
        await t.stop()


# ---- the engine: virtual pods behind Services ----------------------------------------------


@pytest.fixture
async def engine(tmp_path: Any) -> AsyncIterator[Engine]:
    eng = Engine(fast_settings(tmp_path / "data"))
    await start_engine(eng)
    yield eng
    await eng.stop()


WEB_POD = {"labels": {"app": "web"}, "cpu_cores_req": 0.6, "containers": [
    {"name": "c", "image": "nginx", "ports": [{"name": "http", "container_port": 8080}]}]}  # fmt: skip


async def web(engine: Engine, pods: int = 3, **service: Any) -> Any:
    for i in range(pods):  # one pod fits a node: pod web-i is on node w(i+1)
        await engine.create_node_from_json({"name": f"w{i + 1}", "cpu_cores_avail": 1})
    await wait_for(lambda: all(n.status is HEALTHY for n in engine.nodes()), what="healthy")
    for i in range(pods):
        await engine.create_pod_from_json({"name": f"web-{i}", **WEB_POD})
    body = {"name": "web", "selector": {"app": "web"},
            "ports": [{"port": 18080, "target_port": "http"}], **service}  # fmt: skip
    view = (await engine.create_service(parse_body(ServiceCreate, body).to_spec())).view
    await wait_for(lambda: len(engine.service(view.id).ready_endpoints) == pods, what="ready")
    await wait_for(lambda: (view.cluster_ip, 18080) in engine.proxy.listening, what="listening")
    return engine.service(view.id)


async def get(address: tuple[str, int], *, times: int = 1) -> list[str]:
    """``times`` keep-alive GETs on one connection, then one more connection per call."""
    reader, writer = await asyncio.open_connection(*address)
    bodies = []
    try:
        for _ in range(times):
            writer.write(b"GET / HTTP/1.1\r\nHost: web\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            bodies.append((await reader.readexactly(length)).decode().strip())
    finally:
        writer.close()
    return bodies


async def test_virtual_pods_answer_round_robin_on_the_cluster_ip_and_the_node_port(
    engine: Engine,
) -> None:
    svc = await web(engine, type="NodePort")
    node_port = svc.spec.ports[0].node_port
    await wait_for(lambda: ("127.0.0.1", node_port) in engine.proxy.listening, what="node port")
    where = {e.pod_name: e.node_name for e in svc.endpoints}
    bodies = [(await get((svc.cluster_ip, 18080)))[0] for _ in range(6)]
    expected = [f"pod {name} on {where[name]}" for name in ("web-0", "web-1", "web-2")]
    assert bodies == expected * 2
    via_node_port = [(await get(("127.0.0.1", node_port)))[0] for _ in range(3)]
    assert sorted(via_node_port) == sorted(expected)
    # Keep-alive: one connection stays with its endpoint, request after request.
    assert len(set(await get((svc.cluster_ip, 18080), times=5))) == 1
    # Which pod a live connection went to: the responder's header and the proxy's books agree.
    reader, writer = await asyncio.open_connection(svc.cluster_ip, 18080)
    writer.write(b"GET / HTTP/1.1\r\n\r\n")
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    pod = head.split("X-Kube9-Pod: ")[1].split("\r\n")[0]
    assert engine.proxy.attribute(writer.get_extra_info("sockname")) == pod
    writer.close()
    await writer.wait_closed()
    await wait_for(lambda: engine.proxy.attribute(writer.get_extra_info("sockname")) is None,
                   what="forgotten when closed")  # fmt: skip


async def test_client_ip_affinity_keeps_a_client_on_one_pod(engine: Engine) -> None:
    svc = await web(engine, session_affinity="ClientIP")
    bodies = {(await get((svc.cluster_ip, 18080)))[0] for _ in range(5)}
    assert len(bodies) == 1


async def test_endpoints_follow_commits_and_a_deleted_service_closes(engine: Engine) -> None:
    svc = await web(engine, pods=2)
    address = (svc.cluster_ip, 18080)
    w1 = next(n for n in engine.nodes() if n.name == "w1")
    # A node detected failed: its endpoints leave in that commit; no connection goes there.
    engine.cluster.set_status(engine.cluster.state.nodes[w1.id], NodeStatus.FAILED, "test")
    await wait_for(lambda: len(engine.service(svc.id).endpoints) == 1, what="w1's endpoint gone")
    left = engine.service(svc.id).endpoints[0]
    await wait_for(engine.proxy.synced, what="the proxy took the tables up")
    table = engine.proxy.thread.route(address)
    assert table is not None and [b.pod_id for b in table.backends] == [left.pod_id]
    bodies = {(await get(address))[0] for _ in range(4)}
    assert bodies == {f"pod {left.pod_name} on {left.node_name}"}
    # A patch to another port moves the listener.
    await engine.update_service(svc.id, parse_body(ServicePatch, {
        "ports": [{"port": 18081, "target_port": "http"}]}))  # fmt: skip
    await wait_for(lambda: (svc.cluster_ip, 18081) in engine.proxy.listening, what="moved")
    assert address not in engine.proxy.listening
    # No endpoint (a selector nothing matches): the connection is reset at once.
    await engine.update_service(svc.id, parse_body(ServicePatch, {"selector": {"app": "none"}}))
    assert engine.service(svc.id).endpoints == ()

    await wait_for(engine.proxy.synced, what="the proxy took the tables up")
    assert await rejected((svc.cluster_ip, 18081))
    await engine.delete_service(svc.id)
    await wait_for(lambda: not engine.proxy.listening, what="listener closed")
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(svc.cluster_ip, 18081)


async def test_a_kube_proxy_fault_takes_the_nodes_endpoints_out(engine: Engine) -> None:
    svc = await web(engine, pods=2)
    w1 = next(n for n in engine.nodes() if n.name == "w1")
    on_w1 = {f"pod {e.pod_name} on w1" for e in svc.endpoints if e.node_name == "w1"}
    await engine.inject_fault(w1.id, "component", component="kube_proxy")

    async def only_w2() -> bool:
        bodies = {(await get((svc.cluster_ip, 18080)))[0] for _ in range(4)}
        return not bodies & on_w1

    await wait_for(only_w2, what="w1's endpoints out")
    assert all(e.ready for e in engine.service(svc.id).endpoints)  # still ready, not routed
    await engine.recover_node(w1.id)

    async def w1_back() -> bool:
        bodies = {(await get((svc.cluster_ip, 18080)))[0] for _ in range(4)}
        return bool(bodies & on_w1)

    await wait_for(w1_back, what="w1's endpoints back")


async def test_stopping_the_engine_closes_every_listener(tmp_path: Any) -> None:
    eng = Engine(fast_settings(tmp_path / "data"))
    await start_engine(eng)
    try:
        svc = await web(eng, pods=1, type="NodePort")
        reader, writer = await asyncio.open_connection(svc.cluster_ip, 18080)
    finally:
        await eng.stop()
    assert await reader.read() == b""  # the open connection ended with the engine
    writer.close()
    for address in ((svc.cluster_ip, 18080), ("127.0.0.1", svc.spec.ports[0].node_port)):
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*address)


async def test_a_thousand_virtual_pods_behind_one_service(engine: Engine) -> None:
    """Each of 1,000 virtual endpoints answers once in 1,000 connections (round robin)."""
    for i in range(4):  # 250 pods each: more than a kubelet's 110
        body = {"name": f"w{i + 1}", "cpu_cores_avail": 64, "max_pods": 250}
        await engine.create_node_from_json(body)
    await wait_for(lambda: all(n.status is HEALTHY for n in engine.nodes()), what="healthy")
    body = {"name": "many", "selector": {"app": "many"}, "ports": [{"port": 18082}]}
    svc = (await engine.create_service(parse_body(ServiceCreate, body).to_spec())).view
    pods = [{"name": f"m-{i}", "labels": {"app": "many"}, "cpu_cores_req": 0.1,
             "containers": [{"name": "c", "image": "nginx"}]} for i in range(1000)]  # fmt: skip
    await engine.create_pods([parse_body(PodCreate, p).to_spec() for p in pods])
    await wait_for(lambda: len(engine.service(svc.id).ready_endpoints) == 1000, what="ready")
    await wait_for(engine.proxy.synced, what="the proxy took the tables up")
    names = set()
    for _ in range(1000):
        (answer,) = await get((svc.cluster_ip, 18082))
        names.add(answer.split()[1])
    assert names == {f"m-{i}" for i in range(1000)}


async def test_the_thread_ignores_the_loop_policy() -> None:
    """Under the window qasync's policy makes Qt loops; the proxy's loop must not be one."""

    class QtLikePolicy(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            raise AssertionError("the proxy thread asked the policy for a loop")

    old = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(QtLikePolicy())
    try:
        t = ProxyThread(FakeClock().monotonic, lambda _: None)
        t.start()
        address = free_address("127.96.250.6")
        t.apply(service_table(address, port_table()))
        await wait_for(lambda: address in t.listening, what="listening")
        await t.stop()
    finally:
        asyncio.set_event_loop_policy(old)


async def test_the_traffic_generator_through_the_proxy_sees_every_pod(engine: Engine) -> None:
    svc = await web(engine)
    run = await engine.start_traffic(svc.id, TrafficSpec(rate=300, duration_s=0.5, concurrency=6))
    await wait_for(lambda: run.state == "finished", what="the run finished")
    totals = run.totals()
    assert totals["ok"] == totals["requests"] == 150 and not any(totals["errors"].values())
    # 6 keep-alive connections, round robin over 3 pods: two connections each.
    assert set(totals["by_endpoint"]) == {"web-0", "web-1", "web-2"}


async def test_a_new_service_skips_an_address_another_program_serves(tmp_path: Any) -> None:
    """Two engines on one machine share the loopback service range: the second's first
    Service must not get the address the first one's proxy (here: a plain socket) listens on."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.96.0.1", 18499))
    holder.listen()
    try:
        engine = Engine(fast_settings(tmp_path / "data"))
        await start_engine(engine)
        body = {"name": "web", "selector": {"app": "web"}, "ports": [{"port": 18499}]}
        done = await engine.create_service(parse_body(ServiceCreate, body).to_spec())
        assert done.view.cluster_ip == "127.96.0.2"
        other = {**body, "name": "db", "ports": [{"port": 18500}]}
        done = await engine.create_service(parse_body(ServiceCreate, other).to_spec())
        assert done.view.cluster_ip == "127.96.0.3"  # .1 on another port was free: no matter
        await engine.stop()
    finally:
        holder.close()


async def test_a_killed_virtual_node_s_pods_stop_answering_before_it_is_detected(
    tmp_path: Any,
) -> None:
    """A virtual pod has no process, but a crash must play out as if it had: from the kill on,
    its node's pods take no connection and drop the open ones, long before a grace period."""
    eng = Engine(fast_settings(tmp_path / "data", grace_period=60.0))
    await start_engine(eng)
    try:
        svc = await web(eng)
        address = (svc.cluster_ip, 18080)
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        victim_pod = head.split("X-Kube9-Pod: ")[1].split("\r\n")[0]
        victim = next(e.node_id for e in svc.endpoints if e.pod_name == victim_pod)
        await eng.inject_fault(victim, "crash")
        await wait_for(eng.proxy.synced, what="tables applied")
        # The open connection to the dead pod ends (no answer comes on it).
        await reader.readexactly(int(head.split("Content-Length: ")[1].split("\r\n")[0]))
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await reader.readuntil(b"\r\n\r\n")
        writer.close()
        # New connections go to the others only, while the node is still "healthy" (grace 60 s).
        bodies = {(await get(address))[0] for _ in range(6)}
        assert eng.cluster.state.nodes[victim].status is HEALTHY
        assert bodies and all(victim_pod not in b for b in bodies)
        assert len(bodies) == 2
    finally:
        await eng.stop()
