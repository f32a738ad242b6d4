"""The engine's typed reads: what the API and the window may know, as frozen views.

Neither reaches into the engine's working copy or its store; they ask these. Every list is a
fresh snapshot; every "one object" read raises ``NotFound`` naming the id (``find_*`` returns
None instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kube9_desktop.engine.errors import Conflict, NotFound
from kube9_desktop.engine.events import Event
from kube9_desktop.engine.model import NamespaceView, NodeGauge, NodeView, PodView
from kube9_desktop.engine.node_shell import ShellPlace, shell_place, shell_refusal
from kube9_desktop.engine.selectors import Selector
from kube9_desktop.engine.timeline import Timeline, incident_timeline

if TYPE_CHECKING:
    from kube9_desktop.engine.cluster import Cluster
    from kube9_desktop.engine.runtime.base import NodeRuntime
    from kube9_desktop.engine.store.store import Store


class EngineReads:
    cluster: Cluster
    store: Store
    runtime: NodeRuntime

    # ---- nodes -------------------------------------------------------------------------

    def nodes(self, selector: Selector | None = None) -> list[NodeView]:
        views = self.cluster.node_views()
        if selector is None or selector.empty:
            return views
        return [v for v in views if selector.matches(v.labels)]

    def node_gauges(self) -> list[NodeGauge]:
        """Every node's status, requests, capacity and heartbeat age (the charts' once-a-second
        read): a fifth of what building 1,000 full views costs."""
        now = self.cluster.clock.now()
        return [n.gauge(now) for n in self.cluster.state.nodes.values()]

    def find_node(self, node_id: int) -> NodeView | None:
        node = self.cluster.state.nodes.get(node_id)
        return self.cluster.node_view(node) if node is not None else None

    def node(self, node_id: int) -> NodeView:
        return self.cluster.node_view(self.cluster.node(node_id))

    def find_node_named(self, name: str) -> NodeView | None:
        """By name, as the Kubernetes API addresses nodes (one lookup, not a scan)."""
        node_id = self.cluster.state.node_ids.get(name)
        return self.find_node(node_id) if node_id is not None else None

    def node_name_taken(self, name: str) -> bool:
        return name in self.cluster.state.node_ids

    # ---- pods --------------------------------------------------------------------------

    def pods(self, namespace: str | None = None, selector: Selector | None = None) -> list[PodView]:
        state = self.cluster.state
        pods = state.pods_in(namespace) if namespace is not None else state.pods.values()
        if selector is not None and not selector.empty:
            pods = [p for p in pods if selector.matches(p.spec.labels)]
        return [state.pod_view(p) for p in pods]

    def find_pod(self, pod_id: int) -> PodView | None:
        pod = self.cluster.state.pods.get(pod_id)
        return self.cluster.state.pod_view(pod) if pod is not None else None

    def pod(self, pod_id: int) -> PodView:
        return self.cluster.state.pod_view(self.cluster.pod(pod_id))

    def pods_on(self, node_id: int) -> list[PodView]:
        """The pods bound to a node, by id."""
        state = self.cluster.state
        node = self.cluster.node(node_id)
        return [state.pod_view(state.pods[p]) for p in sorted(node.pod_ids)]

    def pending_pod_ids(self) -> list[int]:
        return list(self.cluster.state.pending)

    def find_pod_named(self, namespace: str, name: str) -> PodView | None:
        pod_id = self.cluster.state.pod_ids.get((namespace, name))
        return self.find_pod(pod_id) if pod_id is not None else None

    def pod_name_taken(self, name: str, namespace: str = "default") -> bool:
        """One lookup, not a scan: the pod form asks on every keystroke."""
        return (namespace, name) in self.cluster.state.pod_ids

    def node_type_of(self, node_id: int | None) -> str | None:
        node = self.cluster.state.nodes.get(node_id) if node_id is not None else None
        return str(node.node_type) if node is not None else None

    # ---- shells (engine/node_shell.py) ------------------------------------------------

    def shell_refusal(self, pod_id: int | None = None) -> str | None:
        """Why no shell can open on this runtime (or for this pod) now; None: it can."""
        return shell_refusal(self.runtime, self.pod(pod_id) if pod_id is not None else None)

    def node_shell(self, node_id: int) -> ShellPlace:
        return shell_place(self.runtime, self.node(node_id))

    def pod_shell(self, pod_id: int) -> ShellPlace:
        pod = self.pod(pod_id)
        node = self.node(pod.node_id) if pod.node_id is not None else None
        if node is None:
            raise Conflict(f"No shell can open here: pod {pod.name} is not on a node yet.")
        return shell_place(self.runtime, node, pod)

    # ---- namespaces --------------------------------------------------------------------

    def namespaces(self) -> list[NamespaceView]:
        state = self.cluster.state
        return [
            ns.view(len(state.namespace_pods.get(ns.name, ())))
            for ns in sorted(state.namespaces.values(), key=lambda n: n.id)
        ]

    def find_namespace(self, name: str) -> NamespaceView | None:
        ns = self.cluster.state.namespaces.get(name)
        return ns.view(len(self.cluster.state.namespace_pods.get(name, ()))) if ns else None

    def namespace(self, name: str) -> NamespaceView:
        ns = self.cluster.namespace(name)
        return ns.view(len(self.cluster.state.namespace_pods.get(name, ())))

    # ---- history -----------------------------------------------------------------------

    def events(
        self,
        *,
        since: int = 0,
        limit: int = 500,
        node_id: int | None = None,
        pod_id: int | None = None,
        incident_id: int | None = None,
        kinds: tuple[str, ...] | list[str] = (),
        about: tuple[str, int] | None = None,
        before: int = 0,
    ) -> list[Event]:
        """Newest last; ``about=("Deployment", id)``: the events of that object (or related);
        ``before=id``: the page of older events just before that one (the window pages back)."""
        return self.store.events(
            since=since, limit=limit, node_id=node_id, pod_id=pod_id, incident_id=incident_id,
            kinds=kinds, about=about, before=before,
        )  # fmt: skip

    def incidents(self, limit: int = 50) -> list[Timeline]:
        return [incident_timeline(self.store, i) for i in self.store.incidents(limit=limit)]

    def incident(self, incident_id: int) -> Timeline:
        found = self.store.incident(incident_id)
        if found is None:
            raise NotFound(f"Incident {incident_id} not found")
        return incident_timeline(self.store, found)

    def find_incident(self, incident_id: int) -> Timeline | None:
        found = self.store.incident(incident_id)
        return incident_timeline(self.store, found) if found is not None else None

    def resource_version(self) -> int:
        """The cluster's resource version now (what a list is consistent with)."""
        return self.cluster.resource_version

    def ping_store(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        self.store.ping()
