"""The layers hold: engine/ and agent/ never import Qt; agent/ imports only the standard library
(DESIGN 1-2); the import-linter contracts in pyproject.toml (the picture in
docs/architecture.md) are kept."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "kube9_desktop"
QT_MODULES = ("PySide6", "PySide2", "PyQt5", "PyQt6", "pyqtgraph", "qasync", "shiboken6")


def imported_modules(folder: Path) -> list[tuple[Path, int, str]]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path, node.lineno, node.module))
    return found


@pytest.mark.parametrize("folder", ["engine", "agent"])
def test_no_qt_or_ui_imports(folder: str) -> None:
    bad = [
        f"{p.relative_to(PKG)}:{line}: {mod}"
        for p, line, mod in imported_modules(PKG / folder)
        if mod.split(".")[0] in QT_MODULES or mod.startswith("kube9_desktop.ui")
    ]
    assert not bad, "Qt/UI imported below engine/ or agent/:\n" + "\n".join(bad)


def test_agent_uses_only_the_standard_library() -> None:
    bad = [
        f"{p.relative_to(PKG)}:{line}: {mod}"
        for p, line, mod in imported_modules(PKG / "agent")
        if mod.split(".")[0] not in sys.stdlib_module_names
        and not mod.startswith("kube9_desktop.agent")
        and mod != "kube9_desktop"
    ]
    assert not bad, "agent/ must stay standard-library only:\n" + "\n".join(bad)


def test_engine_imports_without_qt_installed() -> None:
    """Import every engine module in a fresh interpreter where Qt imports are made to fail."""
    code = (
        "import sys, importlib, pkgutil\n"
        f"BLOCKED = {QT_MODULES!r}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED: raise ImportError('Qt blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import kube9_desktop.engine as e, kube9_desktop.agent\n"
        "for m in pkgutil.walk_packages(e.__path__, 'kube9_desktop.engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_import_linter_contracts_are_kept() -> None:
    """ui -> engine, api -> engine (never the reverse), no reaching into state or store,
    scheduler and store below the cluster's operations, the agent alone."""
    root = PKG.parent
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True, text=True, cwd=root, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
