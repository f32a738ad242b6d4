"""Docker engines over real HTTP: ``GET /engines``, ``engine`` on node create (explicit
placement; unknown: 400 naming it; down: 503 naming the engine and its real cause), and the
causes an engine that cannot answer is reported with (SSH refused, a TLS failure, no socket).

No Docker daemon is needed: every named engine here is one that cannot answer, on loopback or
a socket path that does not exist (tests/docker/test_remote_engine.py runs a real second one).
"""

from __future__ import annotations

import shutil
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.k8s.tls import ensure_certificates
from kube9_desktop.serve import start_engine
from tests.helpers import Api, fast_settings

# docker-py leaves a failed connection's socket to the collector.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")


async def test_one_runtime_is_the_engine_local_with_its_nodes(engine: Engine, api: Api) -> None:
    status, made = await api.post("/nodes", {"name": "w1", "cpu_cores_avail": 1})
    assert status == 201 and made["engine"] == "local"
    status, placed = await api.post(
        "/nodes", {"name": "w2", "cpu_cores_avail": 1, "engine": "local"}
    )
    assert status == 201 and placed["engine"] == "local"
    status, engines = await api.get("/engines")
    assert status == 200
    assert engines == [
        {"name": "local", "url": "virtual", "state": "up", "nodes": 2, "error": "",
         "agent_url": engine.api_url, "since_s": 0.0}
    ]  # fmt: skip
    _, nodes = await api.get("/nodes")
    assert {n["name"]: n["engine"] for n in nodes} == {"w1": "local", "w2": "local"}


async def test_an_unknown_engine_is_a_400_naming_it(engine: Engine, api: Api) -> None:
    status, body = await api.post("/nodes", {"name": "w1", "cpu_cores_avail": 1, "engine": "lab"})
    assert status == 400
    assert body["field"] == "engine" and "'lab'" in body["error"]
    assert "--docker-engine" in body["error"]
    _, nodes = await api.get("/nodes")
    assert nodes == []


async def test_a_malformed_engine_name_is_a_400(api: Api) -> None:
    status, body = await api.post(
        "/nodes", {"name": "w1", "cpu_cores_avail": 1, "engine": "Lab Engine"}
    )
    assert status == 400 and "engine" in str(body)


# ---- several engines, none answering --------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def foreign_tls(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A TLS server on loopback whose certificate comes from another CA than the one in the
    client's tls=DIR: the handshake fails on verification, as a wrong engine's would."""
    server = ensure_certificates(tmp_path / "server-side", "127.0.0.1")
    client = ensure_certificates(tmp_path / "client-side", "127.0.0.1")
    tls_dir = tmp_path / "certs"
    tls_dir.mkdir()
    shutil.copyfile(client.ca_cert, tls_dir / "ca.pem")
    shutil.copyfile(client.server_cert, tls_dir / "cert.pem")
    shutil.copyfile(client.server_key, tls_dir / "key.pem")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server.server_cert, server.server_key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = False

    def serve() -> None:
        while not stop:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                pass

    import threading

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port, tls_dir
    finally:
        stop = True
        listener.close()
        thread.join(5)


@pytest.fixture
async def engines(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    closed_port: int,
    foreign_tls: tuple[int, Path],
) -> AsyncIterator[tuple[Engine, Api]]:
    tls_port, tls_dir = foreign_tls
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-local-docker.sock")
    named = (
        f"gone=unix://{tmp_path}/nothing-here.sock",
        f"lab=ssh://nobody@127.0.0.1:{closed_port}",
        f"secure=tcp://127.0.0.1:{tls_port},tls={tls_dir}",
        f"nocerts=tcp://127.0.0.1:{tls_port},tls={tmp_path / 'empty'}",
    )
    settings = fast_settings(
        tmp_path / "data", runtime="docker", docker_engines=named,
        advertise_url="http://127.0.0.2",
    )  # fmt: skip
    eng = Engine(settings)
    await start_engine(eng)
    try:
        async with aiohttp.ClientSession() as session:
            yield eng, Api(eng.api_url, eng.admin_token, session)
    finally:
        await eng.stop()


def by_name(engines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in engines}


async def test_every_engine_is_listed_down_with_its_real_cause(
    engines: tuple[Engine, Api], tmp_path: Path, closed_port: int
) -> None:
    engine, api = engines
    status, listed = await api.get("/engines")
    assert status == 200
    assert [e["name"] for e in listed] == ["local", "gone", "lab", "secure", "nocerts"]
    found = by_name(listed)
    assert all(e["state"] == "down" and e["nodes"] == 0 for e in listed)
    assert found["gone"]["url"] == f"unix://{tmp_path}/nothing-here.sock"
    assert "No such file or directory" in found["gone"]["error"]
    assert "cannot be reached over SSH" in found["lab"]["error"]
    assert "Connection refused" in found["lab"]["error"]
    assert "CERTIFICATE_VERIFY_FAILED" in found["secure"]["error"]
    assert "lacks ca.pem, cert.pem, key.pem" in found["nocerts"]["error"]
    for e in listed:
        assert e["error"].startswith(f"Docker engine {e['name']} (")
        assert "not running" not in e["error"] or e["name"] == "local"
    # agents of a remote engine would be told the advertised address, with the API's port
    port = engine.api_url.rsplit(":", 1)[1]
    assert found["lab"]["agent_url"] == f"http://127.0.0.2:{port}"
    assert found["local"]["agent_url"] == engine.api_url


async def test_a_node_on_an_engine_that_is_down_is_a_503_naming_it(
    engines: tuple[Engine, Api], closed_port: int
) -> None:
    _, api = engines
    status, body = await api.post("/nodes", {"name": "w1", "cpu_cores_avail": 1, "engine": "lab"})
    assert status == 503
    assert body["engine"] == "lab"
    assert "Docker engine lab" in body["error"] and "Connection refused" in body["error"]
    status, body = await api.post(
        "/nodes", {"name": "w1", "cpu_cores_avail": 1, "engine": "secure"}
    )
    assert status == 503 and body["engine"] == "secure"
    assert "CERTIFICATE_VERIFY_FAILED" in body["error"]
    _, nodes = await api.get("/nodes")
    assert nodes == []


async def test_without_an_engine_and_none_up_the_503_names_each_cause(
    engines: tuple[Engine, Api],
) -> None:
    _, api = engines
    status, body = await api.post("/nodes", {"name": "w1", "cpu_cores_avail": 1})
    assert status == 503
    assert "no Docker engine answers" in body["error"]
    for name in ("gone", "lab", "secure", "nocerts"):
        assert f"Docker engine {name} (" in body["error"]


async def test_an_unknown_engine_among_several_is_a_400_listing_them(
    engines: tuple[Engine, Api],
) -> None:
    _, api = engines
    status, body = await api.post("/nodes", {"name": "w1", "cpu_cores_avail": 1, "engine": "x"})
    assert status == 400 and body["field"] == "engine"
    assert "local, gone, lab, secure, nocerts" in body["error"]


async def test_each_engine_that_is_down_is_one_event_naming_it(
    engines: tuple[Engine, Api],
) -> None:
    engine, _ = engines
    for name in ("gone", "lab", "secure", "nocerts"):
        said = [
            e.message for e in engine.events(limit=500) if f"Docker engine {name} (" in e.message
        ]
        assert len(said) == 1, said
