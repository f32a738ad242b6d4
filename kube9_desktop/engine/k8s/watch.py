"""Watches: ``?watch=true`` streams WatchEvents (``ADDED``, ``MODIFIED``, ``DELETED``,
``BOOKMARK``, ``ERROR``), one JSON object per line, as ``kubectl get -w`` and informers read.

``WatchHub`` keeps the recent history every commit publishes (which object of which kind was
added, changed or removed, at which resource version), so a watch may start from the version
a list returned and miss nothing in between; older than the history is a ``410 Expired``
ERROR event, after which clients list again. Without a version (or with ``0``), a watch first
sends every current object as ``ADDED``.

An event's object is built when it is first sent (a moment after its commit at most, and once
for every watcher of that resource); a watcher is sent an object only when its resource
version is newer than what it was last sent, so a burst of changes to one object may arrive as
one event carrying the last of them, as Kubernetes' own watch cache may. With selectors, an
object that starts to match is ``ADDED`` and one that stops is ``DELETED``, as Kubernetes
does. A watcher that falls behind the whole history gets ``410 Expired`` and the stream ends:
nothing is ever silently skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.k8s.listing import FieldRequirement
from kube9_desktop.engine.k8s.resources import Resource
from kube9_desktop.engine.k8s.status import BadRequest, Expired, status_object
from kube9_desktop.engine.k8s.tables import table
from kube9_desktop.engine.selectors import Selector

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine

log = logging.getLogger(__name__)
Obj = dict[str, Any]

HISTORY = 100_000  # commits' object changes kept (a 10,000-pod rollout is about 40,000)
TIMEOUT_DEFAULT_S = 1800  # the API server's --min-request-timeout
TIMEOUT_MAX_S = 86_400
BOOKMARK_EVERY_S = 15.0

# Which resources each kind of change concerns (a Service's endpoints are its Endpoints).
EVENT = "Event"  # the entries of a commit's events (not a kind of object the engine keeps)
RESOURCES_OF: dict[Kind | str, tuple[str, ...]] = {
    Kind.POD: ("pods",),
    Kind.NODE: ("nodes",),
    Kind.NAMESPACE: ("namespaces",),
    Kind.SERVICE: ("services", "endpoints", "endpointslices"),
    Kind.DEPLOYMENT: ("deployments",),
    Kind.REPLICASET: ("replicasets",),
    Kind.PRIORITY_CLASS: ("priorityclasses",),
    EVENT: ("events",),
}
# Kinds whose removal reaches the bus without a last view: their DELETED event carries the
# object as watchers were last sent it (few objects: Deployments, ReplicaSets, Services).
REMEMBERED = frozenset({"deployments", "replicasets", "services", "endpoints", "endpointslices"})


def _by_id(read: str) -> Callable[[Engine, int], Any]:
    """The engine's read ``read`` by id, None when the object is gone."""

    def get(engine: Engine, obj_id: int) -> Any:
        try:
            return getattr(engine, read)(obj_id)
        except Kube9Error:
            return None

    return get


def _namespace_by_id(engine: Engine, obj_id: int) -> Any:
    return next((ns for ns in engine.namespaces() if ns.id == obj_id), None)


VIEW_BY_ID: dict[str, Callable[[Engine, int], Any]] = {
    "pods": _by_id("pod"),
    "nodes": _by_id("node"),
    "namespaces": _namespace_by_id,
    "services": _by_id("service"),
    "endpoints": _by_id("service"),
    "endpointslices": _by_id("service"),
    "deployments": _by_id("deployment"),
    "replicasets": _by_id("replicaset"),
    "priorityclasses": lambda engine, obj_id: next(
        (c for c in engine.priority_classes() if c.id == obj_id), None
    ),
    "events": lambda engine, obj_id: None,  # an event entry carries its event
}


@dataclass(slots=True)
class Entry:
    """One object's change in one commit; what it becomes for each resource is built once."""

    rv: int
    kind: Kind | str
    obj_id: int
    removed: bool
    added: bool = False
    view: Any = None  # a removed object's last view, or an event
    built: dict[str, Obj | None] = field(default_factory=dict)  # plural -> object (None: gone)
    encoded: dict[tuple[str, str], str] = field(default_factory=dict)  # (plural, format) -> JSON


