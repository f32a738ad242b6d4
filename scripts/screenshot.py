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
crash: the Pods list with the busiest pod's details and live usage; docs/screenshot-pods.png).
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
        "--view", default="failure", choices=("failure", "pods"),
        help="failure: a crash mid-recovery (the README's first image); pods: the Pods list "
        "with a pod's details and live usage",
    )  # fmt: skip
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
        cli = ["--demo", "--data-dir", str(Path(tmp) / "data"), "--port", "0"]
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
