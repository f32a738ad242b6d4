"""The Engine's Service operations and reads (a mixin of ``Engine``, as workload_ops is).

Each operation is one commit; its endpoints are already derived in it (cluster/services.py),
so the reply shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kube9_desktop.engine.changes import Changes
from kube9_desktop.engine.cluster import services as ops
from kube9_desktop.engine.errors import Conflict, NotFound, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.selectors import Selector
from kube9_desktop.engine.service_specs import ServicePatch
from kube9_desktop.engine.services import ServiceSpec, ServiceView
from kube9_desktop.engine.state import ServiceState
from kube9_desktop.engine.traffic import Attribute, TrafficRun, TrafficSpec

if TYPE_CHECKING:
    from kube9_desktop.engine.cluster import Cluster
    from kube9_desktop.engine.proxy.service_proxy import ServiceProxy


@dataclass(frozen=True)
class ServiceOutcome:
    view: ServiceView
    changes: Changes
    message: str = ""


def describe_change(old: ServiceSpec, new: ServiceSpec) -> str:
    """ "selector {'app': 'a'} → {'app': 'b'}; type ClusterIP → NodePort": what a PATCH did."""
    parts = []
    if dict(old.selector) != dict(new.selector):
        parts.append(f"selector {dict(old.selector)} → {dict(new.selector)}")
    if old.type != new.type:
        parts.append(f"type {old.type} → {new.type}")
    if old.ports != new.ports:
        parts.append("ports " + ", ".join(
            f"{p.port}→{p.target_port}" + (f" (node port {p.node_port})" if p.node_port else "")
            for p in new.ports
        ))  # fmt: skip
    if old.session_affinity != new.session_affinity:
        parts.append(f"session affinity {new.session_affinity}")
    if old.labels != new.labels:
        parts.append("labels changed")
    if old.annotations != new.annotations:
        parts.append("annotations changed")
    return "; ".join(parts) or "spec changed"


class EngineServices:
    cluster: Cluster
    traffic_runs: dict[int, TrafficRun]  # each Service's latest run (Engine.__init__ sets it)

    # ---- reads -------------------------------------------------------------------------

    def _service(self, service_id: int) -> ServiceState:
        svc = self.cluster.state.services.get(service_id)
        if svc is None:
            raise NotFound(f"Service {service_id} not found")
        return svc

    def service_view(self, svc: ServiceState) -> ServiceView:
        return ServiceView(
            svc.id, svc.uid, svc.name, svc.namespace, svc.spec, svc.cluster_ip, svc.created_at,
            svc.resource_version, tuple(svc.endpoints[p] for p in sorted(svc.endpoints)),
        )  # fmt: skip

    def services(
        self, namespace: str | None = None, selector: Selector | None = None
    ) -> list[ServiceView]:
        out = []
        for svc in self.cluster.state.services.values():
            if namespace is not None and svc.namespace != namespace:
                continue
            if selector is not None and not selector.matches(svc.spec.labels):
                continue
            out.append(self.service_view(svc))
        return out

    def service(self, service_id: int) -> ServiceView:
        return self.service_view(self._service(service_id))

    def find_service(self, service_id: int) -> ServiceView | None:
        svc = self.cluster.state.services.get(service_id)
        return self.service_view(svc) if svc is not None else None

    def find_service_named(self, namespace: str, name: str) -> ServiceView | None:
        service_id = self.cluster.state.service_ids.get((namespace, name))
        return self.find_service(service_id) if service_id is not None else None

    def service_name_taken(self, name: str, namespace: str = "default") -> bool:
        return (namespace, name) in self.cluster.state.service_ids

    # ---- operations --------------------------------------------------------------------

    async def create_service(self, spec: ServiceSpec) -> ServiceOutcome:
        with self.cluster.transaction() as t:
            svc = ops.create_service(t, spec)
        return ServiceOutcome(self.service_view(svc), t.changes)

    async def update_service(self, service_id: int, patch: ServicePatch) -> ServiceOutcome:
        svc = self._service(service_id)
        old = svc.spec
        new = patch.apply(old, svc.cluster_ip)
        with self.cluster.transaction() as t:
            changed = ops.update_service(t, svc, new)
            if changed:
                text = f"Service {svc.name}: {describe_change(old, svc.spec)}"
                t.event(EventKind.SERVICE_UPDATED, text, obj=svc.ref())
        if not changed:
            return ServiceOutcome(self.service_view(svc), t.changes, "nothing changed")
        return ServiceOutcome(self.service_view(svc), t.changes, text)

    async def delete_service(self, service_id: int) -> ServiceOutcome:
        svc = self._service(service_id)
        view = self.service_view(svc)
        with self.cluster.transaction() as t:
            ops.delete_service(t, svc)
        run = self.traffic_runs.pop(service_id, None)
        if run is not None:
            await run.stop()
        return ServiceOutcome(view, t.changes, f"Service '{svc.name}' deleted")

    # ---- traffic -----------------------------------------------------------------------

    def traffic_attribute(self) -> Attribute | None:
        """Which endpoint a connection went to, by its client address (the proxy's books)."""
        proxy: ServiceProxy | None = getattr(self, "proxy", None)  # None before open()
        return proxy.attribute if proxy is not None else None

    async def start_traffic(
        self, service_id: int, spec: TrafficSpec, port: int | str | None = None
    ) -> TrafficRun:
        """Send ``spec``'s requests to the Service's cluster IP and port; one run at a time."""
        svc = self._service(service_id)
        runs = self.traffic_runs
        current = runs.get(service_id)
        if current is not None and current.state == "running":
            raise Conflict(
                f"Service {svc.name} already has traffic running ({current.spec.rate:g}/s); "
                "stop it first (DELETE)"
            )
        ports = svc.spec.ports
        chosen = ports[0] if port is None else next(
            (p for p in ports if (p.name == port if isinstance(port, str) else p.port == port)),
            None,
        )  # fmt: skip
        if chosen is None:
            names = ", ".join(p.name or str(p.port) for p in ports)
            raise UserError(f"port: Service {svc.name} has no port {port!r} (it has {names})",
                            field="port")  # fmt: skip
        run = TrafficRun(
            svc.id, svc.name, svc.cluster_ip, chosen.port, spec, attribute=self.traffic_attribute()
        )
        runs[service_id] = run
        run.start()
        with self.cluster.transaction() as t:
            t.event(
                EventKind.TRAFFIC_STARTED,
                f"Traffic to Service {svc.name}: {spec.rate:g} requests/s over "
                f"{spec.concurrency} connection(s) for {spec.duration_s:g} s to "
                f"{svc.cluster_ip}:{chosen.port}{spec.path}",
                obj=svc.ref(),
                data={"rate": spec.rate, "duration_s": spec.duration_s, "port": chosen.port},
            )
        return run

    def latest_traffic(self, service_id: int) -> TrafficRun | None:
        return self.traffic_runs.get(service_id)

    def traffic(self, service_id: int) -> TrafficRun:
        svc = self._service(service_id)
        run = self.traffic_runs.get(service_id)
        if run is None:
            raise NotFound(f"Service {svc.name} has had no traffic yet (POST to start it)")
        return run

    async def stop_traffic(self, service_id: int) -> TrafficRun:
        run = self.traffic(service_id)
        was_running = run.state == "running"
        await run.stop()
        if was_running:
            svc = self._service(service_id)
            t = run.totals()
            elapsed = (run.ended or run.started) - run.started
            with self.cluster.transaction() as txn:
                txn.event(
                    EventKind.TRAFFIC_STOPPED,
                    f"Traffic to Service {svc.name} stopped after {elapsed:.0f} s: "
                    f"{t['ok']} ok, {sum(t['errors'].values())} error(s)",
                    obj=svc.ref(),
                    data={"ok": t["ok"], "errors": t["errors"]},
                )
        return run

    async def stop_all_traffic(self) -> None:
        for run in self.traffic_runs.values():
            await run.stop()
