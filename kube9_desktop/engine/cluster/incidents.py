"""Incident steps: a failure of one node is an incident, stored, open until it ends.

When an incident opens and closes is the controllers' decision (faults, health, recovery);
these steps keep the record and the node -> open incident map consistent in one transaction.
A node has at most one open incident: opening a new one first closes the old as
``superseded``, so a later failure never lands in an earlier incident. An injected fault that
should make the node NotReady opens an incident that *awaits* its detection: the detection
joins it; any other detection (a kube_proxy fault was open, then the node really died) opens
a new one.
"""

from __future__ import annotations

from kube9_desktop.engine.cluster.txn import Txn
from kube9_desktop.engine.state import NodeState, OpenIncident


def open_incident(t: Txn, node: NodeState, mode: str, *, awaiting_detection: bool = False) -> int:
    if node.id in t.state.open_incidents:
        close_incident(t, node, "superseded")
    incident = t.store.open_incident(node.ref(), mode)
    books = t.state.open_incidents
    books[node.id] = OpenIncident(incident, mode, awaiting_detection)
    t.undo(lambda: books.pop(node.id, None))
    return incident


def detected(t: Txn, node: NodeState, mode: str) -> int:
    """The node was found failing: join the incident that awaited this, or open a new one."""
    current = t.state.open_incidents.get(node.id)
    if current is not None and current.awaiting_detection:
        current.awaiting_detection = False
        t.undo(lambda: setattr(current, "awaiting_detection", True))
        return current.id
    return open_incident(t, node, mode)


def close_incident(t: Txn, node: NodeState, outcome: str) -> int | None:
    """Close the node's open incident (if any) with ``outcome``; returns its id."""
    books = t.state.open_incidents
    current = books.get(node.id)
    if current is None:
        return None
    t.store.close_incident(current.id, outcome)
    del books[node.id]
    t.undo(lambda: books.__setitem__(node.id, current))
    return current.id


def close_all(t: Txn, outcome: str) -> int:
    """Close every open incident, stored or not (the engine restarted: they were interrupted)."""
    books = t.state.open_incidents
    saved = dict(books)
    books.clear()
    t.undo(lambda: books.update(saved))
    return t.store.close_open_incidents(outcome)
