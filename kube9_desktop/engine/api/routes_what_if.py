"""``POST /what-if``: where the pods of some nodes would go if they failed now (the engine's
rehearsal, engine/what_if.py); nothing changes. Registered through ``what_if_routes``, which
routes.py appends to its table (the OpenAPI document comes from the same table)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from aiohttp import web
from pydantic import Field
from typing_extensions import TypedDict

from kube9_desktop.engine.api.app import ENGINE, json_response, read_json
from kube9_desktop.engine.api.params import MAX_ID
from kube9_desktop.engine.jsontypes import closed
from kube9_desktop.engine.model import cores
from kube9_desktop.engine.specs import Strict, parse_body
from kube9_desktop.engine.what_if import MAX_FAIL_NODES, NodeRoom, PodFate, WhatIf

if TYPE_CHECKING:
    from kube9_desktop.engine.api.routes import Link, Route

NodeId = Annotated[int, Field(ge=1, le=MAX_ID)]


class WhatIfRequest(Strict):
    """POST /what-if: the nodes to imagine failing, and the strategy to place their pods by."""

    fail_nodes: list[NodeId] = Field(
        min_length=1, max_length=MAX_FAIL_NODES,
        description="Ids of the nodes that fail together (each once)",
    )  # fmt: skip
    strategy: Literal["best-fit", "first-fit", "worst-fit"] | None = Field(
        default=None, description="Place the pods by this strategy (default: the engine's)"
    )


@closed
class PodFateJson(TypedDict):
    pod_id: int
    pod: str
    namespace: str
    from_node: str | None
    fate: str  # moves | replaced | pending | stays | placed
    node_id: int | None  # where it (or its replacement) would run; null when pending
    node: str | None
    owner: str | None  # "ReplicaSet <name>"
    replacement: str | None  # the replacement pod's name, for a ReplicaSet's pod
    reasons: dict[str, list[str]]  # pending: each node's reasons (the scheduler's own words)


@closed
class NodeRoomJson(TypedDict):
    node_id: int
    node: str
    status: str  # after the failure: the failing nodes are unhealthy
    failing: bool
    cpu_cores_free: float
    memory_mb_free: int
    pods_free: int  # how many more pods its pod limit takes
    cpu_cores_allocated: float
    cpu_cores_total: float


@closed
class WhatIfJson(TypedDict):
    fail_nodes: list[int]
    strategy: str
    resource_version: int  # the engine's resource version the preview was computed at
    evictions_paused: bool  # every worker would be down: the guard keeps every pod in place
    pods: list[PodFateJson]
    pending: list[int]  # ids of the pods (or of the pods whose replacement) no node takes
    nodes: list[NodeRoomJson]


def _fate_json(f: PodFate) -> PodFateJson:
    return {
        "pod_id": f.pod_id, "pod": f.name, "namespace": f.namespace, "from_node": f.from_node,
        "fate": f.fate.value, "node_id": f.node_id, "node": f.node, "owner": f.owner,
        "replacement": f.replacement,
        "reasons": {k: list(v) for k, v in (f.reasons or {}).items()},
    }  # fmt: skip


def _room_json(r: NodeRoom) -> NodeRoomJson:
    return {
        "node_id": r.node_id, "node": r.name, "status": str(r.status), "failing": r.failing,
        "cpu_cores_free": cores(r.cpu_m_free), "memory_mb_free": r.mem_mi_free,
        "pods_free": r.pods_free, "cpu_cores_allocated": cores(r.cpu_m_allocated),
        "cpu_cores_total": cores(r.cpu_m_capacity),
    }  # fmt: skip


def what_if_json(w: WhatIf) -> WhatIfJson:
    return {
        "fail_nodes": list(w.fail_nodes), "strategy": w.strategy,
        "resource_version": w.resource_version, "evictions_paused": w.evictions_paused,
        "pods": [_fate_json(f) for f in w.pods],
        "pending": [f.pod_id for f in w.pods if f.fate.value == "pending"],
        "nodes": [_room_json(r) for r in w.nodes],
    }  # fmt: skip


async def what_if(request: web.Request) -> web.StreamResponse:
    body = parse_body(WhatIfRequest, await read_json(request))
    reply: WhatIfJson = what_if_json(request.app[ENGINE].what_if(body.fail_nodes, body.strategy))
    return json_response(reply)


def what_if_routes(R: type[Route], L: type[Link], ID: str) -> tuple[Route, ...]:
    """The routes' table entries; routes.py passes its Route, Link and id pattern."""
    return (
        R("POST", ("/what-if",), what_if,
          "What if these nodes failed now: where each of their pods (or its ReplicaSet's "
          "replacement) would go, which would stay pending and why, and the room left per "
          "node; nothing in the cluster changes",
          WhatIfJson, body=WhatIfRequest, store="writes",
          errors={404: "a node in fail_nodes does not exist"}),
    )  # fmt: skip
