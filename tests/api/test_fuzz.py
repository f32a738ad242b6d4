"""A fuzz campaign over every route: schema-shaped and random bodies, odd ids, odd headers.

The engine runs in its own thread and loop; hypothesis drives a plain keep-alive HTTP client.
Whatever arrives: no 5xx (but the designed 503 of a partitioned heartbeat), JSON errors, no
unhandled exception in the log, and the engine still answers afterwards.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kube9_desktop.engine.api.routes import ROUTES, Route
from kube9_desktop.engine.core import Engine
from kube9_desktop.serve import start_engine
from tests.helpers import POSTMAN_HEARTBEAT, POSTMAN_NODES, POSTMAN_PODS, fast_settings

EXAMPLES = int(os.environ.get("KUBE9_FUZZ_EXAMPLES", "3000"))
SENT: Counter[int] = Counter()  # status codes seen, reported at the end of the campaign
TOKEN = "test-admin-token"
JSON_HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
C = {"name": "c", "image": "x"}

HOSTILE = st.sampled_from([
    "../../etc/passwd", "a/b", "..", ".", "$(reboot)", "`id`", "x; rm -rf /", "a|b", "a&&b",
    "ä", "名前", "🙂", "\x00", "\n", "a" * 300, "", " ", "-a", "a-", "A", "%2e%2e", "\\x",
    "' OR 1=1 --", "<script>", "${HOME}", "*", "?",
])  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40), HOSTILE,
    st.sampled_from(["500m", "1Gi", "256Mi", "2", "0", "-1", "1e309", "worker", "master", "crash",
                     "partition", "hang", "component", "kubelet", "env", "secret", "emptyDir"]),
)  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


TEMPLATES: dict[str, list[dict[str, Any]]] = {
    "NodeCreate": [dict(n) for n in POSTMAN_NODES] + [{"name": "w3", "cpu_cores_avail": "500m"}],
    "PodCreate": [dict(p) for p in POSTMAN_PODS],
    "FaultIn": [{"mode": m} for m in ("crash", "hang", "partition", "component")]
    + [{"mode": "partition", "duration_s": 1}, {"mode": "component", "component": "kubelet"}],
    "HeartbeatIn": [POSTMAN_HEARTBEAT, {"generation": 1, "pods": [{"id": 1, "phase": "running"}]}],
    "PodFaultIn": [{}, {"container": "nginx"}],
    "TaintsIn": [
        {"taints": []},
        {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
    ],
    "WhatIfRequest": [
        {"fail_nodes": [1]},
        {"fail_nodes": [1, 2], "strategy": "worst-fit"},
        {"fail_nodes": [2], "strategy": "first-fit"},
    ],
    "EngineSettingsPatch": [
        {},
        {"kubernetes_default_tolerations": True},
        {"kubernetes_default_tolerations": False},
    ],
    "NamespaceCreate": [{"name": "team-a"}, {"name": "team-b", "labels": {"tier": "web"}}],
    "PriorityClassCreate": [
        {"name": "high", "value": 1000},
        {"name": "polite", "value": 10, "preemption_policy": "Never", "description": "x"},
    ],
    "DeploymentCreate": [
        {
            "name": "web",
            "replicas": 2,
            "template": {
                "labels": {"app": "web"},
                "cpu_cores_req": 0.1,
                "containers": [{"name": "c", "image": "nginx:1"}],
            },
        },
        {
            "name": "api",
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "template": {
                "labels": {"app": "api"},
                "cpu_cores_req": 0.2,
                "containers": [{"name": "c", "image": "python:3.12"}],
            },
        },
    ],
    "DeploymentPatch": [{"replicas": 3}, {"paused": True}, {"strategy": {"max_surge": 1}}],
    "ScaleIn": [{"replicas": 0}, {"replicas": 4}],
    "RollbackIn": [{}, {"revision": 1}],
    "ServiceCreate": [
        {"name": "web", "selector": {"app": "web"}, "ports": [{"port": 80, "target_port": 8080}]},
        {
            "name": "np",
            "type": "NodePort",
            "session_affinity": "ClientIP",
            "selector": {"app": "api"},
            "ports": [
                {"name": "http", "port": 80, "target_port": "http"},
                {"name": "admin", "port": 81, "node_port": 30100},
            ],
        },
    ],
    "ServicePatch": [
        {"selector": {"app": "api"}},
        {"type": "NodePort"},
        {"ports": [{"port": 90, "target_port": "http"}]},
        {"cluster_ip": "127.96.0.1"},
    ],
    "TrafficCreate": [
        {"rate": 5, "duration_s": 0.2},
        {"rate": 50, "duration_s": 0.5, "path": "/healthz", "concurrency": 2, "port": 80},
    ],
    "ReplicaSetCreate": [
        {
            "name": "rs",
            "replicas": 2,
            "template": {
                "labels": {"app": "rs"},
                "cpu_cores_req": 0.1,
                "containers": [{"name": "c", "image": "busybox"}],
            },
        },
    ],
}


@st.composite
def mutated_template(draw: st.DrawFn, model: str) -> dict[str, Any]:
    """A valid body with zero to two fields dropped or replaced: it reaches the deep paths."""
    body = dict(draw(st.sampled_from(TEMPLATES[model])))
    if "name" in body:
        body["name"] = draw(st.sampled_from([body["name"], f"f{draw(st.integers(0, 40))}"]))
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(sorted(body) or ["x"]))
        if draw(st.booleans()):
            body.pop(key, None)
        else:
            body[key] = draw(SCALARS)
    return body


@st.composite
def shaped_body(draw: st.DrawFn, route: Route) -> Any:
    """A body that looks like the route's model: its field names, some extra, wild values."""
    if route.body is None or draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    if draw(st.integers(0, 2)) == 0:
        return draw(mutated_template(route.body.__name__))
    fields = list(route.body.model_fields)
    body = {}
    for name in draw(st.lists(st.sampled_from(fields), unique=True)):
        if name in ("containers", "volumes", "config", "pods"):
            item = st.dictionaries(
                st.sampled_from(["name", "image", "cpu_req", "memory_req", "command", "args",
                                 "type", "size", "path", "key", "value", "id", "phase",
                                 "containers", "state", "restarts", "exit_code", "bogus"]),
                SCALARS | st.lists(SCALARS, max_size=3), max_size=6,
            )  # fmt: skip
            body[name] = draw(st.lists(item, max_size=3) | JSON)
        else:
            body[name] = draw(SCALARS | JSON)
    if draw(st.booleans()):
        body[draw(st.text(max_size=10))] = draw(SCALARS)
    return body


