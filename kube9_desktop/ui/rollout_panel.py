"""The events dock's rollout view: for a Deployment's event, its rollout's steps with times,
how it ended and how long it took; a stalled one in red with why (the deadline, and the
reasons its new pods wait)."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kube9_desktop.engine.events import Event
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.dialogs._fields import ERROR_STYLE
from kube9_desktop.ui.icons import status_color
from kube9_desktop.ui.rollout_timeline import (
    COMPLETE,
    DEPLOYMENT_KINDS,
    IN_PROGRESS,
    STALLED,
    Rollout,
    rollout_around,
)
from kube9_desktop.ui.workload_status import pending_reasons, rollout_state

HISTORY = 500  # Deployment events read to find a rollout
COLORS = {COMPLETE: "running", STALLED: "unhealthy", IN_PROGRESS: "scheduled"}


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


class RolloutPanel(QWidget):
    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RolloutPanel")
        self.bridge = bridge
        self.deployment_id: int | None = None
        self.anchor = 0
        self.rollout: Rollout | None = None
        self.title = QLabel()
        self.title.setObjectName("RolloutTitle")
        self.title.setWordWrap(True)
        self.why = QLabel()
        self.why.setObjectName("RolloutWhy")
        self.why.setWordWrap(True)
        self.why.setStyleSheet(ERROR_STYLE)
        self.steps = Table("RolloutSteps", ("Step", "At", "After the start"), stretch=0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.why)
        layout.addWidget(self.steps)
        layout.addStretch(1)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(150)
        self._later.timeout.connect(self.refresh)
        bridge.event_published.connect(self._on_bridge_event_published)
        bridge.ticked.connect(self._on_bridge_ticked)

    def show_rollout(self, deployment_id: int, anchor: int) -> None:
        """The rollout of this Deployment that the event ``anchor`` (an id) belongs to."""
        self.deployment_id, self.anchor = deployment_id, anchor
        self.refresh()

    def refresh(self) -> None:
        d_id = self.deployment_id
        if d_id is None:
            return
        events = self.bridge.events(kinds=[str(k) for k in DEPLOYMENT_KINDS], limit=HISTORY)
        rollout = self.rollout = rollout_around(events, d_id, self.anchor)
        if rollout is None:
            self.title.setText("No rollout of this Deployment is recorded up to this event.")
            self.why.hide()
            self.steps.set_rows([])
            return
        now = datetime.now(UTC)
        name = rollout.start.object.name if rollout.start.object else "?"
        color = status_color(COLORS.get(rollout.outcome, "terminating")).name()
        took = _seconds(rollout.duration_s(now))
        outcome = {
            COMPLETE: f"complete in {took}",
            STALLED: f"stalled, {took} so far",
            IN_PROGRESS: f"in progress for {took}",
        }.get(rollout.outcome, f"superseded after {took}")
        if rollout.outcome == COMPLETE and rollout.stalls:
            outcome += " (it had stalled on the way)"
        self.title.setText(
            f"<b>Rollout of {name}</b>: <b style='color:{color}'>{outcome}</b> · "
            f"{len(rollout.steps)} step(s) · started {fmt.clock(rollout.start.at)}"
        )
        self._show_why(rollout)
        start = rollout.start.at
        rows = [self._row(rollout.start, start)]
        rows += [self._row(e, start) for e in (*rollout.steps, *rollout.stalls)]
        if rollout.end is not None:
            rows.append(self._row(rollout.end, start))
        rows.sort(key=lambda r: r[1])
        self.steps.set_rows(rows)

    def _row(self, event: Event, start: datetime) -> tuple[str, str, str]:
        message = event.message
        name = event.object.name if event.object is not None else ""
        message = message.removeprefix(f"Deployment {name}: ")
        return message, fmt.clock(event.at), _seconds((event.at - start).total_seconds())

    def _show_why(self, rollout: Rollout) -> None:
        if rollout.outcome != STALLED or self.deployment_id is None:
            self.why.hide()
            return
        parts = [s.message.removeprefix(f"Deployment {s.object.name}: ") for s in rollout.stalls
                 if s.object is not None][:1]  # fmt: skip
        d = self.bridge.deployment(self.deployment_id)
        if d is not None:
            state = rollout_state(d)
            if state.reason:
                parts.append(f"{state.reason}: {state.message}")
            rss = [r for r in map(self.bridge.replicaset, d.replicaset_ids) if r is not None]
            current = next((r for r in rss if r.revision == d.revision), None)
            if current is not None:
                pods = [p for p in map(self.bridge.pod, current.pod_ids) if p is not None]
                waiting = pending_reasons(pods)
                if waiting:
                    parts.append("its new pods wait: " + "; ".join(waiting))
        self.why.setText(" — ".join(parts))
        self.why.show()

    def _on_bridge_event_published(self, event: Event) -> None:
        obj = event.object
        if obj is not None and obj.kind == "Deployment" and obj.id == self.deployment_id:
            self._later.start()

    def _on_bridge_ticked(self) -> None:
        if self.rollout is not None and self.rollout.end is None and self.isVisible():
            self.refresh()  # its duration grows
