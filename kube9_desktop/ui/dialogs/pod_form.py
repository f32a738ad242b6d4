"""PodForm: create a pod from a form or a Kubernetes Pod manifest.

The dialog skeleton (``EngineForm``) around one ``PodEditor``: the editor validates and marks
what is wrong as the user types; the skeleton sends the pod and shows the engine's refusals
(no node fits: every node's reasons) inside the dialog, which stays open so the user can
adjust and try again.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.outcomes import CreatedPod
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs.engine_form import EngineForm, Operation
from kube9_desktop.ui.dialogs.pod_editor import PodEditor
from kube9_desktop.ui.dialogs.pod_manifest import PodDraft


class PodForm(EngineForm):
    """Dialog that creates one pod; every problem is shown next to what causes it."""

    SUMMARIZE = True  # the editor's fields sit in tabs and group boxes

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent, name="PodForm", title="Add pod", submit_text="Create pod")
        self.resize(820, 640)
        self.editor = PodEditor(bridge, self.fields_area)
        self.content.addWidget(self.editor)
        self.editor.edited.connect(lambda: self.refusal.setVisible(False))
        self.editor.validated.connect(self.present)
        self.refresh()

    def fill(self, draft: PodDraft) -> None:
        """Replace the form's contents with ``draft`` (every field counts as touched)."""
        self.editor.fill(draft)

    def body(self) -> dict[str, Any]:
        return self.editor.body()

    def validation_errors(self) -> dict[str, str]:
        return self.editor.validation_errors()

    def display(self, errors: dict[str, str], *, everything: bool) -> dict[str, str]:
        return self.editor.display(errors, everything=everything)

    def operation(self, body: dict[str, Any]) -> Operation:
        return Operation(
            "Create pod",
            f"Creating pod {body['name']}",
            lambda engine: engine.create_pod_from_json(body),
        )

    def refusal_errors(self, exc: Kube9Error) -> dict[str, str]:
        return self.editor.refusal_errors(exc)

    def focus_field(self, path: str) -> None:
        self.editor.focus(path)

    def on_created(self, result: CreatedPod) -> None:
        super().on_created(result)
        self.editor.wipe_secrets()
