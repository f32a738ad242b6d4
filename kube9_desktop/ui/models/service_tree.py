"""The Services as a tree: each Service -> its endpoints (one per pod its selector picks).

As the workloads tree: rows are ids only, ``data()`` reads the frozen ``ServiceView`` from
the bridge for the cell asked, and a change set becomes row-level inserts, removes and
``dataChanged`` ranges; only attaching resets the model. An endpoint's cells come from its
Service's view (the engine derives endpoints in the commit that moved them and marks the
Service changed), so a pod turning ready is one Service change here. An endpoint row stands
for its pod (``ITEM_ROLE``): the details and the pod commands serve it.
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
from kube9_desktop.engine.services import Endpoint, ServiceView
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.models.service_cells import (
    HEADER_TIPS,
    HEADERS,
    SColumn,
    endpoint_cell,
    service_cell,
)
from kube9_desktop.ui.models.tree_cells import (
    ITEM_ROLE,
    SORT_ROLE,
    ItemKind,
    TreeItem,
    endpoint_key,
    endpoint_service,
    key_id,
    key_kind,
    row_key,
)

AnyIndex = QModelIndex | QPersistentModelIndex
_SVC, _EP = int(ItemKind.SERVICE), int(ItemKind.ENDPOINT)
_COLUMNS = len(HEADERS)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DISPLAY = Qt.ItemDataRole.DisplayRole


class ServiceTreeModel(QAbstractItemModel):
    changes_applied = Signal()  # after a ChangeSet became row updates

    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.applying = False
        self._services: list[int] = []  # sorted Service ids
        self._endpoints: dict[int, list[int]] = {}  # Service id -> sorted pod ids
        self._views: dict[int, ServiceView | None] = {}  # read during one loop iteration
        # Their endpoints by pod id: a Service of 5,000 pods is no linear search per cell.
        self._by_pod: dict[int, dict[int, Endpoint]] = {}
        self._forget_views = QTimer(self)
        self._forget_views.setSingleShot(True)
        self._forget_views.setInterval(0)
        self._forget_views.timeout.connect(self._forget)
        bridge.engine_attached.connect(self.reload)
        bridge.cluster_changed.connect(self.apply_changes)
        if bridge.attached:
            self.reload()

    # ---- structure -------------------------------------------------------------------

    def service_ids(self) -> list[int]:
        return list(self._services)

    def endpoint_pod_ids(self, service_id: int) -> list[int]:
        return list(self._endpoints.get(service_id, ()))

    def index_of(self, item: TreeItem, column: int = 0) -> QModelIndex:
        """A Service's index (a pod's: its first endpoint row); invalid when not shown."""
        if item.kind is ItemKind.SERVICE:
            return self._service_index(item.id, column)
        if item.kind is ItemKind.POD:
            for svc_id in self._services:
                row = _find(self._endpoints[svc_id], item.id)
                if row >= 0:
                    return self.createIndex(row, column, endpoint_key(svc_id, item.id))
        return QModelIndex()

    def _service_index(self, service_id: int, column: int = 0) -> QModelIndex:
        row = _find(self._services, service_id)
        if row < 0:
            return QModelIndex()
        return self.createIndex(row, column, row_key(ItemKind.SERVICE, service_id))

    # ---- the model's interface (integer keys only) -------------------------------------

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if row < 0 or not 0 <= column < _COLUMNS:
            return QModelIndex()
        if not parent.isValid():
            if row < len(self._services):
                svc_id = self._services[row]
                return self.createIndex(row, column, row_key(ItemKind.SERVICE, svc_id))
            return QModelIndex()
        key = parent.internalId()
        if parent.column() != 0 or key_kind(key) != _SVC:
            return QModelIndex()
        svc_id = key_id(key)
        pods = self._endpoints.get(svc_id, [])
        if row < len(pods):
            return self.createIndex(row, column, endpoint_key(svc_id, pods[row]))
        return QModelIndex()

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        key = index.internalId()
        if key_kind(key) == _EP:
            return self._service_index(endpoint_service(key))
        return QModelIndex()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._services)
        key = parent.internalId()
        if parent.column() != 0 or key_kind(key) != _SVC:
            return 0
        return len(self._endpoints.get(key_id(key), ()))

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
        if key_kind(index.internalId()) == _EP:
            return _FLAGS | Qt.ItemFlag.ItemNeverHasChildren
        return _FLAGS

    # ---- data ------------------------------------------------------------------------

    def _forget(self) -> None:
        self._views.clear()
        self._by_pod.clear()

    def _view(self, service_id: int) -> ServiceView | None:
        if service_id in self._views:
            return self._views[service_id]
        if not self._views:
            self._forget_views.start()
        view = self.bridge.service(service_id)
        self._views[service_id] = view
        return view

    def _endpoint(self, service_id: int, pod_id: int) -> Endpoint | None:
        by_pod = self._by_pod.get(service_id)
        if by_pod is None:
            view = self._view(service_id)
            by_pod = {e.pod_id: e for e in view.endpoints} if view is not None else {}
            self._by_pod[service_id] = by_pod
        return by_pod.get(pod_id)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        key = index.internalId()
        kind = key_kind(key)
        if role == ITEM_ROLE:
            item_kind = ItemKind.SERVICE if kind == _SVC else ItemKind.POD
            return TreeItem(item_kind, key_id(key))
        if kind == _SVC:
            view = self._view(key_id(key))
            if view is None:
                return None
            if role == SORT_ROLE and index.column() == SColumn.NAME:
                return view.name.lower()
            return service_cell(view, index.column(), role)
        endpoint = self._endpoint(endpoint_service(key), key_id(key))
        if endpoint is None:
            return None
        if role == SORT_ROLE and index.column() == SColumn.NAME:
            return endpoint.pod_name.lower()
        return endpoint_cell(endpoint, index.column(), role)

    # ---- updates ---------------------------------------------------------------------

    def reload(self) -> None:
        """Read every Service again (only when an engine attaches)."""
        self._forget()
        self.beginResetModel()
        services = self.bridge.services()
        self._services = sorted(s.id for s in services)
        self._endpoints = {s.id: sorted(e.pod_id for e in s.endpoints) for s in services}
        self.endResetModel()

    def apply_changes(self, changes: ChangeSet) -> None:
        """Turn a ChangeSet's Services into row-level updates: inserts, removes, dataChanged."""
        ids = changes.ids(Kind.SERVICE)
        if not ids:
            return
        self.applying = True
        try:
            self._forget()
            changed = []
            for svc_id in sorted(ids):
                if self._place_service(svc_id):
                    changed.append(svc_id)
            self._emit_services(changed)
        finally:
            self.applying = False
        self.changes_applied.emit()

    def _place_service(self, svc_id: int) -> bool:
        """Insert, remove or update one Service and its endpoint rows; True: its row (and
        its endpoints' rows) still shown, to be refreshed."""
        view = self._view(svc_id)
        shown = svc_id in self._endpoints
        if view is None:
            if shown:
                row = _find(self._services, svc_id)
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._services[row]
                del self._endpoints[svc_id]
                self.endRemoveRows()
            return False
        wanted = sorted(e.pod_id for e in view.endpoints)
        if not shown:
            row = bisect_left(self._services, svc_id)
            self.beginInsertRows(QModelIndex(), row, row)
            self._services.insert(row, svc_id)
            self._endpoints[svc_id] = []
            self.endInsertRows()
        parent = self._service_index(svc_id)
        pods = self._endpoints[svc_id]
        for pod_id in set(pods) - set(wanted):
            row = _find(pods, pod_id)
            self.beginRemoveRows(parent, row, row)
            del pods[row]
            self.endRemoveRows()
        for pod_id in sorted(set(wanted) - set(pods)):
            row = bisect_left(pods, pod_id)
            self.beginInsertRows(parent, row, row)
            pods.insert(row, pod_id)
            self.endInsertRows()
        return True

    def _emit_services(self, svc_ids: list[int]) -> None:
        """One dataChanged over the Services' rows and one per Service over its endpoints
        (the name column left out: names never change, so a sorted proxy keeps its order)."""
        rows = [_find(self._services, s) for s in svc_ids]
        rows = [r for r in rows if r >= 0]
        if not rows:
            return
        self.dataChanged.emit(
            self.index(min(rows), SColumn.READY), self.index(max(rows), _COLUMNS - 1), []
        )
        for svc_id in svc_ids:
            count = len(self._endpoints.get(svc_id, ()))
            if count:
                parent = self._service_index(svc_id)
                self.dataChanged.emit(
                    self.index(0, SColumn.READY, parent),
                    self.index(count - 1, _COLUMNS - 1, parent),
                    [],
                )


def _find(ids: list[int], obj_id: int) -> int:
    row = bisect_left(ids, obj_id)
    return row if row < len(ids) and ids[row] == obj_id else -1
