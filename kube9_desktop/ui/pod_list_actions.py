"""Bulk commands of the pod list: delete, fail (kill their processes) and recover the nodes of
every selected pod, each one confirmation or one click, reported in one message.

Delete goes to the engine in one call (``Engine.delete_pods``: a commit per fifty pods,
pending pods placed once per commit; one by one, 1,000 deletions took 100 s here). Fail and
Recover have no operation over many, so they run the single operations one after another in
one task, yielding to the event loop between them (the window keeps painting); the bridge
coalesces their commits into one refresh. What the engine refuses (``kill_refusal``,
``recover_refusal``, or an error from the operation) is named in the report with its reason.
Recover is a node operation (heal its faults, restart it): for pods it recovers the nodes they
run on, each once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QStyle, QWidget

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.model import PodView
from kube9_desktop.engine.outcomes import DeletedPod
from kube9_desktop.ui.actions import confirm_delete, enable, new_action
from kube9_desktop.ui.bridge import EngineBridge

SP = QStyle.StandardPixmap
NAMED = 3  # names spelled out in a confirmation before "and N more"
REPORTED = 8  # refusals spelled out in a report before "and N more"
Step = Callable[[Engine, int], Awaitable[Any]]


def names(items: list[str], limit: int) -> str:
    """ "a, b, c and 4 more": the first ``limit`` names, then how many are left."""
    shown = ", ".join(items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def report(verb: str, noun: str, done: list[str], refused: list[tuple[str, str]]) -> str:
    """ "Deleted 2 pods: web-1, web-2." or "Failed 1 of 2 pods: web-1; refused: db-0 (…)."."""
    count = len(done)
    total = plural(count + len(refused), noun)
    text = f"{verb} {count} of {total}" if refused else f"{verb} {plural(count, noun)}"
    if done:
        text += f": {names(done, REPORTED)}"
    if not refused:
        return text + "."
    why = [f"{name} ({reason})" for name, reason in refused]
    return f"{text}; refused: {names(why, REPORTED)}."


class PodListActions(QObject):
    message_posted = Signal(str, str)  # level ("info" | "error"), text for a person
    finished = Signal(str)  # a bulk command ran to its end (its report), for tests and scripts

    def __init__(self, bridge: EngineBridge, window: QWidget, panel: QWidget) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.window = window
        self.pod_ids: list[int] = []
        self.confirm: QMessageBox | None = None

        self.delete = new_action(
            self,
            window,
            "DeletePodsAction",
            "Delete Selected Pods…",
            QKeySequence.StandardKey.Delete,
            "Delete every pod selected in the pod list",
            self._on_delete_triggered,
            SP.SP_TrashIcon,
        )
        self.fail = new_action(
            self,
            window,
            "FailPodsAction",
            "Fail Selected Pods",
            "Ctrl+Shift+X",  # as Kill Pod Process in the tree
            "Kill the processes of every selected pod (each restarts with back-off)",
            self._on_fail_triggered,
            SP.SP_MediaStop,
        )
        self.recover = new_action(
            self,
            window,
            "RecoverPodNodesAction",
            "Recover Nodes of Selected Pods",
            "Ctrl+R",  # as Recover in the tree
            "Heal faults and restart the nodes the selected pods run on (each node once)",
            self._on_recover_triggered,
            SP.SP_BrowserReload,
        )
        for action in (self.delete, self.fail, self.recover):
            # The tree's actions hold these keys while the tree is shown; these while the list is.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            panel.addAction(action)
        self.context_menu = QMenu(window)
        self.context_menu.setObjectName("PodListContextMenu")
        self.context_menu.addActions([self.fail, self.recover, self.delete])
        self.set_selection([])

    def set_selection(self, pod_ids: list[int]) -> None:
        self.pod_ids = list(pod_ids)
        some = bool(pod_ids)
        enable(self.delete, some, "select pods in the list first")
        enable(self.fail, some, "select pods in the list first")
        enable(self.recover, some, "select pods in the list first")

    def _views(self) -> list[PodView]:
        return [v for v in map(self.bridge.pod, self.pod_ids) if v is not None]

    # ---- commands ----------------------------------------------------------------------

    def _on_delete_triggered(self) -> None:
        pods = self._views()
        if not pods:
            return
        text = f"Delete {plural(len(pods), 'pod')}? {names([p.name for p in pods], NAMED)}."
        detail = "Their containers are stopped; pods a ReplicaSet keeps are replaced by new ones."
        targets = [(p.id, p.name) for p in pods]
        if self.confirm is not None:
            self.confirm.close()
        self.confirm = confirm_delete(self.window, text, detail, lambda _k: self._delete(targets))
        self.confirm.finished.connect(lambda _r: setattr(self, "confirm", None))

    def _delete(self, targets: list[tuple[int, str]]) -> None:
        def deleted(done: list[DeletedPod]) -> None:
            gone = {d.view.id for d in done}
            refused = [(name, "already deleted") for i, name in targets if i not in gone]
            self._report("Deleted", "pod", [name for i, name in targets if i in gone], refused)

        ids = [pod_id for pod_id, _name in targets]
        self.bridge.run("Delete pods", lambda e: e.delete_pods(ids), deleted)

    def _on_fail_triggered(self) -> None:
        targets, refused = [], []
        for pod in self._views():
            why = self.bridge.kill_refusal(pod.id)
            if why is None:
                targets.append((pod.id, pod.name))
            else:
                refused.append((pod.name, why))
        self._run_each("Fail pods", "Failed", "pod", targets, refused, lambda e, i: e.kill_pod(i))

    def _on_recover_triggered(self) -> None:
        nodes: dict[int, str] = {}
        for pod in self._views():
            if pod.node_id is not None and pod.node_name is not None:
                nodes.setdefault(pod.node_id, pod.node_name)
        targets, refused = [], []
        for node_id, name in nodes.items():
            why = self.bridge.recover_refusal(node_id)
            if why is None:
                targets.append((node_id, name))
            else:
                refused.append((name, why))
        if not nodes:
            self.message_posted.emit("error", "None of the selected pods runs on a node.")
            return
        self._run_each(
            "Recover nodes", "Recovering", "node", targets, refused, lambda e, i: e.recover_node(i)
        )

    def _run_each(
        self,
        what: str,
        verb: str,
        noun: str,
        targets: list[tuple[int, str]],
        refused: list[tuple[str, str]],
        step: Step,
    ) -> None:
        """``step`` for each target in one task, yielding between them; then one report."""

        async def run(engine: Engine) -> list[str]:
            done: list[str] = []
            for obj_id, name in targets:
                try:
                    await step(engine, obj_id)
                    done.append(name)
                except Kube9Error as exc:
                    refused.append((name, exc.message))
                await asyncio.sleep(0)
            return done

        if not targets:
            self._report(verb, noun, [], refused)
            return
        self.bridge.run(what, run, lambda done: self._report(verb, noun, done, refused))

    def _report(
        self, verb: str, noun: str, done: list[str], refused: list[tuple[str, str]]
    ) -> None:
        text = report(verb, noun, done, refused)
        self.message_posted.emit("error" if refused else "info", text)
        self.finished.emit(text)
