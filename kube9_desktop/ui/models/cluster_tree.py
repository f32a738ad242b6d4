"""The cluster as a tree: nodes -> pods -> containers, plus a "Pending" group for waiting pods.

An unreachable node also shows, after its pods, the stale copies it still runs (split brain:
``NodeView.stale_pods``); the pods that replaced them carry a mark of their own.

Rows are ids only (node ids, pod ids, container positions); ``data()`` reads the frozen views
from the bridge for exactly the cell asked. Changes arrive as ``ChangeSet``s and become
row-level inserts, removes (a pod that moves is removed and inserted) and a ``dataChanged``
per changed row (pod rows only under parents a view has opened); only attaching an engine
resets the model. Values that change without an event
(heartbeat age, container states, live usage) are refreshed on the bridge's tick with one
``dataChanged`` per parent that a view has expanded (usage is read for the usage columns only,
when a cell is painted).

Index encoding: ``internalId`` is the row key of ``tree_cells.row_key`` (kind in the low
bits, then the node or pod id, and a container's position), the one place keys are made.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.model import NodeView, StaleCopy
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.models.tree_cells import (
    HEADER_TIPS,
    HEADERS,
    ITEM_ROLE,
    PENDING,
    PENDING_KEY,
    SORT_ROLE,
    VOLATILE_ROLES,
    Column,
    ItemKind,
    TreeItem,
    container_cell,
    container_key,
    key_id,
    key_kind,
    node_cell,
    node_key,
    pending_cell,
    pod_cell,
    pod_key,
    replacement_cell,
    row_key,
    stale_cell,
    stale_key,
    wants_usage,
)

AnyIndex = QModelIndex | QPersistentModelIndex
_NODE, _GROUP, _POD, _CONTAINER, _STALE = (
    int(k)
    for k in (
        ItemKind.NODE, ItemKind.PENDING_GROUP, ItemKind.POD, ItemKind.CONTAINER,
        ItemKind.STALE_COPY,
    )
)  # fmt: skip
_COLUMNS = len(HEADERS)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole


def what_if_cell(value: Any, role: int, mark: str, tip: str) -> Any:
    """A status cell while a what-if preview is shown: the projected state instead of the
    current one (``mark``), and why as its tooltip; the status colour's dot stays."""
    if role == _DISPLAY:
        return mark
    if role == _TOOLTIP:
        return tip
    return value


ROW_SIGNALS = 200  # changed rows under one parent signalled one by one; more go as one range


