"""The Service commands as QActions (the Services menu, the toolbar, the services tree's
context menu): new, edit and delete (confirmed), each enabled only when the selection allows
it. Edit and Delete share Ctrl+E and Delete with the workload commands: only one of them is
enabled at a time (a Service or a Deployment is selected, never both)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QStyle, QWidget

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.service_ops import ServiceOutcome
from kube9_desktop.engine.services import ServiceView
from kube9_desktop.ui.actions import ClusterActions, confirm_delete, enable, new_action
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.dialogs.service_form import ServiceForm
from kube9_desktop.ui.dialogs.traffic_form import TrafficForm
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

SP = QStyle.StandardPixmap
PICK_SERVICE = "Select a Service first"


class ServiceActions(QObject):
    message_posted = Signal(str, str)  # level ("info" | "error"), text for a person

    def __init__(self, bridge: EngineBridge, cluster: ClusterActions, window: QWidget) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.window = window
        self.item: TreeItem | None = None
        self.confirm: QMessageBox | None = None
        self.form: ServiceForm | None = None  # the one open, if any
        self.new_service = new_action(
            self, window, "NewServiceAction", "New &Service…", "Ctrl+Shift+S",
            "Create a Service: a stable address in front of the ready pods its selector picks",
            self._on_new_service_triggered, SP.SP_DriveNetIcon,
        )  # fmt: skip
        self.edit = new_action(
            self, window, "EditServiceAction", "&Edit Service…", "Ctrl+E",
            "Change the selected Service's selector, ports, type or session affinity",
            self._on_edit_triggered, SP.SP_FileDialogContentsView,
        )  # fmt: skip
        self.delete = new_action(
            self, window, "DeleteServiceAction", "&Delete Service…",
            QKeySequence.StandardKey.Delete,
            "Delete the selected Service (its pods stay; its address and node ports are freed)",
            self._on_delete_triggered, SP.SP_TrashIcon,
        )  # fmt: skip
        self.send_traffic = new_action(
            self, window, "SendTrafficAction", "Send &Traffic…", "Ctrl+Shift+T",
            "Send HTTP requests through the selected Service at a rate, and chart them per "
            "endpoint in its details",
            self._on_send_traffic_triggered, SP.SP_MediaPlay,
        )  # fmt: skip
        self.stop_traffic = new_action(
            self, window, "StopTrafficAction", "Stop Traffic", None,
            "Stop the selected Service's traffic (its figures stay in the details)",
            self._on_stop_traffic_triggered, SP.SP_MediaStop,
        )  # fmt: skip
        self.traffic_form: TrafficForm | None = None
        self.all = (self.new_service, self.edit, self.delete, self.send_traffic, self.stop_traffic)

        self.menu = QMenu("Ser&vices", window)
        self.menu.setObjectName("ServicesMenu")
        self.menu.addAction(self.new_service)
        self.menu.addSeparator()
        self.menu.addActions([self.edit, self.delete])
        self.menu.addSeparator()
        self.menu.addActions([self.send_traffic, self.stop_traffic])
        self.context_menu = QMenu(window)
        self.context_menu.setObjectName("ServicesContextMenu")
        self.context_menu.addActions([self.edit, self.delete])
        self.context_menu.addActions([self.send_traffic, self.stop_traffic])
        self.context_menu.addSeparator()
        self.context_menu.addActions([cluster.kill_pod, cluster.delete])  # an endpoint's pod
        self.context_menu.addSeparator()
        self.context_menu.addAction(self.new_service)

        bridge.engine_attached.connect(self.update_enabled)
        bridge.cluster_changed.connect(self._on_bridge_cluster_changed)
        # A run ends on its own (no change says so): Stop Traffic follows within a second.
        bridge.ticked.connect(self._on_bridge_ticked)
        self.update_enabled()

    # ---- state -------------------------------------------------------------------------

    def set_selection(self, item: TreeItem | None) -> None:
        self.item = item
        self.update_enabled()

    def selected_service(self) -> ServiceView | None:
        if self.item is None or self.item.kind is not ItemKind.SERVICE:
            return None
        return self.bridge.service(self.item.id)

    def update_enabled(self) -> None:
        s = self.selected_service()
        enable(self.new_service, self.bridge.attached, "The engine is not running yet")
        enable(self.edit, s is not None, PICK_SERVICE)
        enable(self.delete, s is not None, PICK_SERVICE)
        running = s is not None and self.bridge.traffic_state(s.id) == "running"
        enable(
            self.send_traffic, s is not None and not running,
            "Traffic is already running through this Service" if running else PICK_SERVICE,
        )  # fmt: skip
        enable(self.stop_traffic, running, "No traffic is running through this Service")

    def _on_bridge_ticked(self) -> None:
        if self.item is not None and self.item.kind is ItemKind.SERVICE:
            self.update_enabled()

    def _on_bridge_cluster_changed(self, changes: ChangeSet) -> None:
        item = self.item
        if (
            item is not None
            and item.kind is ItemKind.SERVICE
            and item.id in changes.ids(Kind.SERVICE)
        ):
            self.update_enabled()

    # ---- dialogs -----------------------------------------------------------------------

    def _open(
        self, form: ServiceForm | TrafficForm, on_accepted: Callable[[], None], slot: str = "form"
    ) -> None:
        """Open ``form`` (deleted when closed), kept in ``self.<slot>`` while it is open."""
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.accepted.connect(on_accepted)
        form.destroyed.connect(lambda _o=None: setattr(self, slot, None))
        setattr(self, slot, form)
        form.open()

    def _on_new_service_triggered(self) -> None:
        form = ServiceForm(self.bridge, self.window)

        def created() -> None:
            result = form.created
            if isinstance(result, ServiceOutcome):
                v = result.view
                self.message_posted.emit(
                    "info", f"Service {v.name} created at {v.cluster_ip} ({v.spec.type})"
                )

        self._open(form, created)

    def _on_edit_triggered(self) -> None:
        s = self.selected_service()
        if s is None:
            return
        form = ServiceForm(self.bridge, self.window, editing=s)

        def saved() -> None:
            result = form.created
            if isinstance(result, ServiceOutcome):
                text = result.message
                self.message_posted.emit("info", text if "Service" in text else f"{s.name}: {text}")

        self._open(form, saved)

    # ---- traffic -----------------------------------------------------------------------

    def _on_send_traffic_triggered(self) -> None:
        s = self.selected_service()
        if s is None:
            return
        form = TrafficForm(self.bridge, s, self.window)

        def started() -> None:
            self.update_enabled()
            self.message_posted.emit(
                "info", f"Traffic to {s.name} started: its details chart the requests"
            )

        self._open(form, started, "traffic_form")

    def _on_stop_traffic_triggered(self) -> None:
        s = self.selected_service()
        if s is None:
            return
        svc_id, name = s.id, s.name

        def stopped(_run: object) -> None:
            self.update_enabled()
            self.message_posted.emit("info", f"Traffic to {name} stopped")

        self.bridge.run(f"Stop traffic to {name}", lambda e: e.stop_traffic(svc_id), stopped)

    # ---- delete ------------------------------------------------------------------------

    def _on_delete_triggered(self) -> None:
        s = self.selected_service()
        if s is None:
            return
        ports = sorted(s.spec.node_ports())
        freed = f" and node port(s) {', '.join(map(str, ports))}" if ports else ""
        text = f"Delete Service {s.name}? Its pods keep running; they lose this address."
        detail = f"Its cluster IP {s.cluster_ip}{freed} are freed."
        if self.confirm is not None:
            self.confirm.close()
        svc_id, name = s.id, s.name
        self.confirm = confirm_delete(
            self.window, text, detail, lambda _keep: self._delete(svc_id, name)
        )
        self.confirm.finished.connect(lambda _r: setattr(self, "confirm", None))

    def _delete(self, svc_id: int, name: str) -> None:
        self.bridge.run(
            f"Delete Service {name}",
            lambda e: e.delete_service(svc_id),
            lambda o: self.message_posted.emit("info", o.message or f"Service {name} deleted"),
        )
