"""The traffic generator's routes over real HTTP: POST starts a run through the Service's
cluster IP, GET reads its totals and per-second series, DELETE stops it; hostile bodies are
400s naming the field, a second run while one is going is a 409."""

from __future__ import annotations

import math
from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from tests.helpers import Api, wait_for


def svc(name: str = "web") -> dict[str, Any]:
    return {"name": name, "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "target_port": 8080}]}  # fmt: skip


async def service(api: Api, name: str = "web") -> int:
    status, created = await api.post("/services/", svc(name))
    assert status == 201, created
    return int(created["id"])


async def test_a_run_with_no_endpoint_counts_every_request_as_an_error(
    engine: Engine, api: Api
) -> None:
    s_id = await service(api)
    status, none = await api.get(f"/services/{s_id}/traffic")
    assert status == 404 and "no traffic" in none["error"]
    assert (await api.get(f"/services/{s_id}"))[1]["traffic"] is None
    status, started = await api.post(
        f"/services/{s_id}/traffic", {"rate": 100, "duration_s": 0.3, "concurrency": 2}
    )
    assert status == 202, started
    assert started["state"] == "running" and started["target"].startswith("127.96.")
    assert started["target"].endswith(":80") and started["path"] == "/"

    async def finished() -> bool:
        _, got = await api.get(f"/services/{s_id}/traffic")
        return bool(got["state"] == "finished")

    await wait_for(finished, what="the run to finish")
    status, got = await api.get(f"/services/{s_id}/traffic")
    totals = got["totals"]
    # Nobody answers for a Service without endpoints: each scheduled request fails, none lost.
    assert totals["requests"] == math.ceil(100 * 0.3) and totals["ok"] == 0
    assert sum(totals["errors"].values()) == totals["requests"]
    assert sum(sum(s["errors"].values()) for s in got["series"]) == totals["requests"]
    status, one = await api.get(f"/services/{s_id}")
    assert status == 200 and one["traffic"] == totals  # the Service's view carries them too
    status, events = await api.get("/events?kind=traffic_started")
    assert status == 200 and [e["message"][:22] for e in events] == ["Traffic to Service web"]


async def test_one_run_at_a_time_and_delete_stops_it(engine: Engine, api: Api) -> None:
    s_id = await service(api)
    body = {"rate": 10, "duration_s": 3600, "port": "http"}
    status, _ = await api.post(f"/services/{s_id}/traffic", body)
    assert status == 202
    status, again = await api.post(f"/services/{s_id}/traffic", body)
    assert status == 409 and "already has traffic running" in again["error"]
    status, stopped = await api.delete(f"/services/{s_id}/traffic")
    assert status == 200 and stopped["state"] == "stopped"
    status, restarted = await api.post(f"/services/{s_id}/traffic", {**body, "port": 80})
    assert status == 202 and restarted["state"] == "running"
    # Deleting the Service ends its traffic with it.
    status, _ = await api.delete(f"/services/{s_id}")
    assert status == 200
    status, _ = await api.get(f"/services/{s_id}/traffic")
    assert status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rate": 0, "duration_s": 1}, "rate"),
        ({"rate": -5, "duration_s": 1}, "rate"),
        ({"rate": 1e9, "duration_s": 1}, "rate"),
        ({"rate": "fast", "duration_s": 1}, "rate"),
        ({"rate": 10, "duration_s": 0}, "duration_s"),
        ({"rate": 10, "duration_s": 1e12}, "duration_s"),
        ({"rate": 10}, "duration_s"),
        ({"rate": 10, "duration_s": 1, "concurrency": 0}, "concurrency"),
        ({"rate": 10, "duration_s": 1, "concurrency": 100000}, "concurrency"),
        ({"rate": 10, "duration_s": 1, "path": "no-slash"}, "path"),
        ({"rate": 10, "duration_s": 1, "path": "/a b"}, "path"),
        ({"rate": 10, "duration_s": 1, "path": "/x\r\nHost: evil"}, "path"),
        ({"rate": 10, "duration_s": 1, "path": "/é"}, "path"),
        ({"rate": 10, "duration_s": 1, "path": "/" + "a" * 5000}, "path"),
        ({"rate": 10, "duration_s": 1, "port": "nope"}, "port"),
        ({"rate": 10, "duration_s": 1, "port": 81}, "port"),
        ({"rate": 10, "duration_s": 1, "bogus": 1}, "bogus"),
    ],
)
async def test_hostile_bodies_are_400s_naming_the_field(
    engine: Engine, api: Api, body: dict[str, Any], field: str
) -> None:
    s_id = await service(api)
    status, reply = await api.post(f"/services/{s_id}/traffic", body)
    assert status == 400, reply
    assert field in reply["error"], reply
    status, _ = await api.get(f"/services/{s_id}/traffic")
    assert status == 404  # nothing started


async def test_an_unknown_service_is_a_404(engine: Engine, api: Api) -> None:
    status, reply = await api.post("/services/999/traffic", {"rate": 1, "duration_s": 1})
    assert status == 404, reply
    status, reply = await api.delete("/services/999/traffic")
    assert status == 404, reply