class WatchHub:
    """The recent history of changes, and the watchers waiting for more."""

    def __init__(self, engine: Engine, history: int = HISTORY) -> None:
        self.engine = engine
        self.entries: deque[Entry] = deque()
        self.history = history
        self.first_seq = 0  # the sequence number of entries[0]
        self.complete_after = engine.resource_version()  # no change after this rv is missing
        self.closed = False
        self.watchers = 0  # streams open now
        self.last: dict[tuple[str, int], Obj] = {}  # (plural, id) -> object, for REMEMBERED
        self._wake = asyncio.Event()
        self._unsubscribe = engine.bus.subscribe_changes(self.on_changes)

    @property
    def next_seq(self) -> int:
        return self.first_seq + len(self.entries)

    def on_changes(self, changes: Changes) -> None:
        rv = changes.resource_version
        added = [Entry(rv, k, i, False, True) for k, ids in changes.added.items() for i in ids]
        changed = [Entry(rv, k, i, False) for k, ids in changes.changed.items() for i in ids]
        gone = [Entry(rv, k, i, True, view=v) for k, views in changes.removed.items()
                for i, v in views.items()]  # fmt: skip
        said = [Entry(rv, EVENT, ev.id, False, True, view=ev) for ev in changes.events
                if ev.object is not None]  # fmt: skip
        new = [e for e in (*added, *changed, *gone, *said) if e.kind in RESOURCES_OF]
        if not new:
            return
        self.entries.extend(new)
        while len(self.entries) > self.history:
            dropped = self.entries.popleft()
            self.first_seq += 1
            self.complete_after = max(self.complete_after, dropped.rv)
        if self.watchers:  # (no stream open: nobody waits, so no event to set and renew)
            self._wake.set()
            self._wake = asyncio.Event()

    def close(self) -> None:
        """End every watch (the server is stopping)."""
        self.closed = True
        self._unsubscribe()
        self._wake.set()

    async def wait(self, seq: int, timeout: float) -> None:
        """Until entries past ``seq`` exist, the hub closes, or ``timeout`` passes."""
        if seq < self.next_seq or self.closed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    def seq_after(self, rv: int) -> int:
        """The first sequence number whose change is newer than ``rv``."""
        seq = self.next_seq
        for entry in reversed(self.entries):
            if entry.rv <= rv:
                break
            seq -= 1
        return seq

    def since(self, seq: int) -> list[Entry]:
        start = seq - self.first_seq
        if start < 0:
            raise Expired("too old resource version: the watch fell behind the history")
        return [self.entries[i] for i in range(start, len(self.entries))]

    def build(self, resource: Resource, view: Any) -> Obj:
        """``view`` as ``resource``'s object, remembered where a removal carries no view."""
        obj = resource.to_object(view)
        if resource.plural in REMEMBERED:
            self.last[(resource.plural, view.id)] = obj
        return obj

    def object_of(self, entry: Entry, resource: Resource) -> Obj | None:
        """The object ``entry`` is about, for ``resource`` (None: it is gone since)."""
        plural = resource.plural
        if plural not in entry.built:
            if entry.view is not None:
                entry.built[plural] = resource.to_object(entry.view)
            elif entry.removed:  # its last object, as some watcher was last sent it
                entry.built[plural] = self.last.pop((plural, entry.obj_id), None)
            else:
                view = VIEW_BY_ID[plural](self.engine, entry.obj_id)
                entry.built[plural] = None if view is None else self.build(resource, view)
        return entry.built[plural]


@dataclass
class WatchRequest:
    resource: Resource
    namespace: str | None
    labels: Selector
    fields: Sequence[FieldRequirement]
    table_version: str | None  # "v1" for kubectl's Table rows, None for objects
    include: str
    bookmarks: bool
    timeout_s: float

    def matches(self, obj: Obj) -> bool:
        meta = obj["metadata"]
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        if not self.labels.empty and not self.labels.matches(meta.get("labels", {})):
            return False
        if self.fields:
            values = self.resource.fields(obj)
            return all(f.matches(values) for f in self.fields)
        return True


def parse_timeout(text: str | None) -> float:
    if text is None or text == "":
        return TIMEOUT_DEFAULT_S
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        shown = text[:40] if text.isascii() and text.isprintable() else "(unprintable)"
        raise BadRequest(f"timeoutSeconds: must be a whole number of seconds (got {shown!r})")
    return float(min(int(text), TIMEOUT_MAX_S))


def parse_resource_version(text: str | None) -> int | None:
    """None: start with the current objects (absent or "0"); else the version to start after."""
    if text is None or text in ("", "0"):
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        shown = text[:40] if text.isascii() and text.isprintable() else "(unprintable)"
        raise BadRequest(f"resourceVersion: must be a resource version a list returned "
                         f"(got {shown!r})")  # fmt: skip
    return int(text)


