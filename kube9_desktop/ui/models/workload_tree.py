"""The workloads as a tree: Deployments -> their ReplicaSets -> their pods; ReplicaSets without
a Deployment sit at the top level after the Deployments.

As in the cluster tree, rows are ids only and ``data()`` reads frozen views from the bridge
for the cell asked. Change sets become row-level inserts, removes and ``dataChanged`` ranges
(a Deployment's change refreshes its ReplicaSet rows too: their availability moves with time
and the controller's steps, not with events of their own); only attaching resets the model.
Keys are ``tree_cells.row_key`` values, the same a pod has in the cluster tree.
"""

from __future__ import annotations

from bisect import bisect_left, insort
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
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.models.tree_cells import (
    ITEM_ROLE,
    SORT_ROLE,
    ItemKind,
    TreeItem,
    key_id,
    key_kind,
    row_key,
)
from kube9_desktop.ui.models.workload_cells import (
    HEADER_TIPS,
    HEADERS,
    WColumn,
    deployment_cell,
    replicaset_cell,
    workload_pod_cell,
)

AnyIndex = QModelIndex | QPersistentModelIndex
_D, _RS, _POD = int(ItemKind.DEPLOYMENT), int(ItemKind.REPLICASET), int(ItemKind.POD)
_COLUMNS = len(HEADERS)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DISPLAY = Qt.ItemDataRole.DisplayRole
BARE = -1  # the "Deployment id" of ReplicaSets without one (shown at the top level)


