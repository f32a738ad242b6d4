"""Write resources/k8s-schemas.json: the Kubernetes API's own schemas for the kinds Kube-9
Desktop's Kubernetes API serves, as OpenAPI 3 components (what ``/openapi/v3`` answers,
``kubectl explain`` reads and strategic merge patches take their merge keys from).

The source is the JSON Schema that the ``kubernetes-validate`` package (Apache-2.0) ships for
each Kubernetes release, itself generated from Kubernetes' published OpenAPI document. Only
the definitions the served kinds reach are kept; ``$ref``s point into ``components/schemas``
and a ``$ref`` with a description is wrapped in ``allOf`` as Kubernetes writes it.

    .venv/bin/pip install kubernetes-validate && .venv/bin/python scripts/gen_k8s_schemas.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

VERSION = "v1.33.0"
ROOTS = (
    "io.k8s.api.core.v1.Namespace", "io.k8s.api.core.v1.NamespaceList",
    "io.k8s.api.core.v1.Node", "io.k8s.api.core.v1.NodeList",
    "io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.PodList",
    "io.k8s.api.core.v1.Service", "io.k8s.api.core.v1.ServiceList",
    "io.k8s.api.core.v1.Endpoints", "io.k8s.api.core.v1.EndpointsList",
    "io.k8s.api.core.v1.Event", "io.k8s.api.core.v1.EventList",
    "io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.DeploymentList",
    "io.k8s.api.apps.v1.ReplicaSet", "io.k8s.api.apps.v1.ReplicaSetList",
    "io.k8s.api.autoscaling.v1.Scale", "io.k8s.api.policy.v1.Eviction",
    "io.k8s.api.coordination.v1.Lease", "io.k8s.api.coordination.v1.LeaseList",
    "io.k8s.api.discovery.v1.EndpointSlice", "io.k8s.api.discovery.v1.EndpointSliceList",
    "io.k8s.api.scheduling.v1.PriorityClass", "io.k8s.api.scheduling.v1.PriorityClassList",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
)  # fmt: skip
OUT = Path(__file__).resolve().parent.parent / "resources" / "k8s-schemas.json"


def source() -> dict[str, Any]:
    import kubernetes_validate  # type: ignore[import-not-found]

    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    path = base / f"{VERSION}-local" / "_definitions.json"
    return json.loads(path.read_text())["$defs"]  # type: ignore[no-any-return]


def convert(node: Any) -> Any:
    """JSON Schema (draft 2020, nullable types) -> OpenAPI 3.0 as Kubernetes serves it."""
    if isinstance(node, list):
        return [convert(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = "#/components/schemas/" + value.rsplit("/", 1)[-1]
        elif key == "type" and isinstance(value, list):
            kinds = [v for v in value if v != "null"]
            if len(kinds) == 1:
                out[key] = kinds[0]
        elif key == "enum" and node.get("type") and "null" in node.get("type", ()):
            continue  # apiVersion/kind enums of the source: Kubernetes' schema has none
        else:
            out[key] = convert(value)
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}], **out}
    return out


def refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.add(value.rsplit("/", 1)[-1])
            else:
                refs(value, found)
    elif isinstance(node, list):
        for x in node:
            refs(x, found)


# As Kubernetes' own document writes them (the source has oneOf string/number).
SCALARS = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"format": "int-or-string"},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {},
}


def closure(defs: dict[str, Any]) -> dict[str, Any]:
    todo, kept = list(ROOTS), {}
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        kept[name] = defs[name]
        found: set[str] = set()
        refs(defs[name], found)
        todo.extend(sorted(found - set(kept)))
    out = {name: convert(kept[name]) for name in sorted(kept)}
    for name, extra in SCALARS.items():
        if name in out:
            described = {k: v for k, v in out[name].items() if k == "description"}
            out[name] = {**described, "type": "string", **extra}
    return out


def main() -> int:
    schemas = closure(source())
    text = json.dumps({"kubernetes": VERSION, "schemas": schemas}, sort_keys=True,
                      separators=(",", ":"))  # fmt: skip
    if "--check" in sys.argv:
        same = OUT.read_text() == text + "\n"
        print("up to date" if same else f"{OUT} differs from the generator's output")
        return 0 if same else 1
    OUT.write_text(text + "\n")
    print(f"{OUT}: {len(schemas)} schemas, {len(text) // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
