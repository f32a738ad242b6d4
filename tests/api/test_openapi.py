"""/openapi.json documents exactly the routes the server serves, with the bodies it validates."""

from __future__ import annotations

import re

from kube9_desktop.engine.api.app import create_app
from kube9_desktop.engine.api.routes import ROUTES
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.specs import FaultIn, HeartbeatIn, NodeCreate, PodCreate
from tests.helpers import Api


async def test_every_served_route_is_documented_and_vice_versa(engine: Engine, api: Api) -> None:
    status, doc = await api.get("/openapi.json")
    assert status == 200
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = set()
    for resource in create_app(engine).router.resources():
        info = resource.get_info()
        path = info.get("path") or re.sub(r"\{(\w+):[^}]+\}", r"{\1}", info.get("formatter", ""))
        for route in resource:
            if route.method != "HEAD":
                served.add((route.method, path))
    assert served == documented


async def test_documented_bodies_are_the_validated_models(api: Api) -> None:
    _, doc = await api.get("/openapi.json")
    schemas = doc["components"]["schemas"]
    for model in (NodeCreate, PodCreate, HeartbeatIn, FaultIn):
        assert set(schemas[model.__name__]["properties"]) == set(model.model_fields)
        assert schemas[model.__name__].get("additionalProperties") is False
    create = doc["paths"]["/pods/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PodCreate"
    )
    assert {"201", "400", "401", "409"} <= set(create["responses"])
    assert doc["paths"]["/healthz"]["get"]["security"] == []


async def test_documented_status_codes_happen(engine: Engine, api: Api) -> None:
    """Spot-check that the error codes the document promises are the ones routes return."""
    _, doc = await api.get("/openapi.json")
    assert "409" in doc["paths"]["/nodes/{id}"]["delete"]["responses"]
    assert "404" in doc["paths"]["/nodes/{id}"]["get"]["responses"]
    assert (await api.get("/nodes/123"))[0] == 404
    assert len(ROUTES) >= 20


async def test_create_operations_link_to_the_object_they_create(api: Api) -> None:
    _, doc = await api.get("/openapi.json")
    ops = {op["operationId"]: (path, op) for path, m in doc["paths"].items() for op in m.values()}
    for path, target, param in (("/nodes/", "get_get_node", "id"),
                                ("/pods", "get_get_pod", "id"),
                                ("/namespaces/", "get_get_namespace", "name")):  # fmt: skip
        (link,) = doc["paths"][path]["post"]["responses"]["201"]["links"].values()
        assert link["operationId"] == target and set(link["parameters"]) == {param}
        assert f"{{{param}}}" in ops[target][0]
        status, created = await api.post(path, {"name": "x", "cpu_cores_avail": 1}
                                          if "nodes" in path else {"name": "x"})  # fmt: skip
        if status == 201:  # the pointer names where the reply holds the value
            pointer = link["parameters"][param].removeprefix("$response.body#/")
            assert created[pointer] is not None


async def test_statuses_follow_from_what_each_route_does(api: Api) -> None:
    _, doc = await api.get("/openapi.json")
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            codes = set(op["responses"])
            where = f"{method.upper()} {path}"
            assert {"400", "421"} <= codes, where  # a malformed request, a foreign Host
            assert ("401" in codes) == (op.get("security") != []), where
            assert ("404" in codes) >= ("{" in path), where
            assert ("413" in codes) == ("requestBody" in op) == ("415" in codes), where
            if any(p["in"] == "query" for p in op.get("parameters", ())):
                assert "bad, repeated or unknown query" in op["responses"]["400"]["description"]
            if method in ("post", "delete"):
                assert "503" in codes, where  # the store may fail to write
    heartbeat = doc["paths"]["/nodes/{id}/heartbeat"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "413", "415", "421", "503"} == set(heartbeat)
