"""The usage book's latest figures: per pod, summed per node, read one by one or all at once."""

from __future__ import annotations

from kube9_desktop.engine.usage import PodUsage, UsageBook


def test_latest_figures_one_by_one_and_at_once_agree() -> None:
    book = UsageBook()
    book.record(1, 10.0, [PodUsage(7, 0.123456, 64.004), PodUsage(8, 0.5, 10.0)], None, {7, 8})
    book.record(2, 10.0, [PodUsage(9, 0.25, 32.0), PodUsage(7, 9.0, 9.0)], None, {9})  # 7: not 2's
    assert book.pod(7) == {"cpu_cores": 0.1235, "memory_mb": 64.0}
    assert book.node(1) == {"cpu_cores": round(0.123456 + 0.5, 4), "memory_mb": 74.0}
    figures = book.pod_figures()
    assert figures == {
        p: (u["cpu_cores"], u["memory_mb"]) for p in (7, 8, 9) if (u := book.pod(p)) is not None
    }
    book.record(1, 11.0, [PodUsage(7, 1.0, 1.0)], (3.0, 300.0), {7})  # 8 left; the agent's sum
    assert book.node(1) == {"cpu_cores": 3.0, "memory_mb": 300.0}
    book.lost_node(1)
    assert book.pod(7) is None and book.node(1) is None and 7 not in book.pod_figures()
    assert book.pods[7].current is None and book.pod_figures()[9] == (0.25, 32.0)
