"""Who may do what: the authorization matrix, Host header guard, body limits, content types."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

import pytest
import sqlalchemy

from kube9_desktop.engine.core import Engine
from tests.helpers import Api, wait_for

HEARTBEAT = {"components": {"kubelet": "running", "container_runtime": "running"}}


async def two_nodes(engine: Engine) -> tuple[int, str, int, str]:
    a = await engine.create_node_from_json({"name": "node-a", "cpu_cores_avail": 1})
    b = await engine.create_node_from_json({"name": "node-b", "cpu_cores_avail": 1})
    return a.view.id, a.token, b.view.id, b.token


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/nodes/"), ("POST", "/nodes/"), ("GET", "/pods/"),
     ("GET", "/events"), ("GET", "/openapi.json"), ("GET", "/cluster/summary"),
     ("GET", "/test_db"), ("DELETE", "/nodes/1"), ("POST", "/nodes/1/heartbeat")],
)  # fmt: skip
async def test_no_token_and_wrong_token_are_401(api: Api, method: str, path: str) -> None:
    for token in (None, "wrong-token", "k9n.1.forged", "Bearer"):
        status, body = await api.call(method, path, token=token)
        assert status == 401, (token, body)
        assert "token" in body["error"].lower()


async def test_healthz_needs_no_token(api: Api) -> None:
    assert await api.get("/healthz", token=None) == (200, {"status": "ok"})


async def test_node_token_matrix(engine: Engine, api: Api) -> None:
    a_id, a_tok, b_id, b_tok = await two_nodes(engine)
    # A's token may send A's heartbeat ...
    status, reply = await api.post(f"/nodes/{a_id}/heartbeat", HEARTBEAT, token=a_tok)
    assert status == 200, reply
    # ... but not B's,
    status, reply = await api.post(f"/nodes/{b_id}/heartbeat", HEARTBEAT, token=a_tok)
    assert status == 403 and "not valid for node" in reply["error"]
    # ... and no admin route, read or write.
    for method, path in [("GET", "/nodes/"), ("POST", "/nodes/"), ("GET", f"/nodes/{a_id}"),
                         ("DELETE", f"/nodes/{a_id}"), ("POST", f"/nodes/{a_id}/recover"),
                         ("POST", f"/nodes/{a_id}/simulate/failure"), ("GET", "/events"),
                         ("GET", "/pods/")]:  # fmt: skip
        status, reply = await api.call(method, path, token=a_tok)
        assert status == 403, (method, path, reply)
    # The admin token may send any heartbeat by hand (the original Postman flow does).
    assert (await api.post(f"/nodes/{b_id}/heartbeat", HEARTBEAT))[0] == 200
    # A deleted node's agent is told to stop.
    assert (await api.delete(f"/nodes/{b_id}?force=true"))[0] == 200
    status, reply = await api.post(f"/nodes/{b_id}/heartbeat", HEARTBEAT, token=b_tok)
    assert status == 404 and reply["should_stop_heartbeat"] is True


async def test_node_tokens_are_stored_only_as_hashes(engine: Engine) -> None:
    created = await engine.create_node_from_json({"name": "node-a", "cpu_cores_avail": 1})
    secret = created.token.rsplit(".", 1)[1]
    db = sqlalchemy.create_engine(engine.store.url)
    with db.connect() as conn:
        rows = [
            str(tuple(row))
            for table in sqlalchemy.inspect(conn).get_table_names()
            for row in conn.execute(sqlalchemy.text(f"SELECT * FROM {table}"))
        ]
    db.dispose()
    assert secret not in "\n".join(rows)
    assert any(engine.cluster.state.nodes[created.view.id].token_hash in r for r in rows)
    if engine.store.url.startswith("sqlite"):  # the raw files too, write-ahead log included
        data = engine.settings.data_dir
        raw = b"".join(p.read_bytes() for p in data.glob("cluster.db*"))
        assert secret.encode() not in raw


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:5000", "127.0.0.1.nip.io", "localhost.evil", ""]
)
async def test_foreign_host_header_is_refused(api: Api, host: str) -> None:
    status, body = await api.get("/nodes/", headers={"Host": host})
    assert status in (400, 421)
    assert "Host" in body["error"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:5000", "[::1]:5000", "LOCALHOST"])
async def test_loopback_host_headers_are_fine(api: Api, host: str) -> None:
    assert (await api.get("/nodes/", headers={"Host": host}))[0] == 200


async def test_oversized_bodies_are_413_without_reading_them(api: Api) -> None:
    big = {"name": "x", "cpu_cores_avail": 1, "pad": "a" * 70_000}
    status, body = await api.post("/nodes/", big)
    assert status == 413 and "too large" in body["error"]
    # A lying client announces a huge body it never sends: refused from the header alone.
    url = urlparse(api.base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(
        b"POST /nodes/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
        + api.token.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert b" 413 " in status_line


async def test_heartbeat_body_limit_is_16k(engine: Engine, api: Api) -> None:
    node = await engine.create_node_from_json({"name": "node-a", "cpu_cores_avail": 1})
    body = {**HEARTBEAT, "health_status": "healthy", "pod_ids": list(range(100_000, 103_000))}
    assert len(str(body)) > 16 * 1024
    status, _ = await api.post(f"/nodes/{node.view.id}/heartbeat", body, token=node.token)
    assert status == 413


async def test_non_json_bodies(api: Api) -> None:
    status, body = await api.call(
        "POST",
        "/nodes/",
        data="name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 415 and "application/json" in body["error"]
    status, body = await api.call(
        "POST", "/nodes/", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and "not valid JSON" in body["error"]
    status, body = await api.post("/nodes/", [1, 2, 3])
    assert status == 400 and "JSON object" in body["error"]


async def test_errors_are_json_never_html(api: Api) -> None:
    for method, path in [("PUT", "/nodes/"), ("PATCH", "/pods/1"), ("GET", "/nope")]:
        status, body = await api.call(method, path)
        assert status in (404, 405)
        assert isinstance(body, dict) and "error" in body


async def test_heartbeat_never_rewrites_the_books(engine: Engine, api: Api) -> None:
    node = await engine.create_node_from_json({"name": "node-a", "cpu_cores_avail": 4})
    await wait_for(lambda: engine.cluster.node_views()[0].schedulable, what="ready")
    await engine.create_pod_from_json(
        {"name": "p", "cpu_cores_req": 1, "containers": [{"name": "c", "image": "x"}]}
    )
    lie = {**HEARTBEAT, "pod_ids": [99, 100], "cpu_cores_avail": 4, "generation": None}
    status, reply = await api.post(f"/nodes/{node.view.id}/heartbeat", lie, token=node.token)
    assert status == 200
    assert [p["name"] for p in reply["desired_pods"]] == ["p"]
    view = engine.cluster.node_views()[0]
    assert view.allocated.cpu_m == 1000 and len(view.pod_ids) == 1
    _, events = await api.get("/events?kind=drift")
    assert events and "the books stand" in events[-1]["message"]


def test_a_remembered_node_token_stops_working_when_the_token_rotates() -> None:
    """Verified node tokens skip the hash on later heartbeats, never past a rotation."""
    from kube9_desktop.engine.errors import Unauthorized
    from kube9_desktop.engine.tokens import Authenticator, hash_token, new_node_token

    old, new = new_node_token(7), new_node_token(7)
    stored = {7: hash_token(old)}
    auth = Authenticator("admin-token", stored.get)
    assert auth.identify(old).node_id == 7
    assert auth.identify(old).node_id == 7  # remembered
    with pytest.raises(Unauthorized):
        auth.identify(old[:-1] + ("A" if old[-1] != "A" else "B"))  # same node, wrong secret
    stored[7] = hash_token(new)  # rotated (a relaunch)
    with pytest.raises(Unauthorized):
        auth.identify(old)
    assert auth.identify(new).node_id == 7
    del stored[7]  # node gone
    with pytest.raises(Unauthorized):
        auth.identify(new)