@st.composite
def request_case(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, str]]:
    route = draw(st.sampled_from(ROUTES))
    path = draw(st.sampled_from(route.paths))
    if "{id" in path:
        ident = draw(st.one_of(st.integers(0, 12).map(str), st.integers(0, 10**30).map(str),
                               st.just("abc"), st.just("-1"), st.just("1.5")))  # fmt: skip
        path = path.split("{id")[0] + ident + path.split("}", 1)[1]
    if "{name" in path:
        ident = draw(st.sampled_from(["default", "team-a", "kube-system", "NoSuch", "x" * 70]))
        path = path.split("{name")[0] + ident + path.split("}", 1)[1]
    if route.query or draw(st.integers(0, 5)) == 0:
        names = [q.name for q in route.query] + ["force", "bogus"]
        pairs = draw(st.dictionaries(st.sampled_from(names), st.text(max_size=8), max_size=3))
        if pairs:
            path += "?" + "&".join(f"{k}={quote(v)}" for k, v in pairs.items())
    method = (
        route.method
        if draw(st.integers(0, 9))
        else draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body: bytes | None = None
    kind = draw(st.integers(0, 19))
    if method in ("POST", "PUT", "PATCH") or kind == 0:
        value = draw(shaped_body(route))
        try:
            body = json.dumps(value).encode()
        except ValueError:
            body = b"{"
        if kind == 1:
            body = draw(st.binary(max_size=64))
        headers["Content-Type"] = draw(st.sampled_from(
            ["application/json"] * 8
            + ["text/plain", "application/x-www-form-urlencoded", ""]))  # fmt: skip
    if kind == 2:
        headers["Authorization"] = draw(
            st.sampled_from(["", "Bearer", "Basic x", "Bearer k9n.1.x"])
        )
    return method, path, body, headers


class EngineThread:
    """An engine with its API on a loop in a background thread."""

    def __init__(self, data: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = Engine(fast_settings(data, heartbeat_interval=0.2))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(start_engine(self.engine), self.loop).result(30)
        port = int(self.engine.api_url.rsplit(":", 1)[1])
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, str]:
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            return resp.status, resp.read(), resp.getheader("Content-Type") or ""
        except (http.client.HTTPException, ConnectionError):
            self.conn.close()  # the server may close after a 413; reconnect and go on
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            return resp.status, resp.read(), resp.getheader("Content-Type") or ""

    def close(self) -> None:
        self.conn.close()
        asyncio.run_coroutine_threadsafe(self.engine.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineThread]:
    target = EngineThread(tmp_path_factory.mktemp("fuzz") / "data")
    # Something to aim at: two healthy nodes and a pod.
    for body in ({"name": "w1", "cpu_cores_avail": 4}, {"name": "w2", "cpu_cores_avail": 4}):
        status, _, _ = target.request("POST", "/nodes/", json.dumps(body).encode(),
                                      JSON_HEADERS)  # fmt: skip
        assert status == 201
    yield target
    target.close()


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          database=None)  # fmt: skip
@given(case=request_case())
def test_fuzz_every_route(
    fuzz_target: EngineThread, case: tuple[str, str, bytes | None, dict[str, str]]
) -> None:
    errors = ErrorLog()
    logging.getLogger("kube9_desktop").addHandler(errors)
    try:
        method, path, body, headers = case
        status, raw, ctype = fuzz_target.request(method, path, body, headers)
        SENT[status] += 1
    finally:
        logging.getLogger("kube9_desktop").removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records]
    partitioned = status == 503 and b"partitioned" in raw
    assert status < 500 or partitioned, (case, status, raw[:300])
    if status >= 400:
        assert ctype.startswith("application/json"), (case, status, raw[:200])
        assert "error" in json.loads(raw)
    assert b"Traceback" not in raw and b"<html" not in raw.lower()


