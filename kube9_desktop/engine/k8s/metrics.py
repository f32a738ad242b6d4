"""``metrics.k8s.io/v1beta1`` (``kubectl top nodes`` / ``kubectl top pods``): the usage the
agents report with their heartbeats, as metrics-server would serve it.

A node or pod without a current figure (none reported yet, or its node unhealthy: see
``engine/usage.py``) is left out, as metrics-server leaves out what it could not scrape;
``kubectl top`` then shows ``<unknown>`` for the node. The agents report usage per pod, not
per container: a pod's metrics hold one container, its first, carrying the whole pod's use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kube9_desktop.engine.manifests import timestamp
from kube9_desktop.engine.model import PodView
from kube9_desktop.engine.usage import UsageJson

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine

Obj = dict[str, Any]
API_VERSION = "metrics.k8s.io/v1beta1"


@dataclass(frozen=True, slots=True)
class Measured:
    """A node or pod view with its current usage, and when and over what window."""

    view: Any
    usage: UsageJson
    at: datetime
    window_s: float

    @property
    def id(self) -> int:
        return int(self.view.id)


def quantities(usage: UsageJson) -> dict[str, str]:
    """metrics-server's units: nanocores and KiB."""
    cpu = max(0, round(usage["cpu_cores"] * 1e9))
    memory = max(0, round(usage["memory_mb"] * 1024))
    return {"cpu": f"{cpu}n", "memory": f"{memory}Ki"}


def _window(engine: Engine) -> float:
    return float(engine.settings.heartbeat_interval)


def node_metrics(engine: Engine, _namespace: str | None) -> list[Measured]:
    usage, now, window = engine.heartbeats.usage, engine.clock.now(), _window(engine)
    out = []
    for node in engine.nodes():
        figures = usage.node(node.id)
        if figures is not None:
            out.append(Measured(node, figures, now, window))
    return out


def find_node_metrics(engine: Engine, _namespace: str, name: str) -> Measured | None:
    node = engine.find_node_named(name)
    figures = engine.heartbeats.usage.node(node.id) if node is not None else None
    if node is None or figures is None:
        return None
    return Measured(node, figures, engine.clock.now(), _window(engine))


def pod_metrics(engine: Engine, namespace: str | None) -> list[Measured]:
    usage, now, window = engine.heartbeats.usage, engine.clock.now(), _window(engine)
    out = []
    for pod in engine.pods(namespace):
        figures = usage.pod(pod.id)
        if figures is not None:
            out.append(Measured(pod, figures, now, window))
    return out


def find_pod_metrics(engine: Engine, namespace: str, name: str) -> Measured | None:
    pod = engine.find_pod_named(namespace, name)
    figures = engine.heartbeats.usage.pod(pod.id) if pod is not None else None
    if pod is None or figures is None:
        return None
    return Measured(pod, figures, engine.clock.now(), _window(engine))


def _meta(m: Measured, namespace: str | None) -> Obj:
    meta: Obj = {"name": m.view.name, "creationTimestamp": timestamp(m.at)}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(m.view.labels)
    return meta


def node_metrics_object(m: Measured) -> Obj:
    return {
        "kind": "NodeMetrics",
        "apiVersion": API_VERSION,
        "metadata": _meta(m, None),
        "timestamp": timestamp(m.at),
        "window": f"{m.window_s:g}s",
        "usage": quantities(m.usage),
    }


def pod_metrics_object(m: Measured) -> Obj:
    pod: PodView = m.view
    first = pod.spec.containers[0].name if pod.spec.containers else pod.name
    return {
        "kind": "PodMetrics",
        "apiVersion": API_VERSION,
        "metadata": _meta(m, pod.namespace),
        "timestamp": timestamp(m.at),
        "window": f"{m.window_s:g}s",
        "containers": [{"name": first, "usage": quantities(m.usage)}],
    }
