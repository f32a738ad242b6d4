"""MainWindow: assembles the trees (nodes, workloads, services) and the pod list, the details, the
docks, the toolbar, menus and status bar.

It holds no cluster logic: the widgets read the bridge, the actions run operations through
it, and the window only wires their signals together and keeps its layout in preferences.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QIcon
from PySide6.QtWidgets import (
    QDockWidget,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.logs import log_path
from kube9_desktop.resources import icon_path
from kube9_desktop.settings import Settings
from kube9_desktop.ui.actions import ClusterActions
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.charts import ChartsPanel
from kube9_desktop.ui.cluster_panel import ClusterPanel
from kube9_desktop.ui.collector import LoadedObjects
from kube9_desktop.ui.details import DetailsPanel
from kube9_desktop.ui.event_dock import EventDock
from kube9_desktop.ui.kube_export_actions import KubernetesExportActions
from kube9_desktop.ui.kubeconfig_actions import KubeconfigActions
from kube9_desktop.ui.log_actions import LogActions
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from kube9_desktop.ui.node_actions import NodeActions
from kube9_desktop.ui.notices import MessageBar, StartupPage
from kube9_desktop.ui.palette import install_palette
from kube9_desktop.ui.pod_list_actions import PodListActions
from kube9_desktop.ui.pod_list_panel import PodListPanel
from kube9_desktop.ui.preferences import Preferences
from kube9_desktop.ui.scenarios_panel import ScenariosDock
from kube9_desktop.ui.service_actions import ServiceActions
from kube9_desktop.ui.services_panel import ServicesPanel
from kube9_desktop.ui.shell import ShellActions
from kube9_desktop.ui.shortcuts import clear_on_escape, install_shortcuts
from kube9_desktop.ui.status_bar import ClusterStatusBar
from kube9_desktop.ui.what_if import WhatIfActions
from kube9_desktop.ui.workload_actions import WorkloadActions
from kube9_desktop.ui.workloads_panel import WorkloadsPanel
from kube9_desktop.ui.yaml_view import ManifestActions

TITLE = "Kube-9 Desktop"
WORKLOAD_KINDS = (ItemKind.DEPLOYMENT, ItemKind.REPLICASET)
SPLITTER_KEY = "window/splitter"
DEFAULT_SIZE = (1400, 900)
NARROW = 1280  # narrower windows put the charts beside the events, not beside the details


def fit_to_screen(size: tuple[int, int]) -> tuple[int, int]:
    """The default size, shrunk to fit a small screen (a 1280x800 laptop, say)."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return size
    room = screen.availableGeometry()
    return (min(size[0], room.width()), min(size[1], room.height()))


