"""Failure injection: one call breaks a node (crash, hang, partition, component) or kills a
pod's process, with an event that opens the failure's incident so its timeline can be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.errors import Conflict, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import REQUIRED_COMPONENTS, NodeStatus, PodPhase, components_for
from kube9_desktop.engine.runtime.base import NodeRuntime
from kube9_desktop.engine.state import NodeState

DEFAULT_PARTITION_S = 30.0
MODES = ("crash", "hang", "partition", "component")


@dataclass(frozen=True)
class Injected:
    mode: str
    node: str
    at: datetime
    incident_id: int
    message: str


class FaultInjector:
    def __init__(self, cluster: Cluster, runtime: NodeRuntime) -> None:
        self.cluster = cluster
        self.runtime = runtime

    async def inject(
        self,
        node: NodeState,
        mode: str = "crash",
        *,
        component: str | None = None,
        duration_s: float | None = None,
    ) -> Injected:
        if mode not in MODES:
            raise UserError(f"mode: must be one of {', '.join(MODES)}", field="mode")
        if node.status is not NodeStatus.HEALTHY:
            raise Conflict(
                f"Node {node.name} is {node.status}, not running: a fault can only be injected "
                "into a healthy node (use Recover first)"
            )
        if node.partition_until is not None or node.hung:
            raise Conflict(f"Node {node.name} already has a fault ({', '.join(node.fault_labels)})")
        if mode == "component":
            component = component or "kubelet"
            if component not in components_for(node.node_type):
                raise UserError(
                    f"component: {node.node_type} nodes have "
                    f"{', '.join(components_for(node.node_type))}",
                    field="component",
                )
        elif component is not None:
            raise UserError("component: only used with mode 'component'", field="component")
        if duration_s is not None and mode != "partition":
            raise UserError("duration_s: only used with mode 'partition'", field="duration_s")

        now = self.cluster.clock.monotonic()
        detail = {
            "crash": "the node was killed",
            "hang": "the node was frozen: alive but silent",
            "partition": f"its heartbeats are dropped for {duration_s or DEFAULT_PARTITION_S:g} s",
            "component": f"its {component} reports failed",
        }[mode]
        if mode == "crash":
            await self.runtime.kill(node.id)
        elif mode == "hang":
            await self.runtime.pause(node.id)
            node.hung = True
        elif mode == "partition":
            node.partition_until = now + (duration_s or DEFAULT_PARTITION_S)
        else:
            assert component is not None
            node.component_faults[component] = "failed"
        incident = self.cluster.open_incident(node, mode)
        ev = self.cluster.record_event(
            EventKind.FAULT_INJECTED,
            f"Injected {mode} into {node.name}: {detail}"
            + (" (the node becomes NotReady)" if component in REQUIRED_COMPONENTS else ""),
            node=node,
            data={"mode": mode, "component": component, "duration_s": duration_s},
        )
        return Injected(mode, node.name, ev.at, incident, ev.message)

    def kill_pod(self, pod_id: int, container: str | None = None) -> str:
        """Ask the pod's node agent to SIGKILL the pod's process(es) on its next heartbeat."""
        pod = self.cluster.pod(pod_id)
        if pod.node_id is None or pod.phase not in (PodPhase.RUNNING, PodPhase.SCHEDULED):
            raise Conflict(f"Pod {pod.name} is {pod.phase}: it has no process to kill")
        names = [c.name for c in pod.spec.containers]
        if container is not None and container not in names:
            raise UserError(f"container: pod {pod.name} has {', '.join(names)}", field="container")
        node = self.cluster.state.nodes[pod.node_id]
        node.pending_kills.append({"pod_id": pod.id, "container": container})
        what = f"container {container}" if container else "its containers"
        self.cluster.record_event(
            EventKind.POD_KILLED,
            f"Killing {what} of pod {pod.name} on {node.name}; the agent restarts with back-off",
            node=node,
            pod=pod,
            data={"container": container},
        )
        return f"Kill of pod '{pod.name}' ({what}) sent to node '{node.name}'"

    async def heal(self, node: NodeState) -> list[str]:
        """Undo partition, hang and component faults now; returns what was healed."""
        healed = []
        if node.partition_until is not None:
            node.partition_until = None
            node.watch_since = self.cluster.clock.monotonic()
            healed.append("partition")
        if node.hung:
            await self.runtime.resume(node.id)
            node.hung = False
            node.watch_since = self.cluster.clock.monotonic()
            healed.append("hang")
        if node.component_faults:
            healed.extend(f"{c} fault" for c in node.component_faults)
            node.component_faults.clear()
        if healed:
            self.cluster.record_event(
                EventKind.FAULT_HEALED, f"Healed {', '.join(healed)} on {node.name}", node=node
            )
        return healed
