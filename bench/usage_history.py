"""Engine-side cost of live usage for a 1,000-node / 20,000-pod cluster (in-process).

Times UsageBook.record for one heartbeat's usage (20 pods a node) and the parse of a
heartbeat body with and without ``usage``, and the memory the history takes once full.
Run: PYTHONPATH=. python bench/usage_history.py
"""

from __future__ import annotations

import time
import tracemalloc

from kube9_desktop.engine.specs import HeartbeatIn, parse_body
from kube9_desktop.engine.usage import SLOTS, STEP_S, PodUsage, UsageBook

NODES, PODS_PER_NODE = 1000, 20


def main() -> None:
    tracemalloc.start()
    book = UsageBook()
    owned = {
        n: set(range(n * PODS_PER_NODE + 1, (n + 1) * PODS_PER_NODE + 1)) for n in range(NODES)
    }
    usage = {n: [PodUsage(p, 0.1, 64.0) for p in ids] for n, ids in owned.items()}
    beats, started = 0, time.perf_counter()
    for step in range(SLOTS):  # fill every history slot
        t = step * STEP_S
        for n in range(NODES):
            book.record(n, t, usage[n], None, owned[n])
            beats += 1
    per_beat = (time.perf_counter() - started) / beats
    current, _ = tracemalloc.get_traced_memory()
    body = {"components": {"kubelet": "running"}, "generation": 1}
    with_usage = {**body, "usage": {"pods": [
        {"id": u.pod_id, "cpu_cores": 0.1, "memory_mb": 64.0} for u in usage[0]]}}  # fmt: skip
    timings = {}
    for name, b in (("without usage", body), ("with usage", with_usage)):
        t0 = time.perf_counter()
        for _ in range(2000):
            parse_body(HeartbeatIn, b).to_report()
        timings[name] = (time.perf_counter() - t0) / 2000
    print(f"record: {per_beat * 1e6:.1f} us per heartbeat ({PODS_PER_NODE} pods)")
    print(f"history memory, {NODES} nodes / {NODES * PODS_PER_NODE} pods, {SLOTS} slots: "
          f"{current / 1e6:.1f} MB")  # fmt: skip
    for name, seconds in timings.items():
        print(f"parse heartbeat {name}: {seconds * 1e6:.1f} us")


if __name__ == "__main__":
    main()