class MainWindow(QMainWindow):
    quit_requested = Signal()

    def __init__(self, bridge: EngineBridge, prefs: Preferences, settings: Settings) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowTitle(TITLE)
        icon = icon_path()
        if icon is not None:
            self.setWindowIcon(QIcon(str(icon)))
        self.bridge = bridge
        self.prefs = prefs
        self.settings = settings
        self.crash_dialog: QMessageBox | None = None

        self.commands = ClusterActions(bridge, prefs, settings, self)
        self.workload_commands = WorkloadActions(bridge, self.commands, self)
        self.manifests = ManifestActions(bridge, self)
        self.node_commands = NodeActions(bridge, self)
        self.commands.context_menu.addSeparator()
        self.node_commands.add_to(self.commands.context_menu)
        self.manifests.add_to(self.commands.context_menu)
        self.manifests.add_to(self.workload_commands.context_menu)
        self.service_commands = ServiceActions(bridge, self.commands, self)
        self.manifests.add_to(self.service_commands.context_menu)
        self.logs = LogActions(bridge, self)
        self.shells = ShellActions(bridge, self)
        self.kubeconfig = KubeconfigActions(bridge, self)
        self.kube_export = KubernetesExportActions(bridge, self)
        for menu in (self.commands.context_menu, self.workload_commands.context_menu):
            self.logs.add_to(menu)
            self.shells.add_to(menu)
        self.cluster = ClusterPanel(bridge)
        self.cluster.add_node_requested.connect(self.commands.add_node.trigger)
        self.what_if = WhatIfActions(bridge, self, self.cluster.model, self.cluster.what_if_banner,
                                     self.cluster.selected_items)  # fmt: skip
        self.cluster.rows_selected.connect(self.what_if.refresh)
        bridge.engine_attached.connect(self.what_if.refresh)
        self.commands.context_menu.addAction(self.what_if.action)
        self.workloads = WorkloadsPanel(bridge)
        self.trees = QTabWidget()
        self.trees.setObjectName("TreeTabs")
        self.trees.setDocumentMode(True)
        self.trees.addTab(self.cluster, "Nodes")
        self.trees.addTab(self.workloads, "Workloads")
        self.services = ServicesPanel(bridge)
        self.trees.addTab(self.services, "Services")
        self.pods = PodListPanel(bridge, prefs)
        self.trees.addTab(self.pods, "Pods")
        self.pod_commands = PodListActions(bridge, self, self.pods)
        self.logs.add_to(self.pod_commands.context_menu)
        self.shells.add_to(self.pod_commands.context_menu)
        self.manifests.add_to(self.pod_commands.context_menu)
        self.details = DetailsPanel(bridge)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("MainSplitter")
        self.splitter.addWidget(self.trees)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 440])

        self.startup = StartupPage(str(log_path(settings.data_dir)))
        self.startup.quit.clicked.connect(self.quit_requested.emit)
        self.pages = QStackedWidget()
        self.pages.setObjectName("MainPages")
        self.pages.addWidget(self.startup)
        self.pages.addWidget(self.splitter)
        central = QWidget()
        self.messages = MessageBar(central)  # floats over the pages: rows never move under it
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.charts = ChartsPanel(bridge, settings, prefs=prefs)
        self.charts_dock = QDockWidget("Charts", self)
        self.charts_dock.setObjectName("ChartsDock")
        self.charts_dock.setWidget(self.charts)
        self.events = EventDock(bridge, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.events)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.charts_dock)
        self.scenarios = ScenariosDock(self)
        if settings.runtime in ("process", "docker"):
            self.scenarios.panel.live_runtime = settings.runtime
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.scenarios)
        self.scenarios.hide()

        self.toolbar = self._build_toolbar()
        self._build_menus()
        self.status = ClusterStatusBar(bridge)
        self.setStatusBar(self.status)

        self.cluster.selection_changed.connect(self._on_cluster_selection_changed)
        self.cluster.context_menu_requested.connect(self.commands.context_menu.popup)
        self.workloads.selection_changed.connect(self._on_workloads_selection_changed)
        self.workloads.context_menu_requested.connect(self.workload_commands.context_menu.popup)
        self.services.selection_changed.connect(self._on_services_selection_changed)
        self.services.context_menu_requested.connect(self.service_commands.context_menu.popup)
        self.pods.selection_changed.connect(self._on_pods_selection_changed)
        self.pods.pod_activated.connect(self._on_pods_pod_activated)
        self.pods.context_menu_requested.connect(self.pod_commands.context_menu.popup)
        self.trees.currentChanged.connect(self._on_trees_current_changed)
        self.details.rollback_requested.connect(self.workload_commands.rollback_to)
        self.details.yaml_requested.connect(self.manifests.open_view)
        self.details.logs_requested.connect(self.logs.open_for)
        self.events.item_requested.connect(self._on_events_item_requested)
        self.commands.message_posted.connect(self.messages.show_message)
        self.node_commands.message_posted.connect(self.messages.show_message)
        self.what_if.message_posted.connect(self.messages.show_message)
        self.what_if.shown.connect(self.charts.show_what_if)
        self.kubeconfig.message_posted.connect(self.messages.show_message)
        self.kube_export.message_posted.connect(self.messages.show_message)
        self.workload_commands.message_posted.connect(self.messages.show_message)
        self.service_commands.message_posted.connect(self.messages.show_message)
        self.manifests.message_posted.connect(self.messages.show_message)
        self.shells.message_posted.connect(self.messages.show_message)
        self.shells.status_posted.connect(lambda text: self.status.showMessage(text, 8000))
        self.pod_commands.message_posted.connect(self.messages.show_message)
        self.commands.quit_requested.connect(self.quit_requested.emit)
        self.commands.settings_applied.connect(self._on_commands_settings_applied)
        self.loaded = LoadedObjects(bridge, self)
        bridge.engine_attached.connect(self._on_bridge_engine_attached)
        bridge.progress_reported.connect(self._on_bridge_progress_reported)
        bridge.operation_failed.connect(self._on_bridge_operation_failed)

        width, height = fit_to_screen(DEFAULT_SIZE)
        self.resize(width, height)
        if width < NARROW:
            # The charts need ~520 px: on a small screen they share the bottom with the events
            # (a tab each), and the trees and the details keep the whole width.
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.charts_dock)
            self.tabifyDockWidget(self.events, self.charts_dock)
            self.events.raise_()
        else:
            self.resizeDocks([self.charts_dock], [560], Qt.Orientation.Horizontal)
            self.tabifyDockWidget(self.charts_dock, self.scenarios)  # a tab beside the charts
        self.resizeDocks([self.events], [min(300, height // 3)], Qt.Orientation.Vertical)
        self._restore_state()
        if bridge.attached:
            self._on_bridge_engine_attached()

    # ---- assembly --------------------------------------------------------------------

    def _build_toolbar(self) -> QToolBar:
        a = self.commands
        bar = QToolBar("Main toolbar", self)
        bar.setObjectName("MainToolBar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addActions([a.add_node, a.create_pod, self.workload_commands.new_deployment])
        bar.addAction(self.service_commands.new_service)
        bar.addSeparator()
        failure = QToolButton(bar)
        failure.setObjectName("SimulateFailureButton")
        failure.setDefaultAction(a.simulate_failure)  # one click: crash; the arrow: the modes
        failure.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        failure.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addWidget(failure)
        bar.addActions([a.kill_pod, a.recover, a.delete])
        bar.addSeparator()
        bar.addAction(a.open_settings)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        return bar

    def _build_menus(self) -> None:
        a = self.commands
        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu("&File")
        file_menu.setObjectName("FileMenu")
        file_menu.addAction(self.manifests.export)
        file_menu.addAction(self.kube_export.export)
        file_menu.addSeparator()
        self.kubeconfig.add_to(file_menu)
        file_menu.addSeparator()
        file_menu.addAction(a.open_settings)
        file_menu.addSeparator()
        file_menu.addAction(a.quit)
        cluster_menu = menu_bar.addMenu("&Cluster")
        cluster_menu.setObjectName("ClusterMenu")
        cluster_menu.addActions([a.add_node, a.create_pod])
        cluster_menu.addSeparator()
        cluster_menu.addMenu(a.failure_menu)
        cluster_menu.addActions([a.kill_pod, a.recover, a.delete])
        cluster_menu.addSeparator()
        self.node_commands.add_to(cluster_menu)
        cluster_menu.addAction(self.what_if.action)
        cluster_menu.addSeparator()
        self.shells.add_to(cluster_menu)
        menu_bar.addMenu(self.workload_commands.menu)
        menu_bar.addMenu(self.service_commands.menu)
        view_menu = menu_bar.addMenu("&View")
        view_menu.setObjectName("ViewMenu")
        focus_filter = view_menu.addAction("&Filter the tree")
        focus_filter.setObjectName("FocusFilterAction")
        focus_filter.setShortcut("Ctrl+F")
        focus_filter.triggered.connect(lambda: self.current_filter().setFocus())
        view_menu.addAction(self.manifests.view_yaml)
        view_menu.addAction(self.logs.show_logs)
        view_menu.addSeparator()
        view_menu.addAction(self.scenarios.open_action)
        view_menu.addSeparator()
        view_menu.addAction(self.charts_dock.toggleViewAction())
        view_menu.addAction(self.events.toggleViewAction())
        view_menu.addAction(self.toolbar.toggleViewAction())
        help_menu = menu_bar.addMenu("&Help")
        help_menu.setObjectName("HelpMenu")
        help_menu.addAction(a.about)
        install_shortcuts(self, help_menu, self.current_filter)
        for box in (self.cluster.filter, self.workloads.filter, self.services.filter,
                    self.pods.filter):  # fmt: skip
            clear_on_escape(box)
        install_palette(self)
        # Shortcuts of actions that live only in the toolbar still need the window.
        self.addActions([a.simulate_failure])

    # ---- engine life -----------------------------------------------------------------

    def _on_bridge_engine_attached(self) -> None:
        self.pages.setCurrentWidget(self.splitter)
        self.cluster.tree.setFocus()

    def _on_bridge_progress_reported(self, message: str) -> None:
        self.startup.set_progress(message)
        self.status.showMessage(message, 5000)

    def _on_bridge_operation_failed(self, what: str, message: str) -> None:
        self.messages.show_message("error", f"{what} failed: {message}")

    def show_startup_error(self, message: str) -> None:
        """The environment stopped the engine (Docker down, port busy…): say what to do."""
        self.pages.setCurrentWidget(self.startup)
        self.startup.show_error(message)
        self.status.runtime.setText("The engine is not running")

    def show_store_locked(self, message: str) -> None:
        """Another engine holds this cluster: name it in a dialog; closing the dialog quits."""
        self.show_startup_error(message)
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Kube-9 Desktop is already running", message, parent=self
        )
        box.setObjectName("StoreLockedDialog")
        box.setInformativeText(
            "Only one engine may run a cluster at a time. Closing this message quits; the other "
            "instance and its cluster are left as they are."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.finished.connect(self._on_store_locked_dialog_finished)
        box.open()

    def _on_store_locked_dialog_finished(self, _result: int) -> None:
        self.quit_requested.emit()

    def show_crash(self, summary: str, log_path: str) -> None:
        """A bug: say so, point at the log, and keep the window usable."""
        box = self.crash_dialog
        if box is None:
            box = QMessageBox(
                QMessageBox.Icon.Critical, "Kube-9 Desktop hit a bug", "", parent=self
            )
            box.setObjectName("CrashDialog")
            box.setStandardButtons(QMessageBox.StandardButton.Close)
            box.finished.connect(self._on_crash_dialog_finished)
            self.crash_dialog = box
        box.setText("Something went wrong inside Kube-9 Desktop. Your cluster is safe.")
        box.setInformativeText(
            f"{summary}\n\nThe details are in the log file:\n{log_path}\n\n"
            "Please include it when you report this."
        )
        box.open()

    def _on_crash_dialog_finished(self, _result: int) -> None:
        if self.crash_dialog is not None:
            self.crash_dialog.deleteLater()
            self.crash_dialog = None

    # ---- wiring ----------------------------------------------------------------------

    def _select(self, item: TreeItem | None) -> None:
        self.details.show_item(item)
        self.commands.set_selection(item)
        self.node_commands.set_selection(item)
        self.workload_commands.set_selection(item)
        self.service_commands.set_selection(item)
        self.manifests.set_selection(item)
        self.logs.set_selection(item)
        self.shells.set_selection(item)

    def _on_cluster_selection_changed(self, item: TreeItem | None) -> None:
        if self.trees.currentWidget() is self.cluster:
            self._select(item)

    def _on_workloads_selection_changed(self, item: TreeItem | None) -> None:
        if self.trees.currentWidget() is self.workloads:
            self._select(item)

    def _on_services_selection_changed(self, item: TreeItem | None) -> None:
        if self.trees.currentWidget() is self.services:
            self._select(item)

    def _show_listed_pod(self, item: TreeItem | None) -> None:
        """The pod list's pod in the details; the trees' commands stand down (the list has its
        own, for the whole selection, on the same keys)."""
        self.commands.set_selection(None)
        self.node_commands.set_selection(None)
        self.workload_commands.set_selection(None)
        self.service_commands.set_selection(None)
        self.details.show_item(item)
        self.manifests.set_selection(item)
        self.logs.set_selection(item)
        self.shells.set_selection(item)

    def _on_pods_selection_changed(self, pod_ids: list[int]) -> None:
        """The details follow the row last clicked (the current one), as the tree's do."""
        self.pod_commands.set_selection(pod_ids)
        if self.trees.currentWidget() is self.pods:
            self._show_listed_pod(self.pods.selected())

    def _on_pods_pod_activated(self, item: TreeItem) -> None:
        self._show_listed_pod(item)

    def _on_trees_current_changed(self, _index: int) -> None:
        """The shown tree's selection is the window's selection."""
        panel = self.trees.currentWidget()
        if isinstance(panel, ClusterPanel | WorkloadsPanel | ServicesPanel):
            self._select(panel.selected())
        elif panel is self.pods:
            self._show_listed_pod(self.pods.selected())

    def current_filter(self) -> QLineEdit:
        """The filter box of the tab shown (what / and Ctrl+F focus)."""
        panel = self.trees.currentWidget()
        if isinstance(panel, ClusterPanel | WorkloadsPanel | ServicesPanel | PodListPanel):
            return panel.filter
        return self.cluster.filter

    def _on_events_item_requested(self, item: TreeItem) -> None:
        """Show an event's object in the tree that holds it (the one on screen first)."""
        if item.kind is ItemKind.SERVICE:
            self.trees.setCurrentWidget(self.services)
            if not self.services.select(item):
                self.details.show_item(item)
            return
        panels: list[ClusterPanel | WorkloadsPanel] = [self.cluster, self.workloads]
        if item.kind in WORKLOAD_KINDS or self.trees.currentWidget() is self.workloads:
            panels.reverse()
        for panel in panels:
            if item.kind in WORKLOAD_KINDS and panel is self.cluster:
                continue
            self.trees.setCurrentWidget(panel)
            if panel.select(item):
                return
        self.details.show_item(item)

    def _on_commands_settings_applied(self, settings: Settings) -> None:
        self.settings = settings

    # ---- layout persistence ----------------------------------------------------------

    def save_state(self) -> None:
        """Geometry and dock layout into the preferences (restored by the next window)."""
        self.prefs.save_window_state(self.saveGeometry(), self.saveState())
        self.prefs.q.setValue(SPLITTER_KEY, self.splitter.saveState())
        self.pods.save_columns()
        self.prefs.q.sync()

    def _restore_state(self) -> None:
        geometry, state = self.prefs.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        splitter = self.prefs.q.value(SPLITTER_KEY)
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.scenarios.panel.shutdown()  # a run under way is killed, not left behind
        super().closeEvent(event)
