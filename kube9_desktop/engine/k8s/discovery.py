"""Discovery and version: ``/api``, ``/apis``, ``/api/v1``, ``/apis/apps/v1``, ``/version``.

Only the legacy (unaggregated) documents, always as ``application/json``: kubectl 1.27+ asks
for ``apidiscovery.k8s.io/v2`` first and, given plain JSON, falls back to these.
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kube9_desktop import __version__
from kube9_desktop.engine.k8s.objects import (
    ARCHITECTURE,
    KUBE_GIT_VERSION,
    KUBE_MAJOR,
    KUBE_MINOR,
)
from kube9_desktop.engine.k8s.resources import GROUP_VERSIONS

Obj = dict[str, Any]


def _build_date() -> str:
    """When this copy of Kube-9 Desktop was installed (its package's modification time)."""
    at = datetime.fromtimestamp(Path(__file__).stat().st_mtime, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def version_info() -> Obj:
    return {
        "major": str(KUBE_MAJOR),
        "minor": str(KUBE_MINOR),
        "gitVersion": KUBE_GIT_VERSION,
        "gitCommit": f"kube9-desktop-{__version__}",
        "gitTreeState": "clean",
        "buildDate": _build_date(),
        "goVersion": f"python{platform.python_version()}",
        "compiler": sys.implementation.name,
        "platform": f"linux/{ARCHITECTURE}",
    }


def api_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str) -> Obj:
    versions = [
        {"groupVersion": gv, "version": gv.split("/", 1)[1]}
        for gv in GROUP_VERSIONS
        if gv.startswith(f"{name}/")
    ]
    return {"name": name, "versions": versions, "preferredVersion": versions[0]}


def group_names() -> list[str]:
    return sorted({gv.split("/", 1)[0] for gv in GROUP_VERSIONS if "/" in gv})


def api_group_list() -> Obj:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name) for name in group_names()],
    }


def api_group(name: str) -> Obj:
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}


# The subresources served, as discovery lists them (kubectl scale finds the Scale kind here).
SUBRESOURCES: dict[tuple[str, str], list[Obj]] = {
    ("v1", "pods"): [
        {
            "name": "pods/log",
            "singularName": "",
            "namespaced": True,
            "kind": "Pod",
            "verbs": ["get"],
        },
        {
            "name": "pods/eviction",
            "singularName": "",
            "namespaced": True,
            "group": "policy",
            "version": "v1",
            "kind": "Eviction",
            "verbs": ["create"],
        },
    ],
    **{
        ("apps/v1", plural): [
            {
                "name": f"{plural}/scale",
                "singularName": "",
                "namespaced": True,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }
        ]
        for plural in ("deployments", "replicasets")
    },
}


# The objects whose ``/status`` reads (the object itself, as the API server answers it); the
# controllers write status, so it is read only here.
STATUS_SERVED = frozenset({"pods", "nodes", "services", "namespaces", "deployments",
                           "replicasets"})  # fmt: skip


def resource_list(group_version: str) -> Obj:
    resources = []
    for r in GROUP_VERSIONS[group_version]:
        resources.append(r.discovery())
        resources += SUBRESOURCES.get((group_version, r.plural), [])
        if r.plural in STATUS_SERVED and r.group != "metrics.k8s.io":
            status = {"name": f"{r.plural}/status", "singularName": "",
                      "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get"]}  # fmt: skip
            resources.append(status)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
