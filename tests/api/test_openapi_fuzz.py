"""Schemathesis, driven by the served /openapi.json, finds nothing to report.

For every operation it sends its coverage cases (each bound and its neighbour, each
required field missing, each undeclared method), then generated requests that fit the
document (positive) and that break it (negative), all with the admin token, to an engine on
virtual nodes that holds nodes, pods in two namespaces and an incident (so deep paths
exist; operations with an id also run with real ids). It checks each answer: no server error, a documented status, the
documented content type, a body valid against its schema, schema-invalid input refused, and
a 405 with Allow for a method the path does not document.

Deterministic (derandomized) and bounded: KUBE9_OPENAPI_FUZZ_EXAMPLES cases per operation
and mode; KUBE9_OPENAPI_FUZZ_SEED explores other cases. Any finding fails the test with the
failing request as a curl line.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import AuthContext, GenerationMode
from schemathesis.auths import set_on_generated_case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from tests.helpers import POSTMAN_PODS, Api, wait_for

EXAMPLES = int(os.environ.get("KUBE9_OPENAPI_FUZZ_EXAMPLES", "5"))
SEED = os.environ.get("KUBE9_OPENAPI_FUZZ_SEED")  # explore other cases; unset: derandomized
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
ORDER = {
    "get": 0,
    "post": 1,
    "patch": 1,
    "put": 1,
    "delete": 2,
}  # reads first, so deletes do not empty the cluster


def config(token: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            # The token as the document's bearer scheme, so that schemathesis knows the requests
            # carry it (a token passed as a plain header would hide its negations from the checks).
            "auth": {"openapi": {"bearer": {"bearer": token}}},
            "checks": {
                # A body too large for the limit is refused as documented, with a 413; a
                # generated header that happens to be a foreign Host, with the documented 421
                # (DNS-rebinding protection, decided before anything else is looked at).
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "409",
                        "413",
                        "415",
                        "421",
                    ]
                },
                # 503 is a designed, documented answer (a partitioned node's heartbeat, a runtime
                # that is down), not a failure of the server; a 500 is.
                "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]},
            },
        }
    )


def _finding(label: str, how: str, exc: BaseException) -> str:
    notes = "\n".join(getattr(exc, "__notes__", ()))
    return f"{label} ({how}):\n{exc}\n{notes}"


def _coverage(op: Any, base: str, session: requests.Session, seen: Counter[str]) -> list[str]:
    """Schemathesis's deterministic cases: each bound and its neighbour, each required field
    missing, each undeclared method (405 with Allow: unsupported_method)."""
    schema = op.schema
    found: dict[str, str] = {}  # one per kind of failure and operation
    context = AuthContext(operation=op, app=None)
    for case in schema.iter_coverage_cases(
        op,
        generation_modes=list(GenerationMode),
        generation_config=schema.config.generation_for(operation=op),
    ):
        set_on_generated_case(case, context, None)  # the token, unless the case negates it
        try:
            response = case.call_and_validate(
                base_url=base, session=session, checks=[*CHECKS, unsupported_method]
            )
            seen[f"{case.method} {op.path} {response.status_code}"] += 1
        except (Exception, BaseExceptionGroup) as exc:
            kind = next((ln for ln in str(exc).splitlines() if ln.startswith("- ST")), str(exc))
            found.setdefault(kind, _finding(op.label, "coverage", exc))
    return list(found.values())


def _restore(
    base: str, session: requests.Session, auth: dict[str, str], real_ids: dict[str, list[Any]]
) -> None:
    """Scale the workloads back after an operation: a case that scaled one to the maximum
    would leave thousands of pods to slow every later case down."""
    for kind, replicas in (("deployments", 2), ("replicasets", 1)):
        for obj_id in real_ids.get(kind, [])[:1]:
            session.post(f"{base}/{kind}/{obj_id}/scale", json={"replicas": replicas},
                         headers=auth, timeout=30)  # fmt: skip


def fuzz(base: str, token: str, real_ids: dict[str, list[Any]]) -> tuple[list[str], Counter[str]]:
    """Every operation: its coverage cases, then generated positive and negative ones;
    returns the findings and the statuses seen."""
    auth = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(
        f"{base}/openapi.json", headers=auth, config=config(token)
    )
    session = requests.Session()
    findings: list[str] = []
    seen: Counter[str] = Counter()
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: (ORDER[op.method], op.path),
    )
    for op in operations:
        op_started = time.monotonic()
        before = len(findings)
        findings += _coverage(op, base, session, seen)
        first = op.path.strip("/").split("/")[0]
        path_names = [p.name for p in op.path_parameters]
        fixed: list[dict[str, Any] | None] = [None]  # generated ids, then the real ones
        for value in real_ids.get(first, []) if path_names else []:
            fixed.append({path_names[0]: value})
        has_input = bool(path_names or op.query or op.body)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not has_input:
                continue  # nothing to break
            for path_parameters in fixed if mode is GenerationMode.POSITIVE else [None]:

                @settings(max_examples=EXAMPLES, derandomize=SEED is None, database=None,
                          deadline=None, suppress_health_check=list(HealthCheck),
                          phases=[Phase.explicit, Phase.generate, Phase.shrink])  # fmt: skip
                @seed(int(SEED or 0))
                @given(case=op.as_strategy(generation_mode=mode, path_parameters=path_parameters))
                def run(case: schemathesis.Case) -> None:
                    response = case.call_and_validate(base_url=base, session=session, checks=CHECKS)
                    seen[f"{case.method} {case.operation.path} {response.status_code}"] += 1

                try:
                    run()
                except (Exception, BaseExceptionGroup) as exc:  # FailureGroup: with a curl line
                    findings.append(_finding(op.label, f"{mode}, {path_parameters}", exc))
        _restore(base, session, auth, real_ids)
        took = time.monotonic() - op_started
        print(f"{op.label}: {took:.1f} s, {len(findings) - before} finding(s)", flush=True)
        for finding in findings[before:]:
            print(finding[:2000], flush=True)
    session.close()
    return findings, seen


@pytest.fixture
def db_url() -> None:
    """SQLite only: the document and the answers do not depend on the store (the store suites
    run on both), and one pass over every operation is minutes long."""
    return None


# Schemathesis draws from the random module inside its strategies; Hypothesis 6.170 warns.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@pytest.mark.timeout(1800)  # every operation in turn: minutes, not the suite's 120 s
async def test_schemathesis_finds_nothing_in_the_served_document(engine: Engine, api: Api) -> None:
    for body in (
        {"name": "worker-1", "cpu_cores_avail": 8},
        {"name": "worker-2", "cpu_cores_avail": 8},
    ):
        assert (await api.post("/nodes/", body))[0] == 201
    nodes = list(engine.cluster.state.nodes)
    await wait_for(lambda: all(engine.cluster.state.nodes[n].status is NodeStatus.HEALTHY
                               for n in nodes), what="nodes healthy")  # fmt: skip
    assert (await api.post("/namespaces/", {"name": "team-a"}))[0] == 201
    pods = [(await api.post("/pods/", body))[1]["pod_details"]["id"] for body in POSTMAN_PODS]
    team = {"name": "api", "namespace": "team-a", "cpu_cores_req": 0.5,
            "containers": [{"name": "api", "image": "python:3.12"}]}  # fmt: skip
    pods.append((await api.post("/pods/", team))[1]["pod_details"]["id"])
    template = {"labels": {"app": "web"}, "cpu_cores_req": 0.1,
                "containers": [{"name": "web", "image": "nginx:1.25"}]}  # fmt: skip
    status, deployment = await api.post(
        "/deployments/", {"name": "web", "replicas": 2, "template": template}
    )
    assert status == 201
    status, bare = await api.post("/replicasets/", {
        "name": "bare", "replicas": 1,
        "template": {**template, "labels": {"app": "bare"}},
    })  # fmt: skip
    assert status == 201
    status, injected = await api.post(f"/nodes/{nodes[0]}/simulate/failure", {"mode": "hang"})
    assert status == 200
    real_ids: dict[str, list[Any]] = {
        "nodes": nodes, "pods": pods, "incidents": [injected["incident_id"]],
        "namespaces": ["default", "team-a"], "deployments": [deployment["id"]],
        "replicasets": [bare["id"], *deployment["replicaset_ids"]],
    }  # fmt: skip

    started = time.monotonic()
    findings, seen = await asyncio.to_thread(fuzz, api.base, engine.admin_token, real_ids)
    took = time.monotonic() - started
    print(f"\nschemathesis: {sum(seen.values())} requests in {took:.1f} s")
    for key, count in sorted(seen.items()):
        print(f"  {count:4} {key}")
    assert not findings, f"{len(findings)} finding(s):\n\n" + "\n\n".join(findings)
    assert sum(seen.values()) >= 100
    assert {k.rsplit(" ", 1)[1] for k in seen} >= {"200", "201", "400", "404"}
    assert (await api.get("/healthz"))[0] == 200