class Stream:
    """One watcher: what it was sent, and how it writes events."""

    def __init__(self, hub: WatchHub, request: WatchRequest, response: web.StreamResponse) -> None:
        self.hub = hub
        self.req = request
        self.response = response
        self.sent: dict[int, int] = {}  # object id -> resource version last sent (matching)

    def _object_text(self, obj: Obj, entry: Entry | None) -> str:
        fmt = self.req.table_version or "object"
        key = (self.req.resource.plural, f"{fmt}:{self.req.include}")
        if entry is not None and key in entry.encoded:
            return entry.encoded[key]
        if self.req.table_version is not None:
            meta = {"resourceVersion": obj["metadata"]["resourceVersion"]}
            now = self.hub.engine.clock.now()
            shown = table(
                self.req.resource.kind, [obj], meta, now,
                include=self.req.include, version=self.req.table_version,
            )  # fmt: skip
        else:
            shown = obj
        text = json.dumps(shown, separators=(",", ":"))
        if entry is not None:
            entry.encoded[key] = text
        return text

    def line(self, kind: str, obj: Obj, entry: Entry | None = None) -> str:
        return f'{{"type":"{kind}","object":{self._object_text(obj, entry)}}}\n'

    def bookmark(self) -> str:
        r = self.req.resource
        version = str(self.hub.engine.resource_version())
        obj = {"kind": r.kind, "apiVersion": r.api_version,
               "metadata": {"resourceVersion": version}}  # fmt: skip
        return json.dumps({"type": "BOOKMARK", "object": obj}, separators=(",", ":")) + "\n"

    def initial(self, views: Iterable[Any]) -> list[str]:
        lines = []
        for view in views:
            obj = self.hub.build(self.req.resource, view)
            if self.req.matches(obj):
                self.sent[view.id] = int(obj["metadata"]["resourceVersion"])
                lines.append(self.line("ADDED", obj))
        return lines

    def seed(self, views: Iterable[Any], later: Sequence[Entry], after_rv: int) -> None:
        """What a client that listed at ``after_rv`` holds: the objects that matched then,
        as far as can be told now (those made since are not; those removed since are)."""
        plural = self.req.resource.plural
        mine = [e for e in later if plural in RESOURCES_OF[e.kind]]
        made = {e.obj_id for e in mine if e.added}
        for view in views:
            if view.id not in made and self.req.matches(self.hub.build(self.req.resource, view)):
                self.sent[view.id] = after_rv
        for e in mine:
            if e.removed and e.obj_id not in made and e.obj_id not in self.sent:
                obj = self.hub.object_of(e, self.req.resource)
                if obj is not None and self.req.matches(obj):
                    self.sent[e.obj_id] = after_rv

    def events(self, entries: Iterable[Entry]) -> list[str]:
        lines = []
        plural = self.req.resource.plural
        for entry in entries:
            if plural not in RESOURCES_OF[entry.kind]:
                continue
            obj = self.hub.object_of(entry, self.req.resource)
            if obj is None:
                continue  # gone since: its removal is a later entry
            was = entry.obj_id in self.sent
            if entry.removed:
                if was:
                    del self.sent[entry.obj_id]
                    lines.append(self.line("DELETED", obj, entry))
                continue
            rv = int(obj["metadata"]["resourceVersion"])
            if self.req.matches(obj):
                if not was:
                    self.sent[entry.obj_id] = rv
                    lines.append(self.line("ADDED", obj, entry))
                elif rv > self.sent[entry.obj_id]:
                    self.sent[entry.obj_id] = rv
                    lines.append(self.line("MODIFIED", obj, entry))
            elif was:  # stopped matching the selectors: gone from this watcher's view
                del self.sent[entry.obj_id]
                lines.append(self.line("DELETED", obj, entry))
        return lines

    async def write(self, lines: list[str]) -> None:
        if lines:
            await self.response.write("".join(lines).encode())


def expired_line(message: str) -> str:
    status = status_object(410, "Expired", message)
    return json.dumps({"type": "ERROR", "object": status}, separators=(",", ":")) + "\n"


async def serve_watch(
    request: web.Request, hub: WatchHub, req: WatchRequest, start_after: int | None
) -> web.StreamResponse:
    """Stream events until the timeout, the client leaves, or the server stops."""
    engine = hub.engine
    if start_after is not None and start_after < hub.complete_after:
        # Kubernetes answers a watch this old with an ERROR event in a 200 stream.
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(expired_line(
            f"too old resource version: {start_after} ({hub.complete_after})"
        ).encode())  # fmt: skip
        return response
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    stream = Stream(hub, req, response)
    views = req.resource.views(engine, req.namespace if req.resource.namespaced else None)
    if start_after is None:
        seq = hub.next_seq
        await stream.write(stream.initial(views))
    else:
        seq = hub.seq_after(start_after)
        stream.seed(views, hub.since(seq), start_after)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + req.timeout_s
    next_bookmark = loop.time() + BOOKMARK_EVERY_S
    hub.watchers += 1
    try:
        while not hub.closed:
            now = loop.time()
            if now >= deadline:
                break
            try:
                entries = hub.since(seq)
            except Expired as exc:
                await stream.write([expired_line(exc.message)])
                break
            seq += len(entries)
            lines = stream.events(entries)
            if req.bookmarks and now >= next_bookmark:
                lines.append(stream.bookmark())
                next_bookmark = now + BOOKMARK_EVERY_S
            await stream.write(lines)
            await hub.wait(seq, min(deadline, next_bookmark) - loop.time())
    except ConnectionResetError:  # the client left: nobody to tell
        log.debug("a watch of %s ended with its client", req.resource.plural)
    finally:
        hub.watchers -= 1
    return response
