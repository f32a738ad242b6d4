"""The engine's suite runs where PySide6 is not installed at all (napari's habit).

A venv beside the checkout (``.venv-noqt``, rebuilt when pyproject.toml changes) gets the
engine's dependencies and the test tools, but no PySide6, pyqtgraph, qasync or pytest-qt;
tests/engine runs there in a subprocess and must pass whole.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-noqt"
QT = ("pyside6", "pyqtgraph", "qasync", "pytest-qt")


def engine_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return [r for r in wanted if not r.lower().startswith(QT) and "python_version" not in r]


def venv_python() -> Path:
    """The no-Qt venv's interpreter, built (or rebuilt) when the requirements change."""
    requirements = engine_requirements()
    stamp = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    python = VENV / "bin" / "python"
    marker = VENV / "requirements.sha256"
    if python.exists() and marker.exists() and marker.read_text() == stamp:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, timeout=300)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
        check=True, timeout=900,
    )  # fmt: skip
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "-e",
         str(ROOT)],
        check=True, timeout=300,
    )  # fmt: skip
    marker.write_text(stamp)
    return python


def test_the_engine_suite_passes_without_pyside6_installed() -> None:
    python = venv_python()
    probe = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print([m for m in "
         "('PySide6','pyqtgraph','qasync','pytestqt') if u.find_spec(m)])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip() == "[]", probe.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "qt_api=",
         "-W", "ignore::pytest.PytestConfigWarning", "tests/engine"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=1200,
    )  # fmt: skip
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    assert " passed" in done.stdout and " failed" not in done.stdout, tail
