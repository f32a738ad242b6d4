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
