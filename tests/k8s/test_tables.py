"""Server-side printing: the AGE column's arithmetic and the pod STATUS rule, as Kubernetes'."""

from __future__ import annotations

from typing import Any

import pytest

from kube9_desktop.engine.k8s.tables import endpoints_text, human_duration, pod_status_reason


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),  # a second of clock skew is "now"
        (0, "0s"),
        (59, "59s"),
        (119, "119s"),  # seconds up to two minutes
        (120, "2m"),
        (150, "2m30s"),
        (599, "9m59s"),
        (600, "10m"),  # from ten minutes, whole minutes
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 5 * 60, "3h5m"),
        (8 * 3600, "8h"),
        (47 * 3600 + 59 * 60, "47h"),
        (48 * 3600, "2d"),
        (50 * 3600, "2d2h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (800 * 86400, "2y70d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration(seconds: int, shown: str) -> None:
    assert human_duration(seconds) == shown


def pod(*statuses: dict[str, Any], phase: str = "Running", **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", **meta},
            "status": {"phase": phase, "containerStatuses": list(statuses)}}  # fmt: skip


@pytest.mark.parametrize(
    ("obj", "shown"),
    [
        (pod({"state": {"running": {}}, "ready": True}), "Running"),
        (pod(phase="Pending"), "Pending"),
        (pod({"state": {"waiting": {"reason": "CrashLoopBackOff"}}}), "CrashLoopBackOff"),
        (pod({"state": {"terminated": {"exitCode": 2}}}), "ExitCode:2"),
        (pod({"state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
             {"state": {"running": {}}, "ready": True}), "NotReady"),
        (pod({"state": {"running": {}}}, deletionTimestamp="2026-01-01T00:00:00Z"), "Terminating"),
    ],
)  # fmt: skip
def test_pod_status_reason(obj: dict[str, Any], shown: str) -> None:
    assert pod_status_reason(obj) == shown


def test_endpoints_text_lists_three_then_counts() -> None:
    subset = {"addresses": [{"ip": f"10.0.0.{i}"} for i in range(5)], "ports": [{"port": 80}]}
    assert (
        endpoints_text({"subsets": [subset]}) == "10.0.0.0:80,10.0.0.1:80,10.0.0.2:80 + 2 more..."
    )
    assert endpoints_text({}) == "<none>"


def test_a_container_backing_off_is_crash_loop_back_off() -> None:
    from kube9_desktop.engine.k8s.objects import container_state
    from kube9_desktop.engine.model import ContainerStatus

    crashing = ContainerStatus(
        "main", state="waiting", restarts=3, backoff_s=40.0, last_reason="Error"
    )
    state = container_state(crashing)
    assert state == {"waiting": {"reason": "CrashLoopBackOff",
                                 "message": "back-off 40s restarting failed container=main"}}  # fmt: skip
    obj = pod({"state": state, "ready": False, "restartCount": 3})
    assert pod_status_reason(obj) == "CrashLoopBackOff"
    assert container_state(
        ContainerStatus("main", state="terminated", exit_code=137, reason="OOMKilled")
    ) == {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
    assert container_state(None) == {"waiting": {"reason": "ContainerCreating"}}
