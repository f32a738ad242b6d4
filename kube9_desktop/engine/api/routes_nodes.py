"""Node routes beyond create, read and delete: drain, and the eviction settings that apply at
once (``GET``/``PATCH /settings``). Registered through ``node_routes``, which routes.py
appends to its table (the OpenAPI document comes from the same table)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import Field
from typing_extensions import TypedDict

from kube9_desktop.engine.api.app import ENGINE, json_response, read_json
from kube9_desktop.engine.api.params import path_id
from kube9_desktop.engine.jsontypes import closed
from kube9_desktop.engine.noexecute import DEFAULT_TOLERATION_SECONDS
from kube9_desktop.engine.outcomes import Drained, DrainStep
from kube9_desktop.engine.specs import Strict, parse_body

if TYPE_CHECKING:
    from kube9_desktop.engine.api.routes import Link, Route


@closed
class DrainStepJson(TypedDict):
    pod: str
    pod_id: int
    action: str  # moved | replaced | left
    to: str | None  # moved: the pod's new node
    reason: str  # left: why it stays
    daemon_like: bool  # left because it tolerates node.kubernetes.io/unschedulable
    reasons: dict[str, list[str]]  # left, no node fits: each other node's reasons


@closed
class NodeDrainedJson(TypedDict):
    message: str
    node: str
    cordoned: bool  # this drain cordoned the node (false: it already was)
    evicted: list[DrainStepJson]
    not_moved: list[DrainStepJson]  # what could not move, and why


@closed
class EngineJson(TypedDict):
    name: str  # "local": this machine's engine (or the one runtime)
    url: str  # how it is reached (unix://, tcp://, ssh://, context:NAME)
    state: str  # up | down | unknown (not asked yet)
    nodes: int  # nodes recorded on it
    error: str  # down: the real cause (SSH refused, TLS failure, permission denied…)
    agent_url: str  # the API's address as its agents reach it ("": none known)
    since_s: float  # seconds in this state


@closed
class EngineSettingsJson(TypedDict):
    kubernetes_default_tolerations: bool  # every pod tolerates not-ready/unreachable 300 s
    default_toleration_seconds: int


class EngineSettingsPatch(Strict):
    """PATCH /settings: the settings that apply at once."""

    kubernetes_default_tolerations: bool | None = Field(
        default=None,
        description="Give every pod Kubernetes' default tolerations of the not-ready and "
        "unreachable NoExecute taints (300 s); off: pods of an unhealthy node are evicted at "
        "once (Kube-9's fast eviction).",
    )


def _step_json(s: DrainStep) -> DrainStepJson:
    return {"pod": s.pod, "pod_id": s.pod_id, "action": s.action, "to": s.to,
            "reason": s.reason, "daemon_like": s.daemon_like,
            "reasons": {k: list(v) for k, v in s.reasons.items()}}  # fmt: skip


def drained_json(d: Drained) -> NodeDrainedJson:
    return {
        "message": d.message, "node": d.node, "cordoned": d.cordoned,
        "evicted": [_step_json(s) for s in d.evicted],
        "not_moved": [_step_json(s) for s in d.left],
    }  # fmt: skip


async def drain_node(request: web.Request) -> web.StreamResponse:
    drained = await request.app[ENGINE].drain_node(path_id(request))
    reply: NodeDrainedJson = drained_json(drained)
    return json_response(reply)


def _settings(request: web.Request) -> EngineSettingsJson:
    return {
        "kubernetes_default_tolerations": request.app[ENGINE].kubernetes_defaults,
        "default_toleration_seconds": DEFAULT_TOLERATION_SECONDS,
    }


async def list_engines(request: web.Request) -> web.StreamResponse:
    reply: list[EngineJson] = [
        {"name": e.name, "url": e.url, "state": e.state, "nodes": e.nodes, "error": e.error,
         "agent_url": e.agent_url, "since_s": e.since_s}
        for e in request.app[ENGINE].engines()
    ]  # fmt: skip
    return json_response(reply)


async def engine_settings(request: web.Request) -> web.StreamResponse:
    return json_response(_settings(request))


async def change_settings(request: web.Request) -> web.StreamResponse:
    body = parse_body(EngineSettingsPatch, await read_json(request))
    if body.kubernetes_default_tolerations is not None:
        request.app[ENGINE].set_kubernetes_defaults(body.kubernetes_default_tolerations)
    return json_response(_settings(request))


def node_routes(R: type[Route], L: type[Link], ID: str) -> tuple[Route, ...]:
    """The routes' table entries; routes.py passes its Route, Link and id pattern."""
    return (
        R("POST", (f"/nodes/{ID}/drain",), drain_node,
          "Drain: cordon, then evict every pod that can go (ReplicaSets' pods are replaced "
          "elsewhere, bare pods move); lists those that could not move and why",
          NodeDrainedJson, store="writes",
          errors={409: "a drain of this node is already under way"}),
        R("GET", ("/engines",), list_engines,
          "The Docker engines nodes may run on: each one's state, real cause when down, node "
          "count and the address its agents reach the API at", list[EngineJson]),
        R("GET", ("/settings",), engine_settings, "Engine settings that apply at once",
          EngineSettingsJson),
        R("PATCH", ("/settings",), change_settings, "Change engine settings that apply at once",
          EngineSettingsJson, body=EngineSettingsPatch),
    )  # fmt: skip
