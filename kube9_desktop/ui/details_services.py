"""The details page of a Service: its address, type, node ports, session affinity and
selector, a ports table (port → target port, node port) and an endpoints table (pod, node,
IP:port, ready or not), one line per row."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QVBoxLayout, QWidget

from kube9_desktop.engine.services import NODE_PORT, ServiceView
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui.details_pages import group, value_label
from kube9_desktop.ui.details_table import Shown, Table
from kube9_desktop.ui.icons import status_color
from kube9_desktop.ui.models.service_cells import (
    endpoint_address,
    endpoint_word,
    selector_text,
    service_state,
)


class ServicePage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ServiceDetails")
        self.state = value_label("ServiceState")
        self.address = value_label("ServiceAddress")
        self.type = value_label("ServiceType")
        self.node_ports = value_label("ServiceNodePorts")
        self.affinity = value_label("ServiceAffinity")
        self.selector = value_label("ServiceSelector")
        self.labels = value_label("ServiceLabels")
        self.created = value_label("ServiceCreated")
        form = QFormLayout()
        for caption, widget in (
            ("Endpoints", self.state),
            ("Cluster IP", self.address),
            ("Type", self.type),
            ("Node ports", self.node_ports),
            ("Session affinity", self.affinity),
            ("Selector", self.selector),
            ("Labels", self.labels),
            ("Created", self.created),
        ):
            form.addRow(caption, widget)
        self.ports = Table("ServicePorts", ("Name", "Port", "Target port", "Node port"), 2)
        self.endpoints = Table("ServiceEndpoints", ("Pod", "Ready", "Address", "Node"), 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(group("Ports", "ServicePortsGroup", self.ports))
        layout.addWidget(group("Endpoints", "ServiceEndpointsGroup", self.endpoints))
        layout.addStretch(1)

    def show_service(self, s: ServiceView) -> None:
        spec = s.spec
        word, color = service_state(s)
        ready, total = len(s.ready_endpoints), len(s.endpoints)
        self.state.setText(
            f"<b style='color:{status_color(color).name()}'>{word}</b> — {ready} of {total} ready"
        )
        self.address.setText(s.cluster_ip)
        self.type.setText(
            spec.type
            + (" (each port also on 127.0.0.1:<node port>)" if spec.type == NODE_PORT else "")
        )
        ports = sorted(spec.node_ports())
        self.node_ports.setText(", ".join(map(str, ports)) if ports else "none")
        self.affinity.setText(spec.session_affinity)
        self.selector.setText(
            selector_text(s) + ("" if spec.selector else " (selects no pod: no endpoints)")
        )
        self.labels.setText(", ".join(f"{k}={v}" for k, v in spec.labels.items()) or "none")
        self.created.setText(fmt.clock(s.created_at))
        self.ports.set_rows(
            [
                (
                    p.name or "—",
                    f"{p.port}/{p.protocol}",
                    str(p.target_port),
                    str(p.node_port) if spec.type == NODE_PORT and p.node_port else "—",
                )
                for p in spec.ports
            ]
        )
        rows = []
        for e in s.endpoints:
            e_word, e_color = endpoint_word(e)
            every = ", ".join(f"{p.name or 'port'} {e.ip}:{p.port}" for p in e.ports)
            rows.append(
                (
                    e.pod_name,
                    (e_word, e_color),
                    Shown(endpoint_address(e), tip=every),
                    e.node_name,
                )
            )
        self.endpoints.set_rows(rows)
        self.endpoints.setVisible(bool(rows))