def test_engine_still_answers_after_the_campaign(fuzz_target: EngineThread) -> None:
    print(f"\nfuzz cases sent: {sum(SENT.values())}, by status: {dict(sorted(SENT.items()))}")
    assert sum(SENT.values()) >= EXAMPLES
    status, raw, _ = fuzz_target.request("GET", "/healthz", None, {})
    assert (status, json.loads(raw)) == (200, {"status": "ok"})
    status, raw, _ = fuzz_target.request(
        "GET", "/nodes/", None, {"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200
    from kube9_desktop.engine.invariants import check_invariants

    assert check_invariants(fuzz_target.engine.cluster.state) == []


HOSTILE_NAMES = ["../../etc/passwd", "a/b", "..", "$(reboot)", "`id`", "x;rm -rf /", "名前",
                 "🙂", "a\x00b", "a" * 64, "Worker-1", "-a", "a b", "%2e%2e",
                 "${HOME}"]  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_never_pass_validation(fuzz_target: EngineThread, name: str) -> None:
    h = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    bodies = [
        ("/nodes/", {"name": name, "cpu_cores_avail": 1}),
        ("/pods/", {"name": name, "cpu_cores_req": 0.1, "containers": [C]}),
        ("/pods/", {"name": "p", "cpu_cores_req": 0.1, "containers": [{**C, "name": name}]}),
        ("/pods/", {"name": "p", "cpu_cores_req": 0.1, "containers": [{"name": "c", "image": "x"}],
                    "volumes": [{"name": name}]}),
    ]  # fmt: skip
    for path, body in bodies:
        status, raw, _ = fuzz_target.request("POST", path, json.dumps(body).encode(), h)
        assert status == 400, (path, body, raw)
    nodes_dir = fuzz_target.engine.settings.data_dir / "nodes"
    assert not nodes_dir.exists() or all(p.name.isascii() for p in nodes_dir.rglob("*"))


@pytest.mark.parametrize("image", ["$(reboot)", "`id`", "x;rm -rf /", "a b", "a|b", "名前", "-x"])
def test_images_with_shell_metacharacters_are_refused(
    fuzz_target: EngineThread, image: str
) -> None:
    h = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    body = {"name": "p", "cpu_cores_req": 0.1, "containers": [{"name": "c", "image": image}]}
    status, raw, _ = fuzz_target.request("POST", "/pods/", json.dumps(body).encode(), h)
    assert status == 400, raw
    assert json.loads(raw)["field"] == "containers[0].image"
