"""TrafficForm: send HTTP traffic through a Service (the engine's generator), validated with
the API's own request model as the user types."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QWidget

from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.service_specs import TrafficCreate
from kube9_desktop.engine.services import ServiceView
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs._fields import (
    FORM,
    FieldRows,
    body_errors,
    error_map,
    keyed_error,
    quantity_value,
)
from kube9_desktop.ui.dialogs.engine_form import EngineForm, Operation

FIELDS = ("rate", "duration_s", "concurrency", "path", "port")


def form_errors(raw: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for path, message in raw.items():
        path, message = keyed_error(path, message)
        key = path.split(".")[0].split("[")[0]
        out.setdefault(key if key in FIELDS else FORM, message)
    return out


class TrafficForm(EngineForm):
    """Rate, duration, connections, path and port of a run through ``service``."""

    def __init__(
        self, bridge: EngineBridge, service: ServiceView, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            bridge, parent, name="TrafficForm", title=f"Send traffic to {service.name}",
            submit_text="Send traffic",
        )  # fmt: skip
        self.service = service
        self.rows = FieldRows(parent=self)
        self.rate = self.rows.add("rate", "&Rate (requests/s)", QLineEdit("200"))
        self.duration = self.rows.add("duration_s", "&Duration (s)", QLineEdit("60"))
        self.concurrency = self.rows.add("concurrency", "&Connections", QLineEdit("8"))
        self.path = self.rows.add("path", "&Path", QLineEdit("/"))
        port = QComboBox()
        for p in service.spec.ports:
            port.addItem(f"{p.name} ({p.port})" if p.name else str(p.port), p.port)
        self.port = self.rows.add("port", "P&ort", port)
        note = QLabel(
            f"GET requests to {service.cluster_ip} on keep-alive connections, from the engine. "
            "Each second's answers are counted per endpoint, and errors by kind (refused, "
            "reset, timeout, 5xx). The Service's details chart them."
        )
        note.setWordWrap(True)
        note.setObjectName("TrafficNote")
        self.content.addWidget(self.rows)
        self.content.addWidget(note)
        self.content.addStretch(1)
        self.rows.edited.connect(lambda _key: self.on_edited())
        self.refresh()

    def body(self) -> dict[str, Any]:
        return {
            "rate": quantity_value(self.rate.text()),
            "duration_s": quantity_value(self.duration.text()),
            "concurrency": quantity_value(self.concurrency.text()),
            "path": self.path.text().strip(),
            "port": self.port.currentData(),
        }

    def validation_errors(self) -> dict[str, str]:
        body = self.body()
        out: dict[str, str] = {}
        for key, label in (("rate", "rate"), ("duration_s", "duration"), ("concurrency", "")):
            if body[key] is None:
                out[key] = f"is required{'' if not label else f' (a number: the {label})'}"
        for key, message in form_errors(body_errors(TrafficCreate, body)).items():
            out.setdefault(key, message)
        return out

    def display(self, errors: dict[str, str], *, everything: bool) -> dict[str, str]:
        if everything:
            self.rows.touch_all()
        return self.rows.show_errors(errors, everything=everything)

    def operation(self, body: dict[str, Any]) -> Operation:
        spec = TrafficCreate.model_validate(body)
        service_id = self.service.id
        return Operation(
            "Send traffic",
            f"Starting traffic to {self.service.name}",
            lambda engine: engine.start_traffic(service_id, spec.to_spec(), spec.port),
        )

    def refusal_errors(self, exc: Kube9Error) -> dict[str, str]:
        return form_errors(error_map(exc))

    def focus_field(self, path: str) -> None:
        self.rows.focus(path)
