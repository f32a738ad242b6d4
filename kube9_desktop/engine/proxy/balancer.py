"""Which endpoint a new connection goes to: round robin per service port, or the endpoint a
client address is stuck to (sessionAffinity ClientIP), skipping endpoints already tried.

Worked example, backends (a, b, c), round robin: connections go a, b, c, a, …; a connection
whose first pick b refused is offered c next (the counter moves past what was taken), then a.
With ClientIP affinity, a client's first connection sticks it to the endpoint picked; every
later one within ``affinity_timeout`` of its last goes there too while that endpoint is a
backend, and is re-stuck to the next pick otherwise (kube-proxy's ``recent`` match).
"""

from __future__ import annotations

from collections.abc import Set

from kube9_desktop.engine.proxy.tables import Backend, PortTable

SWEEP_EVERY = 4096  # picks between sweeps of expired affinities


class Balancer:
    def __init__(self) -> None:
        self._next: dict[tuple[int, str], int] = {}
        self._sticky: dict[tuple[int, str, str], tuple[int, float]] = {}  # -> (pod, expires)
        self._picks = 0

    def pick(
        self, table: PortTable, client: str, now: float, tried: Set[int] = frozenset()
    ) -> Backend | None:
        """The backend for this connection, or None when every backend was tried."""
        backends = table.backends
        if not backends:
            return None
        self._picks += 1
        if table.affinity:
            if self._picks % SWEEP_EVERY == 0:
                self.sweep(now)
            sticky_key = (table.service_id, table.port_name, client)
            stuck = self._sticky.get(sticky_key)
            if stuck is not None and stuck[1] > now and stuck[0] not in tried:
                found = table.by_pod.get(stuck[0])
                if found is not None:
                    self._sticky[sticky_key] = (found.pod_id, now + table.affinity_timeout)
                    return found
        chosen = self._round_robin(table, tried)
        if chosen is not None and table.affinity:
            self._sticky[sticky_key] = (chosen.pod_id, now + table.affinity_timeout)
        return chosen

    def _round_robin(self, table: PortTable, tried: Set[int]) -> Backend | None:
        backends = table.backends
        n = len(backends)
        start = self._next.get(table.key, 0)
        for step in range(n):
            candidate = backends[(start + step) % n]
            if candidate.pod_id not in tried:
                self._next[table.key] = (start + step + 1) % n
                return candidate
        return None

    def sweep(self, now: float) -> None:
        """Forget affinities that expired (their clients get a fresh pick anyway)."""
        self._sticky = {k: v for k, v in self._sticky.items() if v[1] > now}

    def forget(self, service_id: int) -> None:
        """A deleted Service: its counters and affinities go."""
        self._next = {k: v for k, v in self._next.items() if k[0] != service_id}
        self._sticky = {k: v for k, v in self._sticky.items() if k[0] != service_id}
