"""The patch types by table: JSON merge patch (RFC 7386's own examples), JSON patch (RFC 6902)
and the strategic merge patch with the merge keys of Kubernetes' schemas and kubectl's
directives; and the schemas file is what its generator makes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.engine.k8s.openapi import schemas
from kube9_desktop.engine.k8s.patch import (
    PatchError,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # RFC 7386, appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch(target: Any, patch: Any, result: Any) -> None:
    assert merge_patch(target, patch) == result


DOC = {"spec": {"replicas": 2, "list": ["a", "b"]}}


@pytest.mark.parametrize(
    ("ops", "result"),
    [
        ([{"op": "replace", "path": "/spec/replicas", "value": 5}],
         {"spec": {"replicas": 5, "list": ["a", "b"]}}),
        ([{"op": "add", "path": "/spec/list/1", "value": "x"}],
         {"spec": {"replicas": 2, "list": ["a", "x", "b"]}}),
        ([{"op": "add", "path": "/spec/list/-", "value": "z"}],
         {"spec": {"replicas": 2, "list": ["a", "b", "z"]}}),
        ([{"op": "remove", "path": "/spec/list/0"}], {"spec": {"replicas": 2, "list": ["b"]}}),
        ([{"op": "move", "from": "/spec/replicas", "path": "/count"}],
         {"spec": {"list": ["a", "b"]}, "count": 2}),
        ([{"op": "copy", "from": "/spec/list", "path": "/copy"}],
         {"spec": {"replicas": 2, "list": ["a", "b"]}, "copy": ["a", "b"]}),
        ([{"op": "test", "path": "/spec/replicas", "value": 2},
          {"op": "add", "path": "/a~1b", "value": 1}],
         {"spec": {"replicas": 2, "list": ["a", "b"]}, "a/b": 1}),
    ],
)  # fmt: skip
def test_json_patch(ops: list[Any], result: Any) -> None:
    assert json_patch(DOC, ops) == result
    assert DOC == {"spec": {"replicas": 2, "list": ["a", "b"]}}  # the input is left alone


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ([{"op": "test", "path": "/spec/replicas", "value": 3}], "not the one tested for"),
        ([{"op": "remove", "path": "/spec/nope"}], "'nope' does not exist"),
        ([{"op": "replace", "path": "/spec/nope", "value": 1}], "'nope' does not exist"),
        ([{"op": "add", "path": "/spec/list/9", "value": 1}], "past the end"),
        ([{"op": "add", "path": "/spec/list/01", "value": 1}], "not a list index"),
        ([{"op": "add", "path": "spec", "value": 1}], "not a JSON pointer"),
        ([{"op": "add", "path": "/x"}], "'value' is missing"),
        ([{"op": "move", "from": "/spec", "path": "/spec/inner"}], "into itself"),
        ([{"op": "explode", "path": "/x"}], "is not an operation"),
        ([{"path": "/x"}], "an object with 'op'"),
        ([{"op": "add", "path": 5, "value": 1}], "JSON pointer string"),
        ({"op": "add"}, "a list of operations"),
        ([{"op": "test", "path": "/spec/replicas", "value": 2}] * 10_001, "at most 10000"),
        (
            [{"op": "add", "path": "/x", "value": ["x" * 1000]}]
            + [{"op": "copy", "from": "/x", "path": "/x/-"}] * 40,
            "copies would exceed",
        ),
    ],
)
def test_json_patch_refusals_name_the_operation(ops: Any, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        json_patch(DOC, ops)


def deployment_schema() -> Any:
    return schemas().kind("apps", "v1", "Deployment")


LIVE = {
    "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"a": "1"}},
    "spec": {
        "replicas": 2,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        "template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
             "env": [{"name": "A", "value": "1"}], "args": ["x", "y"]},
            {"name": "side", "image": "busybox"},
        ], "tolerations": [{"key": "k", "operator": "Exists"}]}},
    },
}  # fmt: skip


def containers(obj: Any) -> Any:
    return obj["spec"]["template"]["spec"]["containers"]


def smp(patch: Any) -> Any:
    return strategic_merge_patch(LIVE, patch, schemas(), deployment_schema())


def test_strategic_merge_merges_containers_by_name() -> None:
    out = smp({"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:1.26", "env": [{"name": "B", "value": "2"}]}]}}}})  # fmt: skip
    web, side = containers(out)
    assert web["image"] == "nginx:1.26" and web["ports"] == [{"containerPort": 80}]
    assert web["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert side == {"name": "side", "image": "busybox"}
    assert containers(LIVE)[0]["image"] == "nginx:1.25"  # the input is left alone


def test_strategic_merge_directives() -> None:
    gone = smp({"spec": {"template": {"spec": {"containers": [
        {"name": "side", "$patch": "delete"}]}}}})  # fmt: skip
    assert [c["name"] for c in containers(gone)] == ["web"]
    ordered = smp({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "side"}, {"name": "web"}],
        "containers": [{"name": "web", "image": "nginx:1.27"}]}}}})  # fmt: skip
    assert [c["name"] for c in containers(ordered)] == ["side", "web"]
    retained = smp({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert retained["spec"]["strategy"] == {"type": "Recreate"}
    replaced = smp({"spec": {"template": {"spec": {"containers": [
        {"$patch": "replace"}, {"name": "only", "image": "x"}]}}}})  # fmt: skip
    assert containers(replaced) == [{"name": "only", "image": "x"}]
    removed = smp({"metadata": {"annotations": {"a": None}}, "spec": {"replicas": None}})
    assert removed["metadata"]["annotations"] == {} and "replicas" not in removed["spec"]
    whole = smp({"metadata": {"labels": {"$patch": "replace", "tier": "db"}}})
    assert whole["metadata"]["labels"] == {"tier": "db"}


def test_strategic_merge_replaces_lists_without_a_merge_strategy() -> None:
    out = smp({"spec": {"template": {"spec": {
        "tolerations": [{"key": "other", "operator": "Exists"}],
        "containers": [{"name": "web", "args": ["z"]}]}}}})  # fmt: skip
    assert out["spec"]["template"]["spec"]["tolerations"] == [
        {"key": "other", "operator": "Exists"}
    ]
    assert containers(out)[0]["args"] == ["z"]  # a list of scalars is atomic


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}, "merge key 'name'"),
        ({"spec": {"$patch": "explode"}}, "unknown \\$patch"),
        ({"spec": {"$retainKeys": "type"}}, "a list of field names"),
        (["not", "an", "object"], "is an object"),
    ],
)
def test_strategic_merge_refusals(patch: Any, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        smp(patch)


def test_the_schemas_file_is_what_the_generator_writes() -> None:
    """resources/k8s-schemas.json comes from kubernetes-validate's schemas, unedited."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/gen_k8s_schemas.py"), "--check"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    served = {("apps", "v1", "Deployment"), ("", "v1", "Pod"), ("", "v1", "Service"),
              ("apps", "v1", "ReplicaSet"), ("", "v1", "Namespace"), ("", "v1", "Node")}  # fmt: skip
    assert served <= set(schemas().by_kind)