class ClusterTreeModel(QAbstractItemModel):
    changes_applied = Signal()  # after a ChangeSet became row updates (views restore selection)

    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.applying = False  # True while a ChangeSet is being applied
        self._node_ids: list[int] = []  # sorted
        self._children: dict[int, list[int]] = {}  # node id (or PENDING) -> sorted pod ids
        self._children[PENDING] = []
        self._where: dict[int, int] = {}  # pod id -> node id or PENDING
        self._container_counts: dict[int, int] = {}
        self._names: dict[int, str] = {}  # row key -> name (names never change)
        self._expanded: set[int] = set()  # keys of parents a view shows open
        # Keys of parents a view has opened since the reset: only their children's data changes
        # are signalled. A proxy maps a parent's children once one of them is named in a
        # dataChanged, and from then on forwards every row removed there, which makes a
        # QTreeView lay out all its rows again (17-35 ms at 1,000 nodes) though the parent is
        # closed; a parent never opened has nothing on screen and nothing mapped to keep in step
        # (its own row's dataChanged still goes, so a filter re-checks it).
        self._opened: set[int] = set()
        self._stale: dict[int, list[int]] = {}  # node id -> stale copies' pod ids (sorted)
        self._copies: dict[int, StaleCopy] = {}  # stale copy's pod id -> the copy
        self._replacing: dict[int, StaleCopy] = {}  # replacement pod id -> the copy it replaced
        # The what-if overlay: pod id -> (mark, tooltip); the nodes the preview fails.
        self._what_if: dict[int, tuple[str, str]] = {}
        self._what_if_nodes: set[int] = set()
        # Views read while painting one frame are kept until control returns to the loop.
        self._views: dict[int, Any] = {}
        self._forget_views = QTimer(self)
        self._forget_views.setSingleShot(True)
        self._forget_views.setInterval(0)
        self._forget_views.timeout.connect(self._views.clear)
        bridge.ticked.connect(self.refresh_volatile)  # heartbeat ages have no events
        bridge.engine_attached.connect(self.reload)
        bridge.cluster_changed.connect(self.apply_changes)
        if bridge.attached:
            self.reload()

    # ---- structure -------------------------------------------------------------------

    def node_ids(self) -> list[int]:
        return list(self._node_ids)

    def pod_ids(self, node_id: int = PENDING) -> list[int]:
        """Pod ids shown under a node (or under the Pending group by default)."""
        return list(self._children.get(node_id, ()))

    def parent_of_pod(self, pod_id: int) -> int | None:
        """The node id a pod is shown under, PENDING, or None when it is not in the tree."""
        return self._where.get(pod_id)

    def pending_row(self) -> int:
        """The Pending group's row (after the nodes)."""
        return len(self._node_ids)

    def pending_count(self) -> int:
        return len(self._children[PENDING])

    def index_of(self, item: TreeItem, column: int = 0) -> QModelIndex:
        """The index of an item, or an invalid index when it is not in the tree."""
        if item.kind is ItemKind.NODE:
            row = self._node_row(item.id)
            return QModelIndex() if row < 0 else self.createIndex(row, column, item.key)
        if item.kind is ItemKind.PENDING_GROUP:
            return self.createIndex(len(self._node_ids), column, PENDING_KEY)
        if item.kind is ItemKind.STALE_COPY:
            copy = self._copies.get(item.id)
            if copy is None:
                return QModelIndex()
            row = len(self._children[copy.node_id])
            row += bisect_left(self._stale[copy.node_id], item.id)
            return self.createIndex(row, column, item.key)
        parent_id = self._where.get(item.id)
        if parent_id is None:
            return QModelIndex()
        if item.kind is ItemKind.POD:
            row = bisect_left(self._children[parent_id], item.id)
            return self.createIndex(row, column, item.key)
        if item.container >= self._containers(item.id):
            return QModelIndex()
        return self.createIndex(item.container, column, item.key)

    def _node_row(self, node_id: int) -> int:
        row = bisect_left(self._node_ids, node_id)
        return row if row < len(self._node_ids) and self._node_ids[row] == node_id else -1

    def _parent_index(self, parent_id: int) -> QModelIndex:
        if parent_id == PENDING:
            return self.createIndex(len(self._node_ids), 0, PENDING_KEY)
        return self.createIndex(self._node_row(parent_id), 0, node_key(parent_id))

    def _containers(self, pod_id: int) -> int:
        count = self._container_counts.get(pod_id)
        if count is None:
            view = self.bridge.pod(pod_id)
            count = len(view.spec.containers) if view else 0
            self._container_counts[pod_id] = count
        return count

    # The methods below run for every cell a view or proxy touches: integer keys, no objects.

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if row < 0 or not 0 <= column < _COLUMNS:
            return QModelIndex()
        if not parent.isValid():
            if row < len(self._node_ids):
                return self.createIndex(row, column, node_key(self._node_ids[row]))
            if row == len(self._node_ids):
                return self.createIndex(row, column, PENDING_KEY)
            return QModelIndex()
        if parent.column() != 0:
            return QModelIndex()
        key = parent.internalId()
        kind = key_kind(key)
        if kind == _POD:
            if row >= self._containers(key_id(key)):
                return QModelIndex()
            return self.createIndex(row, column, container_key(key_id(key), row))
        if kind == _CONTAINER:
            return QModelIndex()
        pods = self._children.get(PENDING if kind == _GROUP else key_id(key), [])
        if row >= len(pods):
            stale = self._stale.get(key_id(key), ()) if kind == _NODE else ()
            if row - len(pods) >= len(stale):
                return QModelIndex()
            return self.createIndex(row, column, stale_key(stale[row - len(pods)]))
        return self.createIndex(row, column, pod_key(pods[row]))

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        key = index.internalId()
        kind = key_kind(key)
        if kind == _POD:
            where = self._where.get(key_id(key))
            return QModelIndex() if where is None else self._parent_index(where)
        if kind == _CONTAINER:
            pod_id = key_id(key)
            where = self._where.get(pod_id)
            if where is None:
                return QModelIndex()
            row = bisect_left(self._children[where], pod_id)
            return self.createIndex(row, 0, pod_key(pod_id))
        if kind == _STALE:
            copy = self._copies.get(key_id(key))
            return QModelIndex() if copy is None else self._parent_index(copy.node_id)
        return QModelIndex()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._node_ids) + 1
        if parent.column() != 0:
            return 0
        key = parent.internalId()
        kind = key_kind(key)
        if kind == _NODE:
            node_id = key_id(key)
            return len(self._children.get(node_id, ())) + len(self._stale.get(node_id, ()))
        if kind == _GROUP:
            return len(self._children[PENDING])
        if kind == _POD:
            return self._containers(key_id(key))
        return 0

    def hasChildren(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return _COLUMNS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation is not Qt.Orientation.Horizontal or not 0 <= section < _COLUMNS:
            return None
        if role == _DISPLAY:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if key_kind(index.internalId()) in (_CONTAINER, _STALE):
            return _FLAGS | Qt.ItemFlag.ItemNeverHasChildren
        return _FLAGS

    # ---- data ------------------------------------------------------------------------

    def name_of(self, key: int) -> str:
        """A row's name, from a cache (names never change), for sorting and filtering."""
        name = self._names.get(key)
        if name is None:
            kind = key_kind(key)
            if kind == _NODE:
                node = self.bridge.node(key_id(key))
                name = node.name if node else ""
            elif kind == _POD:
                pod = self.bridge.pod(key_id(key))
                name = pod.name if pod else ""
            elif kind == _STALE:
                copy = self._copies.get(key_id(key))
                return copy.name if copy else ""
            else:
                return "" if kind == _CONTAINER else "\uffff"
            self._names[key] = name
        return name

    def sort_key(self, index: AnyIndex) -> Any:
        """What the proxy sorts a cell by (names come from the cache, the rest from views)."""
        if index.column() == Column.NAME and key_kind(index.internalId()) != _CONTAINER:
            return self.name_of(index.internalId()).lower()
        return self.data(index, SORT_ROLE)

    def _view(self, key: int) -> Any:
        """The node or pod view for a row key, cached for the rest of this loop iteration."""
        try:
            return self._views[key]
        except KeyError:
            pass
        if not self._views:
            self._forget_views.start()
        view = (
            self.bridge.node(key_id(key))
            if key_kind(key) == _NODE
            else self.bridge.pod(key_id(key))
        )
        self._views[key] = view
        return view

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        key = index.internalId()
        kind = key_kind(key)
        if role == ITEM_ROLE:
            return TreeItem.from_key(key)
        column = index.column()
        if kind == _NODE:
            node = self._view(key)
            if node is None:
                return None
            usage = self.bridge.node_usage(node.id) if wants_usage(column, role) else None
            cell = node_cell(node, column, role, usage)
            if column == Column.STATUS and node.id in self._what_if_nodes:
                return what_if_cell(cell, role, "✖ would fail",
                                    "What if this node failed: its pods are marked")  # fmt: skip
            return cell
        if kind == _GROUP:
            return pending_cell(len(self._children[PENDING]), column, role)
        if kind == _STALE:
            copy = self._stale_copy(key_id(key))
            return None if copy is None else stale_cell(copy, column, role)
        pod = self._view(pod_key(key_id(key)) if kind == _CONTAINER else key)
        if pod is None:
            return None
        if kind == _POD:
            usage = self.bridge.pod_usage(pod.id) if wants_usage(column, role) else None
            value = pod_cell(pod, column, role, usage)
            mark = self._what_if.get(pod.id) if column == Column.STATUS else None
            if mark is not None:
                value = what_if_cell(value, role, *mark)
            replaced = self._replacing.get(pod.id)
            return value if replaced is None else replacement_cell(replaced, column, role, value)
        position = TreeItem.from_key(key).container
        if position >= len(pod.containers):
            return None
        return container_cell(pod, position, column, role)

    # ---- the what-if overlay ----------------------------------------------------------

    def set_what_if(self, marks: dict[int, tuple[str, str]], nodes: set[int]) -> None:
        """Mark pods with where a what-if preview sends them (empty: the overlay goes)."""
        touched = set(self._what_if) | set(marks)
        touched_nodes = self._what_if_nodes | nodes
        self._what_if, self._what_if_nodes = dict(marks), set(nodes)
        for node_id in touched_nodes:
            index = self.index_of(TreeItem(ItemKind.NODE, node_id))
            if index.isValid():
                self.dataChanged.emit(index, index, [_DISPLAY, _TOOLTIP])
        for pod_id in touched:
            index = self.index_of(TreeItem(ItemKind.POD, pod_id))
            if index.isValid():
                self.dataChanged.emit(index, index, [_DISPLAY, _TOOLTIP])

    def what_if_marks(self) -> dict[int, tuple[str, str]]:
        return dict(self._what_if)

    def _stale_copy(self, pod_id: int) -> StaleCopy | None:
        """A stale copy as its node's view says now (its replacement may have been placed)."""
        shown = self._copies.get(pod_id)
        if shown is None:
            return None
        node = self._view(node_key(shown.node_id))
        stale = node.stale_pods if node is not None else ()
        return next((c for c in stale if c.pod_id == pod_id), shown)

    # ---- updates ---------------------------------------------------------------------

    def reload(self) -> None:
        """Read the whole cluster again (only when an engine attaches)."""
        self._views.clear()
        self.beginResetModel()
        nodes = sorted(self.bridge.nodes(), key=lambda n: n.id)
        self._node_ids = [n.id for n in nodes]
        self._children = {n.id: list(n.pod_ids) for n in nodes}
        self._children[PENDING] = sorted(self.bridge.pending_pod_ids())
        self._where = {p: nid for nid, pods in self._children.items() for p in pods}
        self._container_counts.clear()
        self._names = {row_key(ItemKind.NODE, n.id): n.name for n in nodes}
        self._expanded.clear()
        self._opened.clear()
        self._stale, self._copies, self._replacing = {}, {}, {}
        for n in nodes:
            if n.stale_pods:  # (a thousand healthy nodes have none: no call each)
                self._sync_stale(n, set(), emit=False)
        self.endResetModel()

    def apply_changes(self, changes: ChangeSet) -> None:
        """Turn a ChangeSet into row-level updates: inserts, removes, dataChanged."""
        self.applying = True
        try:
            self._apply(changes)
        finally:
            self.applying = False
        self.changes_applied.emit()

    def _apply(self, changes: ChangeSet) -> None:
        self._views.clear()
        pods = changes.ids(Kind.POD)
        gone_nodes: list[int] = []
        changed_nodes: set[int] = set()
        pending_before = len(self._children[PENDING])
        for node_id in sorted(changes.ids(Kind.NODE)):
            view = self.bridge.node(node_id)
            if view is None:
                if node_id in self._children and node_id != PENDING:
                    gone_nodes.append(node_id)
                    pods.update(self._children[node_id])
                continue
            self._names[row_key(ItemKind.NODE, node_id)] = view.name
            if node_id not in self._children:
                self._insert_node(node_id)
            else:
                changed_nodes.add(node_id)
            shown = self._children[node_id]
            if len(shown) != len(view.pod_ids) or set(shown) != set(view.pod_ids):
                pods.update(set(shown).symmetric_difference(view.pod_ids))
            if view.stale_pods or node_id in self._stale:
                self._sync_stale(view, pods)
        touched: dict[int, list[int]] = {}  # parent id -> rows whose data changed
        for pod_id in sorted(pods):
            self._place_pod(pod_id, touched, changed_nodes)
        for node_id in gone_nodes:
            self._remove_node(node_id)
        changed_nodes.difference_update(gone_nodes)
        rows = [self._node_row(n) for n in changed_nodes if n in self._children]
        self._emit_each(QModelIndex(), rows)
        if pending_before != len(self._children[PENDING]) or PENDING in touched:
            group = self._parent_index(PENDING)
            first = group.siblingAtColumn(Column.STATUS)
            self.dataChanged.emit(first, group.siblingAtColumn(Column.INFO), [])
        for parent_id, rows in touched.items():
            parent = self._parent_index(parent_id)
            if parent.internalId() in self._opened:
                self._emit_each(parent, rows)

    def _place_pod(self, pod_id: int, touched: dict[int, list[int]], nodes: set[int]) -> None:
        view = self.bridge.pod(pod_id)
        current = self._where.get(pod_id)
        if view is None:
            if current is not None:
                self._remove_pod(pod_id, current)
                nodes.add(current)
            return
        target = PENDING if view.node_id is None else view.node_id
        if target != PENDING and target not in self._children:
            if self.bridge.node(target) is None:
                target = PENDING  # bound to a node we cannot see (yet): show it waiting
            else:
                self._insert_node(target)
        if current is None:
            self._insert_pod(pod_id, target)
        elif current != target:
            self._move_pod(pod_id, current, target)
            nodes.add(current)
            self._names[row_key(ItemKind.POD, pod_id)] = view.name
        else:
            touched.setdefault(target, []).append(bisect_left(self._children[target], pod_id))
            pod_item = TreeItem(ItemKind.POD, pod_id)
            if pod_item.key in self._expanded:
                self._emit_rows(self.index_of(pod_item), len(view.containers) - 1)
        nodes.add(target)

    def _sync_stale(self, node: NodeView, pods: set[int], emit: bool = True) -> None:
        """Stale copy rows under ``node`` as its view lists them; the pods that replace them
        (before and after) join ``pods`` so their marks are redrawn."""
        new = {c.pod_id: c for c in node.stale_pods}
        for pod_id in [p for p, c in new.items() if self._copies.get(p, c).node_id != node.id]:
            del new[pod_id]  # a pod stale on two nodes at once is shown under the first
        shown = self._stale.setdefault(node.id, [])
        base = len(self._children[node.id])
        parent = self._parent_index(node.id) if emit else QModelIndex()
        for pod_id in [p for p in shown if p not in new]:
            row = base + shown.index(pod_id)
            if emit:
                self.beginRemoveRows(parent, row, row)
            shown.remove(pod_id)
            self._forget_copy(self._copies.pop(pod_id), pods)
            if emit:
                self.endRemoveRows()
        for pod_id, copy in sorted(new.items()):
            old = self._copies.get(pod_id)
            if old is not None:
                self._forget_copy(old, pods)
            else:
                row = bisect_left(shown, pod_id)
                if emit:
                    self.beginInsertRows(parent, base + row, base + row)
                shown.insert(row, pod_id)
                if emit:
                    self.endInsertRows()
            self._copies[pod_id] = copy
            if copy.replaced_by is not None:
                self._replacing[copy.replaced_by] = copy
                pods.add(copy.replaced_by)
        if not shown:
            del self._stale[node.id]
        elif emit:
            self._emit_rows(parent, base + len(shown) - 1, [base, base + len(shown) - 1])

    def _forget_copy(self, copy: StaleCopy, pods: set[int]) -> None:
        if copy.replaced_by is not None and self._replacing.get(copy.replaced_by) is copy:
            del self._replacing[copy.replaced_by]
            pods.add(copy.replaced_by)

    def _insert_node(self, node_id: int) -> None:
        row = bisect_left(self._node_ids, node_id)
        self.beginInsertRows(QModelIndex(), row, row)
        self._node_ids.insert(row, node_id)
        self._children[node_id] = []
        self.endInsertRows()

    def _remove_node(self, node_id: int) -> None:
        row = self._node_row(node_id)
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._node_ids[row]
        for pod_id in self._children.pop(node_id):
            self._forget_pod(pod_id)
        for pod_id in self._stale.pop(node_id, ()):
            self._forget_copy(self._copies.pop(pod_id), set())
        self._expanded.discard(row_key(ItemKind.NODE, node_id))
        self._opened.discard(row_key(ItemKind.NODE, node_id))
        self._names.pop(row_key(ItemKind.NODE, node_id), None)
        self.endRemoveRows()

    def _insert_pod(self, pod_id: int, parent_id: int) -> None:
        pods = self._children[parent_id]
        row = bisect_left(pods, pod_id)
        self.beginInsertRows(self._parent_index(parent_id), row, row)
        pods.insert(row, pod_id)
        self._where[pod_id] = parent_id
        self.endInsertRows()

    def _remove_pod(self, pod_id: int, parent_id: int) -> None:
        pods = self._children[parent_id]
        row = bisect_left(pods, pod_id)
        self.beginRemoveRows(self._parent_index(parent_id), row, row)
        del pods[row]
        self._forget_pod(pod_id)
        self.endRemoveRows()

    def _forget_pod(self, pod_id: int) -> None:
        self._where.pop(pod_id, None)
        self._container_counts.pop(pod_id, None)
        self._names.pop(row_key(ItemKind.POD, pod_id), None)
        self._expanded.discard(row_key(ItemKind.POD, pod_id))
        self._opened.discard(row_key(ItemKind.POD, pod_id))

    def _move_pod(self, pod_id: int, source: int, target: int) -> None:
        """A pod changed parents: remove + insert. (A row move makes QSortFilterProxyModel
        drop and rebuild every mapping, which costs seconds at 1,000 nodes; views restore
        their selection by id after ``changes_applied``.)"""
        self._remove_pod(pod_id, source)
        self._insert_pod(pod_id, target)

    def _emit_each(self, parent: QModelIndex, rows: list[int]) -> None:
        """dataChanged for exactly these rows, a signal each while they are few: a view then
        repaints only the changed rows it shows, where one range over them repaints its whole
        viewport (35-50 ms for the 1,000-node tree) though they were all off screen."""
        if len(rows) > ROW_SIGNALS:
            self._emit_rows(parent, 0, rows)
            return
        for row in sorted(set(rows)):
            self._emit_rows(parent, row, [row])

    def _emit_rows(
        self,
        parent: QModelIndex,
        last: int,
        rows: list[int] | None = None,
        first_column: int = Column.STATUS,
        roles: list[int] | None = None,
    ) -> None:
        """One dataChanged over a parent's rows (``rows`` given: their min..max, else 0..last).

        Names never change, so the name column stays out: a proxy sorted by name then keeps
        its order instead of re-sorting every row in the range."""
        first = 0
        if rows:
            first, last = min(rows), max(rows)
        if last < first or first < 0:
            return
        top = self.index(first, first_column, parent)
        bottom = self.index(last, _COLUMNS - 1, parent)
        if top.isValid() and bottom.isValid():
            self.dataChanged.emit(top, bottom, roles or [])

    # ---- volatile values -------------------------------------------------------------

    def set_expanded(self, index: AnyIndex, expanded: bool) -> None:
        """A view opened or closed ``index``: its children join or leave the 1 Hz refresh."""
        if not index.isValid():
            return
        if expanded:
            self._expanded.add(index.internalId())
            self._opened.add(index.internalId())
        else:
            self._expanded.discard(index.internalId())

    def refresh_volatile(self) -> None:
        """Heartbeat ages and container states: one dataChanged per shown parent."""
        self._views.clear()
        roles = VOLATILE_ROLES
        self._emit_rows(QModelIndex(), len(self._node_ids) - 1, None, Column.STATUS, roles)
        for key in list(self._expanded):
            item = TreeItem.from_key(key)
            if item.kind is ItemKind.NODE and item.id in self._children:
                last = len(self._children[item.id]) - 1
                self._emit_rows(self._parent_index(item.id), last, None, Column.STATUS, roles)
            elif item.kind is ItemKind.PENDING_GROUP:
                last = len(self._children[PENDING]) - 1
                self._emit_rows(self._parent_index(PENDING), last, None, Column.STATUS, roles)
            elif item.kind is ItemKind.POD and item.id in self._where:
                last = self._containers(item.id) - 1
                self._emit_rows(self.index_of(item), last, None, Column.STATUS, roles)
