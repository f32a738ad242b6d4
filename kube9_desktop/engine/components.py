"""A node's components as shown: the agent's last report and the fault injector's books
(``NodeView.component_faults``) merged into one state and why, so the window's Components
table says what its Faults line says (both come from the same books in the same view).

The agent learns of a fault in a heartbeat's reply and reports it in its next heartbeat, so
its report lags the books by up to two intervals each way; the node's status (NotReady) still
follows the report, as a control plane learns of a kubelet's failure from the node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kube9_desktop.engine.model import COMPONENT_RUNNING

COMPONENT_FAILED = "failed"
COMPONENT_RECOVERING = "recovering"
# The injector's words in NodeView.component_faults.
FAULT_ACTIVE = "failed"  # injected, not healed
FAULT_ENDED = "ended"  # healed (or ended by a restart); the agent still reports it failed

INJECTED = "injected fault"
NOT_YET_REPORTED = "; its agent reports it failed with its next heartbeat"
ENDED = "the injected fault ended; waiting for its agent to report it running"
REPORTED = "reported failed by its agent"


@dataclass(frozen=True, slots=True)
class ComponentState:
    """One component: its state word (running, failed, recovering, unknown) and why."""

    name: str
    state: str
    reason: str = ""


def component_states(
    reported: Mapping[str, str], faults: Mapping[str, str]
) -> tuple[ComponentState, ...]:
    """Each reported component (in the report's order), the books deciding while they hold it:

    | books  | agent reports | shown                                         |
    |--------|---------------|-----------------------------------------------|
    | failed | failed        | failed, "injected fault"                      |
    | failed | running       | failed, "injected fault; … next heartbeat"    |
    | ended  | failed        | recovering, "… waiting for its agent …"       |
    | ended  | running       | running (the books drop it at that report)    |
    | —      | failed        | failed, "reported failed by its agent"        |
    | —      | anything else | as reported                                   |
    """
    out = []
    for name in {**reported, **faults}:
        now, fault = reported.get(name, "unknown"), faults.get(name)
        if fault == FAULT_ACTIVE:
            why = INJECTED + ("" if now == COMPONENT_FAILED else NOT_YET_REPORTED)
            out.append(ComponentState(name, COMPONENT_FAILED, why))
        elif fault == FAULT_ENDED and now != COMPONENT_RUNNING:
            out.append(ComponentState(name, COMPONENT_RECOVERING, ENDED))
        elif now == COMPONENT_FAILED:
            out.append(ComponentState(name, COMPONENT_FAILED, REPORTED))
        else:
            out.append(ComponentState(name, now))
    return tuple(out)
