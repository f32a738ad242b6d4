"""Take docs/screenshot.png: the real app, mid-failure, on a demo cluster.

Starts Kube-9 Desktop as ``kube9-desktop --demo`` would (the same window, engine, API and
qasync loop) on a throwaway data directory and preferences, waits until the demo pods run and
the charts have some history, crashes the worker holding the most pods, waits until the
failure is detected and its pods have moved, selects that node and the failure's "detected"
event (so the details and the failure timeline show), grabs the window and quits.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot.py

Options: ``--out PATH`` (default docs/screenshot.png), ``--size 1600x1000``,
``--history S`` (seconds of chart history before the crash, default 6), ``--theme light|dark``,
``--range 1m|5m|15m|all`` (the charts' window, default 1m), ``--view pods`` (instead of the
crash: the Pods list with the busiest pod's details and live usage; docs/screenshot-pods.png;
``--view services``: a Deployment behind a NodePort Service, the Services tab with its details,
and the Service form beside it as ``<out>-form.png``; ``--view traffic``: traffic through that
Service while the node of one of its pods crashes, charted in its details).
With DISPLAY unset it starts Xvfb itself when ``xvfb-run`` is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Take docs/screenshot.png mid-failure.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--size", default="1600x1000")
    parser.add_argument("--history", type=float, default=6.0)
    parser.add_argument("--theme", default="light", choices=("light", "dark"))
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--range", default="1m", help="the charts' time window: 1m 5m 15m all")
    parser.add_argument(
        "--view", default="failure",
        choices=("failure", "pods", "services", "traffic", "many", "empty", "node", "export",
                 "preemption", "what-if", "scenarios"),
        help="failure: a crash mid-recovery (the README's first image); pods: the Pods list "
        "with a pod's details and live usage; services: a Service, its endpoints and its form; "
        "many: --nodes virtual nodes with five pods each, one of them crashed; empty: no "
        "cluster; node: a tainted, cordoned, partitioned node's details (its taints); export: "
        "the File menu, Export for Kubernetes' confirmation and its message (-menu, -confirm); "
        "preemption: a high-priority pod's victims in its details, and the pod form; what-if: "
        "the busiest worker previewed as failing (marks, banner, projected CPU); scenarios: "
        "the Scenarios panel after running fragmentation under best-fit and worst-fit (the "
        "whole window as <out>-window.png)",
    )  # fmt: skip
    parser.add_argument("--nodes", type=int, default=300, help="nodes for --view many")
    return parser.parse_args(argv)


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def stage(args: argparse.Namespace, done: list[str]) -> None:
    """Drive the running app: wait, break a node, wait for detection, grab, quit."""
    from PySide6.QtWidgets import QApplication

    from kube9_desktop.engine.events import EventKind
    from kube9_desktop.ui.main_window import MainWindow
    from kube9_desktop.ui.models.events import EVENT_ROLE
    from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

    def window() -> MainWindow | None:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        return found[0] if found else None

    try:
        await until(lambda: window() is not None, 30, "the window")
        win = window()
        assert win is not None
        width, height = (int(v) for v in args.size.split("x"))
        win.resize(width, height)
        win.move(0, 0)
        bridge = win.bridge
        await until(lambda: bridge.attached, args.timeout, "the engine")
        if args.view == "empty":
            await asyncio.sleep(1.5)  # a chart sample or two
            grab(win, args, done)
            return
        if args.view == "many":
            await many_view(win, args, done)
            return
        if args.view == "scenarios":
            await scenarios_view(win, args, done)
            return
        await until(
            lambda: len(bridge.pods()) >= 6 and all(p.phase == "running" for p in bridge.pods()),
            args.timeout,
            "the demo pods to run",
        )
        win.charts.range_bar.buttons[args.range].click()
        await asyncio.sleep(args.history)  # some chart history before the failure
        if args.view == "pods":
            win.trees.setCurrentWidget(win.pods)
            busiest = max(bridge.pods(), key=lambda p: (p.request.cpu_m, -p.id))
            win.pods.select_pods([busiest.id])
            await asyncio.sleep(1.5)  # a usage tick or two in the bars and sparklines
            args.out.parent.mkdir(parents=True, exist_ok=True)
            if not win.grab().save(str(args.out)):
                raise RuntimeError(f"could not write {args.out}")
            done.append(str(args.out))
            return
        if args.view == "services":
            await services_view(win, args, done)
            return
        if args.view == "export":
            await export_view(win, args, done)
            return
        if args.view == "traffic":
            await traffic_view(win, args, done)
            return
        if args.view == "node":
            await node_view(win, args, done)
            return
        if args.view == "preemption":
            await preemption_view(win, args, done)
            return
        if args.view == "what-if":
            await what_if_view(win, args, done)
            return
        workers = [n for n in bridge.nodes() if n.node_type == "worker"]
        victim = max(workers, key=lambda n: (len(n.pod_ids), -n.id))
        moved = set(victim.pod_ids)
        win.cluster.select(TreeItem(ItemKind.NODE, victim.id))
        result: list[object] = []
        bridge.run("Simulate crash", lambda e: e.inject_fault(victim.id, "crash"), result.append)

        def detected() -> bool:
            node = bridge.node(victim.id)
            pods = [bridge.pod(p) for p in moved]
            return (
                node is not None
                and node.status in ("unhealthy", "recovering")
                and all(p is not None and p.node_id not in (None, victim.id) for p in pods)
            )

        await until(detected, args.timeout, "the failure to be detected and the pods moved")
        events = win.events
        for row in range(events.proxy.rowCount() - 1, -1, -1):
            event = events.proxy.index(row, 0).data(EVENT_ROLE)
            if event.kind is EventKind.NODE_DETECTED and event.node_id == victim.id:
                events.table.selectRow(row)
                break
        await asyncio.sleep(0.6)  # a chart redraw; the restart comes 1 s after detection
        win.charts.sample()  # the charts sample once a second: show the move, not the second
        win.charts.redraw()  # before it
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not win.grab().save(str(args.out)):
            raise RuntimeError(f"could not write {args.out}")
        done.append(str(args.out))
    except Exception as exc:  # report, then quit instead of hanging
        done.append(f"error: {type(exc).__name__}: {exc}")
    finally:
        win = window()
        if win is not None:
            win.quit_requested.emit()


async def node_view(win: Any, args: argparse.Namespace, done: list[str]) -> None:
    """The busiest worker with a taint of the user's, cordoned, then partitioned: its details
    show its taints (the unreachable ones too), labels and pods against its limit."""
    from PySide6.QtWidgets import QLabel

    from kube9_desktop.engine.constraints import Taint, TaintEffect
    from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

    bridge = win.bridge
    workers = [n for n in bridge.nodes() if n.node_type == "worker"]
    node = max(workers, key=lambda n: (len(n.pod_ids), -n.id))
    engine = bridge.engine
    engine.set_node_taints(node.id, (Taint("dedicated", "gpu", TaintEffect.NO_SCHEDULE),))
    engine.set_node_cordoned(node.id, True)
    win.cluster.select(TreeItem(ItemKind.NODE, node.id))
    result: list[object] = []
    bridge.run("Partition", lambda e: e.inject_fault(node.id, "partition", duration_s=60),
               result.append)  # fmt: skip

    def tainted() -> bool:
        text = win.details.findChild(QLabel, "NodeTaints").text()
        return "unreachable:NoExecute" in text

    await until(tainted, args.timeout, "the unreachable taints in the details")
    await asyncio.sleep(0.6)
    grab(win, args, done)


async def preemption_view(win: Any, args: argparse.Namespace, done: list[str]) -> None:
    """A priority-1000 pod as large as the biggest worker preempts the demo pods there; the
    Pods tab shows its details (priority, victims, each node's outcome), then the pod form
    (its Priority class row) is grabbed as ``-form.png``."""
    from kube9_desktop.engine.priority import PriorityClassSpec
    from kube9_desktop.ui.dialogs.pod_form import PodForm

    bridge = win.bridge
    engine = bridge.engine
    await engine.create_priority_class(PriorityClassSpec("high", 1000))
    await engine.create_priority_class(PriorityClassSpec("batch", 10))

    def pod(name: str, cpu_m: int, cls: str) -> dict[str, Any]:
        return {"name": name, "cpu_cores_req": cpu_m / 1000, "priority_class_name": cls,
                "containers": [{"name": "app", "image": "nginx:1.25"}]}  # fmt: skip

    for n in bridge.nodes():  # every worker's free room taken by a batch pod
        free = n.capacity.cpu_m - n.allocated.cpu_m
        if n.node_type == "worker" and free > 0:
            await engine.create_pod_from_json(pod(f"batch-{n.name}", free, "batch"))
    created = await engine.create_pod_from_json(pod("vip", 1000, "high"))
    win.trees.setCurrentWidget(win.pods)
    await until(lambda: bridge.pod(created.view.id) is not None, 10, "the pod in the list")
    await asyncio.sleep(0.3)
    win.pods.select_pods([created.view.id])
    await asyncio.sleep(1.0)
    from PySide6.QtWidgets import QScrollArea, QWidget

    table = win.details.findChild(QWidget, "PreemptionNodes")
    area = table.parent()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parent()
    if area is not None:  # the details scroll: show the preemption's part
        area.ensureWidgetVisible(table, 0, 0)
    await asyncio.sleep(0.3)
    grab(win, args, done)
    form = PodForm(bridge, win)
    form.open()
    rows = form.editor.placement  # one term and one spread constraint, one of them wrong
    rows.interpod.add_row({"rule": "anti-affinity", "selector": "app=web"}, touched=True)
    rows.interpod.add_row({"mode": "preferred", "weight": "500", "selector": "app=cache",
                           "topology_key": "zone"}, touched=True)  # fmt: skip
    rows.spread.add_row({"max_skew": "1", "selector": "app=web"}, touched=True)
    rows.touch_all()
    rows.toggle.setChecked(True)
    form.editor.check(everything=False)
    await asyncio.sleep(0.3)  # laid out: the body's scroll area knows its height
    area = rows.parent()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parent()
    if area is not None:
        bar = area.verticalScrollBar()
        bar.setValue(bar.maximum())
    await asyncio.sleep(0.3)
    form_out = args.out.with_name(f"{args.out.stem}-form.png")
    if not form.grab().save(str(form_out)):
        raise RuntimeError(f"could not write {form_out}")
    form.reject()


async def what_if_view(win: Any, args: argparse.Namespace, done: list[str]) -> None:
    """The busiest worker previewed as failing: the banner, its pods marked in the tree with
    their would-be nodes, the CPU chart's projected allocation."""
    from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

    bridge = win.bridge
    workers = [n for n in bridge.nodes() if n.node_type == "worker"]
    node = max(workers, key=lambda n: (len(n.pod_ids), -n.id))
    win.cluster.select(TreeItem(ItemKind.NODE, node.id))
    win.what_if.action.trigger()
    await until(win.cluster.what_if_banner.isVisible, args.timeout, "the what-if banner")
    index = win.cluster.proxy.mapFromSource(
        win.cluster.model.index_of(TreeItem(ItemKind.NODE, node.id))
    )
    win.cluster.tree.expand(index)
    await asyncio.sleep(0.6)
    win.charts.redraw()
    grab(win, args, done)


async def scenarios_view(win: Any, args: argparse.Namespace, done: list[str]) -> None:
    """View > Scenarios, fragmentation with best-fit and worst-fit ticked, Run, and the
    report once it shows: the panel alone (docs/scenario-report.png) and the window
    (-window.png)."""
    dock = win.scenarios
    panel = dock.panel
    dock.open_action.trigger()
    panel.picker.setCurrentIndex(panel.picker.findText("fragmentation"))
    for name, box in panel.strategy_boxes.items():
        box.setChecked(name in ("best-fit", "worst-fit"))
    with tempfile.TemporaryDirectory(prefix="kube9-scenario-shot-") as out:
        panel.out_edit.setText(out)
        panel.run.click()
        await until(lambda: panel.report_source is not None, args.timeout, "the report")
        await asyncio.sleep(0.5)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        window_out = args.out.with_name(f"{args.out.stem}-window.png")
        if not win.grab().save(str(window_out)):
            raise RuntimeError(f"could not write {window_out}")
        if not dock.grab().save(str(args.out)):
            raise RuntimeError(f"could not write {args.out}")
        done.append(str(args.out))


def grab(win: Any, args: argparse.Namespace, done: list[str]) -> None:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not win.grab().save(str(args.out)):
        raise RuntimeError(f"could not write {args.out}")
    done.append(str(args.out))


async def many_view(win: Any, args: argparse.Namespace, done: list[str]) -> None:
    """``--nodes`` virtual workers (the demo's four beside them) with five pods each, then the
    busiest worker crashed and selected once its pods have moved."""
    from kube9_desktop.engine.specs import NodeCreate, PodCreate, parse_body
    from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

    bridge = win.bridge
    engine = bridge.engine
    for i in range(args.nodes):
        body = {"name": f"node-{i:03d}", "cpu_cores_avail": 4, "memory_mb": 8192}
        await engine.create_node(parse_body(NodeCreate, body).to_spec())
    await until(
        lambda: sum(n.status == "healthy" for n in bridge.nodes()) >= args.nodes,
        args.timeout, "the nodes to be healthy",
    )  # fmt: skip
    specs = [
        parse_body(PodCreate, {
            "name": f"app-{i:04d}", "cpu_cores_req": 0.5, "labels": {"app": f"app-{i % 7}"},
            "containers": [{"name": "app", "image": "nginx:1.27", "cpu_req": 0.5}],
        }).to_spec()
        for i in range(args.nodes * 5)
    ]  # fmt: skip
    for start in range(0, len(specs), 200):
        await engine.create_pods(specs[start : start + 200])
    win.charts.range_bar.buttons[args.range].click()
    await asyncio.sleep(args.history)
    victim = max(
        (n for n in bridge.nodes() if n.name.startswith("node-")),
        key=lambda n: (len(n.pod_ids), -n.id),
    )  # fmt: skip
    moved = set(victim.pod_ids)
    win.cluster.select(TreeItem(ItemKind.NODE, victim.id))
    await engine.inject_fault(victim.id, "crash")

    def detected() -> bool:
        pods = [bridge.pod(p) for p in moved]
        return all(p is not None and p.node_id not in (None, victim.id) for p in pods)

    await until(detected, args.timeout, "the crash detected and its pods moved")
    await asyncio.sleep(0.6)
    win.charts.sample()
    win.charts.redraw()
    grab(win, args, done)


async def services_view(win: Any, args: argparse.Namespace, done: list[str]) -> None:
    """A Deployment "web" behind a NodePort Service "web", shown in the Services tab, then
    the Service form opened on it (edit mode), each grabbed."""
    from kube9_desktop.engine.service_specs import ServiceCreate
    from kube9_desktop.engine.specs import parse_body
    from kube9_desktop.engine.workload_specs import DeploymentCreate
    from kube9_desktop.ui.dialogs.service_form import ServiceForm
    from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

    bridge = win.bridge
    template = {
        "labels": {"app": "web"},
        "containers": [
            {"name": "app", "image": "nginx:1.25", "cpu_req": "100m", "memory_req": "64Mi"}
        ],
    }
    created: list[Any] = []
    bridge.run(
        "Create web",
        lambda e: e.create_deployment(
            parse_body(
                DeploymentCreate, {"name": "web", "replicas": 3, "template": template}
            ).to_spec()
        ),
        created.append,
    )
    body = {
        "name": "web",
        "type": "NodePort",
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "target_port": 8080}],
    }
    bridge.run(
        "Create the Service",
        lambda e: e.create_service(parse_body(ServiceCreate, body).to_spec()),
        created.append,
    )
    await until(lambda: len(created) == 2, args.timeout, "the Deployment and the Service")
    svc_id = created[1].view.id
    await until(
        lambda: len(bridge.service(svc_id).ready_endpoints) == 3,
        args.timeout,
        "three ready endpoints",
    )
    win.trees.setCurrentWidget(win.services)
    win.services.select(TreeItem(ItemKind.SERVICE, svc_id))
    await asyncio.sleep(1.0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not win.grab().save(str(args.out)):
        raise RuntimeError(f"could not write {args.out}")
    win.service_commands.edit.trigger()
    await until(lambda: win.findChild(ServiceForm) is not None, 10, "the Service form")
    form = win.findChild(ServiceForm)
    await asyncio.sleep(0.5)
    form_out = args.out.with_name(f"{args.out.stem}-form.png")
    if not form.grab().save(str(form_out)):
        raise RuntimeError(f"could not write {form_out}")
    form.reject()
    done.append(str(args.out))


async def traffic_view(win: Any, args: argparse.Namespace, done: list[str]) -> None:
    """Steady traffic through a Service "web" over three pods on three nodes; the node of one
    of them crashes mid-run; grabbed once the pod has moved and the chart shows the dip."""
    from kube9_desktop.engine.service_specs import ServiceCreate
    from kube9_desktop.engine.specs import parse_body
    from kube9_desktop.engine.traffic import TrafficSpec
    from kube9_desktop.engine.workload_specs import DeploymentCreate
    from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

    bridge = win.bridge
    template = {
        "labels": {"app": "web"},
        "containers": [
            {"name": "app", "image": "nginx:1.25", "cpu_req": "1600m", "memory_req": "64Mi"}
        ],
    }
    created: list[Any] = []
    for i in range(4):  # one pod fits each (the demo's workers are full): one spare
        bridge.run(
            "Add a node",
            lambda e, i=i: e.create_node_from_json({"name": f"edge-{i + 1}", "cpu_cores_avail": 2}),
            created.append,
        )
    await until(lambda: len(created) == 4, args.timeout, "the edge nodes")
    await until(
        lambda: all(str(n.status) == "healthy" for n in bridge.nodes()), args.timeout, "healthy"
    )
    created.clear()
    body = {"name": "web", "replicas": 3, "template": template}
    bridge.run(
        "Create web",
        lambda e: e.create_deployment(parse_body(DeploymentCreate, body).to_spec()),
        created.append,
    )
    service = {"name": "web", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}
    bridge.run(
        "Create the Service",
        lambda e: e.create_service(parse_body(ServiceCreate, service).to_spec()),
        created.append,
    )
    await until(lambda: len(created) == 2, args.timeout, "the Deployment and the Service")
    svc_id = created[1].view.id
    await until(lambda: len(bridge.service(svc_id).ready_endpoints) == 3, args.timeout, "endpoints")
    bridge.run(
        "Send traffic", lambda e: e.start_traffic(svc_id, TrafficSpec(300, 3600)), created.append
    )
    win.trees.setCurrentWidget(win.services)
    win.services.select(TreeItem(ItemKind.SERVICE, svc_id))
    await asyncio.sleep(args.history)
    victim = next(e.node_id for e in bridge.service(svc_id).endpoints)
    bridge.run("Crash", lambda e: e.inject_fault(victim, "crash"), created.append)
    await until(
        lambda: (
            all(e.node_id != victim for e in bridge.service(svc_id).ready_endpoints)
            and len(bridge.service(svc_id).ready_endpoints) == 3
        ),
        args.timeout,
        "the crashed node's pod back elsewhere",
    )
    await asyncio.sleep(4.0)  # the chart shows the moved pod's line after the dip
    page = win.details.service_page
    win.details.scroll_area.ensureWidgetVisible(page.traffic)
    await asyncio.sleep(1.5)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not win.grab().save(str(args.out)):
        raise RuntimeError(f"could not write {args.out}")
    done.append(str(args.out))


async def export_view(win: Any, args: argparse.Namespace, done: list[str]) -> None:
    """The File menu open (-menu.png), Export for Kubernetes… asking before it writes into a
    folder that is not empty (-confirm.png), then the window with its message (--out)."""
    from PySide6.QtWidgets import QMenu, QPushButton

    args.out.parent.mkdir(parents=True, exist_ok=True)
    menu = win.findChild(QMenu, "FileMenu")
    menu.popup(win.mapToGlobal(win.menuBar().geometry().bottomLeft()))
    await asyncio.sleep(0.5)
    menu.setActiveAction(win.kube_export.export)
    await asyncio.sleep(0.3)
    menu_out = args.out.with_name(f"{args.out.stem}-menu.png")
    if not menu.grab().save(str(menu_out)):
        raise RuntimeError(f"could not write {menu_out}")
    menu.hide()
    folder = Path(tempfile.mkdtemp(prefix="kube9-export-shot-"))
    (folder / "notes.md").write_text("mine")
    win.kube_export.export_to(folder)
    await until(lambda: win.kube_export.confirm is not None, 10, "the confirmation")
    box = win.kube_export.confirm
    await asyncio.sleep(0.5)
    box_out = args.out.with_name(f"{args.out.stem}-confirm.png")
    if not box.grab().save(str(box_out)):
        raise RuntimeError(f"could not write {box_out}")
    box.findChild(QPushButton, "ExportOverwriteButton").click()
    await until(lambda: (folder / "README.txt").exists(), 10, "the export")
    await asyncio.sleep(0.5)
    if not win.grab().save(str(args.out)):
        raise RuntimeError(f"could not write {args.out}")
    shutil.rmtree(folder)
    done.append(str(args.out))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            print("No DISPLAY: run under xvfb-run (see the docstring).", file=sys.stderr)
            return 2
        screen = f"-screen 0 {args.size}x24"
        command = [xvfb, "-a", "-s", screen, sys.executable, __file__, *sys.argv[1:]]
        return subprocess.call(command)

    from PySide6.QtCore import QSettings, QTimer

    import main as entry
    from kube9_desktop.ui import app as ui_app

    with tempfile.TemporaryDirectory(prefix="kube9-screenshot-") as tmp:
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        cli = ["--data-dir", str(Path(tmp) / "data"), "--port", "0"]
        if args.view != "empty":
            cli.append("--demo")
        if args.view == "many":
            cli += ["--runtime", "virtual"]
        parsed = entry.build_parser().parse_args(cli)
        settings = entry.settings_from_args(parsed).with_(theme=args.theme).validate()
        done: list[str] = []
        app = ui_app.make_application()
        # Starts once the loop runs (inside run_gui), next to the app's own start-up.
        QTimer.singleShot(0, lambda: asyncio.ensure_future(stage(args, done)))
        code = ui_app.run_gui(settings, explicit=parsed)
        del app
    if not done or done[0].startswith("error"):
        print(done[0] if done else "the app quit before the screenshot", file=sys.stderr)
        return 1
    print(f"wrote {done[0]}")
    return code


if __name__ == "__main__":
    sys.exit(main())