class WorkloadTreeModel(QAbstractItemModel):
    changes_applied = Signal()  # after a ChangeSet became row updates

    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.applying = False
        self._deployments: list[int] = []  # sorted Deployment ids
        self._replicasets: dict[int, list[int]] = {BARE: []}  # Deployment id -> sorted RS ids
        self._pods: dict[int, list[int]] = {}  # RS id -> sorted pod ids
        self._rs_parent: dict[int, int] = {}  # RS id -> Deployment id or BARE
        self._pod_parent: dict[int, int] = {}  # pod id -> RS id
        self._names: dict[int, str] = {}  # row key -> name (names never change)
        self._views: dict[int, Any] = {}  # views read during one loop iteration
        self._forget_views = QTimer(self)
        self._forget_views.setSingleShot(True)
        self._forget_views.setInterval(0)
        self._forget_views.timeout.connect(self._views.clear)
        bridge.engine_attached.connect(self.reload)
        bridge.cluster_changed.connect(self.apply_changes)
        if bridge.attached:
            self.reload()

    # ---- structure -------------------------------------------------------------------

    def deployment_ids(self) -> list[int]:
        return list(self._deployments)

    def replicaset_ids(self, deployment_id: int = BARE) -> list[int]:
        """ReplicaSet ids shown under a Deployment (the bare ones by default)."""
        return list(self._replicasets.get(deployment_id, ()))

    def pod_ids(self, rs_id: int) -> list[int]:
        return list(self._pods.get(rs_id, ()))

    def index_of(self, item: TreeItem, column: int = 0) -> QModelIndex:
        """The index of an item, or an invalid index when it is not in the tree."""
        if item.kind is ItemKind.DEPLOYMENT:
            row = _find(self._deployments, item.id)
            return QModelIndex() if row < 0 else self.createIndex(row, column, item.key)
        if item.kind is ItemKind.REPLICASET:
            return self._rs_index(item.id, column)
        if item.kind is ItemKind.POD:
            rs_id = self._pod_parent.get(item.id)
            if rs_id is None:
                return QModelIndex()
            row = bisect_left(self._pods[rs_id], item.id)
            return self.createIndex(row, column, item.key)
        return QModelIndex()

    def _rs_index(self, rs_id: int, column: int = 0) -> QModelIndex:
        parent = self._rs_parent.get(rs_id)
        if parent is None:
            return QModelIndex()
        row = bisect_left(self._replicasets[parent], rs_id)
        if parent == BARE:
            row += len(self._deployments)
        return self.createIndex(row, column, row_key(ItemKind.REPLICASET, rs_id))

    def _parent_index(self, parent_key: int) -> QModelIndex:
        """The index of a Deployment or ReplicaSet row by key (root for BARE)."""
        if parent_key == BARE:
            return QModelIndex()
        return self.index_of(TreeItem.from_key(parent_key))

    # ---- the model's interface (integer keys only) -------------------------------------

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if row < 0 or not 0 <= column < _COLUMNS:
            return QModelIndex()
        if not parent.isValid():
            n = len(self._deployments)
            if row < n:
                return self.createIndex(
                    row, column, row_key(ItemKind.DEPLOYMENT, self._deployments[row])
                )
            bare = self._replicasets[BARE]
            if row - n < len(bare):
                return self.createIndex(row, column, row_key(ItemKind.REPLICASET, bare[row - n]))
            return QModelIndex()
        if parent.column() != 0:
            return QModelIndex()
        key = parent.internalId()
        kind = key_kind(key)
        if kind == _D:
            children = self._replicasets.get(key_id(key), [])
            if row < len(children):
                return self.createIndex(row, column, row_key(ItemKind.REPLICASET, children[row]))
        elif kind == _RS:
            pods = self._pods.get(key_id(key), [])
            if row < len(pods):
                return self.createIndex(row, column, row_key(ItemKind.POD, pods[row]))
        return QModelIndex()

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        key = index.internalId()
        kind = key_kind(key)
        if kind == _RS:
            where = self._rs_parent.get(key_id(key), BARE)
            if where == BARE:
                return QModelIndex()
            row = _find(self._deployments, where)
            return (
                QModelIndex()
                if row < 0
                else self.createIndex(row, 0, row_key(ItemKind.DEPLOYMENT, where))
            )
        if kind == _POD:
            rs_id = self._pod_parent.get(key_id(key))
            return QModelIndex() if rs_id is None else self._rs_index(rs_id)
        return QModelIndex()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._deployments) + len(self._replicasets[BARE])
        if parent.column() != 0:
            return 0
        key = parent.internalId()
        kind = key_kind(key)
        if kind == _D:
            return len(self._replicasets.get(key_id(key), ()))
        if kind == _RS:
            return len(self._pods.get(key_id(key), ()))
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
        if key_kind(index.internalId()) == _POD:
            return _FLAGS | Qt.ItemFlag.ItemNeverHasChildren
        return _FLAGS

    # ---- data ------------------------------------------------------------------------

    def _view(self, key: int) -> Any:
        try:
            return self._views[key]
        except KeyError:
            pass
        if not self._views:
            self._forget_views.start()
        kind, obj_id = key_kind(key), key_id(key)
        if kind == _D:
            view: Any = self.bridge.deployment(obj_id)
        elif kind == _RS:
            view = self.bridge.replicaset(obj_id)
        else:
            view = self.bridge.pod(obj_id)
        self._views[key] = view
        return view

    def name_of(self, key: int) -> str:
        name = self._names.get(key)
        if name is None:
            view = self._view(key)
            name = view.name if view is not None else ""
            self._names[key] = name
        return name

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        key = index.internalId()
        if role == ITEM_ROLE:
            return TreeItem.from_key(key)
        if role == SORT_ROLE and index.column() == WColumn.NAME:
            return self.name_of(key).lower()
        view = self._view(key)
        if view is None:
            return None
        kind, column = key_kind(key), index.column()
        if kind == _D:
            return deployment_cell(view, column, role)
        if kind == _RS:
            return replicaset_cell(view, self._is_current(view.id, view.revision), column, role)
        return workload_pod_cell(view, column, role)

    def _is_current(self, rs_id: int, revision: int) -> bool | None:
        owner = self._rs_parent.get(rs_id, BARE)
        if owner == BARE:
            return None
        d = self._view(row_key(ItemKind.DEPLOYMENT, owner))
        return d is not None and d.revision == revision

    # ---- updates ---------------------------------------------------------------------

    def reload(self) -> None:
        """Read every workload again (only when an engine attaches)."""
        self._views.clear()
        self.beginResetModel()
        deployments = self.bridge.deployments()
        known = {d.id for d in deployments}
        self._deployments = sorted(known)
        self._replicasets = {d: [] for d in known}
        self._replicasets[BARE] = []
        self._pods, self._rs_parent, self._pod_parent, self._names = {}, {}, {}, {}
        for rs in self.bridge.replicasets():
            parent = rs.owner.id if rs.owner is not None and rs.owner.id in known else BARE
            insort(self._replicasets[parent], rs.id)
            self._rs_parent[rs.id] = parent
            self._pods[rs.id] = sorted(rs.pod_ids)
            for pod_id in rs.pod_ids:
                self._pod_parent[pod_id] = rs.id
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
        touched: dict[int, set[int]] = {}  # parent key (BARE: root) -> row keys to refresh
        replicasets = changes.ids(Kind.REPLICASET)
        pods = changes.ids(Kind.POD)
        for d_id in sorted(changes.ids(Kind.DEPLOYMENT)):
            view = self.bridge.deployment(d_id)
            shown = d_id in self._replicasets
            if view is None:
                if shown:
                    self._remove_deployment(d_id)
                continue
            if not shown:
                self._insert_deployment(d_id)
            else:
                touched.setdefault(BARE, set()).add(row_key(ItemKind.DEPLOYMENT, d_id))
                children = self._replicasets[d_id]
                key = row_key(ItemKind.DEPLOYMENT, d_id)
                touched.setdefault(key, set()).update(
                    row_key(ItemKind.REPLICASET, r) for r in children
                )
            replicasets.update(
                set(self._replicasets[d_id]).symmetric_difference(view.replicaset_ids)
            )
        for rs_id in sorted(replicasets):
            pods.update(self._place_replicaset(rs_id, touched))
        for pod_id in sorted(pods):
            self._place_pod(pod_id, touched)
        for parent, keys in touched.items():
            self._emit_rows(parent, keys)

    def _place_replicaset(self, rs_id: int, touched: dict[int, set[int]]) -> set[int]:
        """Insert, remove, move or refresh one ReplicaSet row; returns pods to look at."""
        view = self.bridge.replicaset(rs_id)
        current = self._rs_parent.get(rs_id)
        if view is None:
            if current is not None:
                self._remove_replicaset(rs_id)
                self._touch_deployment(current, touched)
            return set()
        owner = view.owner.id if view.owner is not None else BARE
        target = owner if owner in self._replicasets else BARE
        if current is None:
            self._insert_replicaset(rs_id, target)
        elif current != target:
            self._remove_replicaset(rs_id)
            self._insert_replicaset(rs_id, target)
        else:
            parent_key = BARE if target == BARE else row_key(ItemKind.DEPLOYMENT, target)
            touched.setdefault(parent_key, set()).add(row_key(ItemKind.REPLICASET, rs_id))
        self._touch_deployment(target, touched)
        return set(self._pods.get(rs_id, ())).symmetric_difference(view.pod_ids)

    def _place_pod(self, pod_id: int, touched: dict[int, set[int]]) -> None:
        view = self.bridge.pod(pod_id)
        current = self._pod_parent.get(pod_id)
        owner = view.owner if view is not None else None
        target = owner.id if owner is not None and owner.kind == "ReplicaSet" else None
        if target is not None and target not in self._rs_parent:
            target = None  # its ReplicaSet is not shown (yet): it arrives with it
        if current is not None and current != target:
            self._remove_pod(pod_id, current)
            self._touch_replicaset(current, touched)
        if target is None:
            return
        if current != target:
            self._insert_pod(pod_id, target)
        else:
            touched.setdefault(row_key(ItemKind.REPLICASET, target), set()).add(
                row_key(ItemKind.POD, pod_id)
            )
        self._touch_replicaset(target, touched)

    def _touch_deployment(self, d_id: int, touched: dict[int, set[int]]) -> None:
        if d_id != BARE and d_id in self._replicasets:
            touched.setdefault(BARE, set()).add(row_key(ItemKind.DEPLOYMENT, d_id))

    def _touch_replicaset(self, rs_id: int, touched: dict[int, set[int]]) -> None:
        """A pod's change moves its ReplicaSet's counts (and its Deployment's)."""
        parent = self._rs_parent.get(rs_id)
        if parent is None:
            return
        parent_key = BARE if parent == BARE else row_key(ItemKind.DEPLOYMENT, parent)
        touched.setdefault(parent_key, set()).add(row_key(ItemKind.REPLICASET, rs_id))
        self._touch_deployment(parent, touched)

    def _insert_deployment(self, d_id: int) -> None:
        row = bisect_left(self._deployments, d_id)
        self.beginInsertRows(QModelIndex(), row, row)
        self._deployments.insert(row, d_id)
        self._replicasets[d_id] = []
        self.endInsertRows()

    def _remove_deployment(self, d_id: int) -> None:
        row = _find(self._deployments, d_id)
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._deployments[row]
        for rs_id in self._replicasets.pop(d_id):
            self._forget_replicaset(rs_id)
        self._names.pop(row_key(ItemKind.DEPLOYMENT, d_id), None)
        self.endRemoveRows()

    def _insert_replicaset(self, rs_id: int, parent: int) -> None:
        siblings = self._replicasets[parent]
        row = bisect_left(siblings, rs_id)
        if parent == BARE:
            self.beginInsertRows(
                QModelIndex(), len(self._deployments) + row, len(self._deployments) + row
            )
        else:
            self.beginInsertRows(self._parent_index(row_key(ItemKind.DEPLOYMENT, parent)), row, row)
        siblings.insert(row, rs_id)
        self._rs_parent[rs_id] = parent
        self._pods[rs_id] = []
        self.endInsertRows()

    def _remove_replicaset(self, rs_id: int) -> None:
        index = self._rs_index(rs_id)
        parent = self._rs_parent[rs_id]
        self.beginRemoveRows(index.parent(), index.row(), index.row())
        self._replicasets[parent].remove(rs_id)
        self._forget_replicaset(rs_id)
        self.endRemoveRows()

    def _forget_replicaset(self, rs_id: int) -> None:
        for pod_id in self._pods.pop(rs_id, []):
            self._pod_parent.pop(pod_id, None)
            self._names.pop(row_key(ItemKind.POD, pod_id), None)
        self._rs_parent.pop(rs_id, None)
        self._names.pop(row_key(ItemKind.REPLICASET, rs_id), None)

    def _insert_pod(self, pod_id: int, rs_id: int) -> None:
        pods = self._pods[rs_id]
        row = bisect_left(pods, pod_id)
        self.beginInsertRows(self._rs_index(rs_id), row, row)
        pods.insert(row, pod_id)
        self._pod_parent[pod_id] = rs_id
        self.endInsertRows()

    def _remove_pod(self, pod_id: int, rs_id: int) -> None:
        pods = self._pods[rs_id]
        row = bisect_left(pods, pod_id)
        self.beginRemoveRows(self._rs_index(rs_id), row, row)
        del pods[row]
        self._pod_parent.pop(pod_id, None)
        self._names.pop(row_key(ItemKind.POD, pod_id), None)
        self.endRemoveRows()

    def _emit_rows(self, parent_key: int, keys: set[int]) -> None:
        """One dataChanged over the min..max rows of ``keys`` under one parent (the name
        column left out: names never change, so a name-sorted proxy keeps its order)."""
        if parent_key != BARE and self._parent_index(parent_key).isValid() is False:
            return
        rows = [self.index_of(TreeItem.from_key(k)).row() for k in keys]
        rows = [r for r in rows if r >= 0]
        if not rows:
            return
        parent = self._parent_index(parent_key)
        top = self.index(min(rows), WColumn.STATUS, parent)
        bottom = self.index(max(rows), _COLUMNS - 1, parent)
        if top.isValid() and bottom.isValid():
            self.dataChanged.emit(top, bottom, [])


def _find(ids: list[int], obj_id: int) -> int:
    row = bisect_left(ids, obj_id)
    return row if row < len(ids) and ids[row] == obj_id else -1
