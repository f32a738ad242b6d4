"""``kube9-desktop --self-test`` from the source tree: every step passes and is reported."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kube9_desktop.selftest import STEPS, Report, StepFailed

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(120)
def test_self_test_passes_and_reports_every_step(tmp_path: Path) -> None:
    env = {**os.environ, "KUBE9_DATA_DIR": str(tmp_path / "home-data")}
    env.pop("KUBE9_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "main.py", "--self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    out = done.stdout
    assert done.returncode == 0, f"exit {done.returncode}\n{out}\n{done.stderr}"
    assert out.startswith("Kube-9 Desktop ") and "self-test" in out.splitlines()[0]
    for number, name in enumerate(STEPS, start=1):
        assert re.search(rf"^ok +{number}\. {re.escape(name)}\b.*\(\d+\.\d\d s\)$", out, re.M), (
            f"step {number} ({name}) not reported ok:\n{out}"
        )
    assert "FAILED" not in out
    assert re.search(r"^self-test passed: \d+ steps in \d+\.\d s$", out, re.M)
    # Nothing of the run is left in the user's data directory but the app's own log.
    assert not (tmp_path / "home-data" / "cluster.db").exists()


async def test_a_failing_step_prints_its_number_and_becomes_the_exit_code() -> None:
    out = io.StringIO()
    report = Report(out=out)
    async with report.step(1) as detail:
        detail.append("fine")
    with pytest.raises(StepFailed):
        async with report.step(4):
            raise StepFailed("the node stayed healthy")
    lines = out.getvalue().splitlines()
    assert re.match(r"^ok +1\. engine started: fine \(\d+\.\d\d s\)$", lines[0])
    assert lines[1].startswith("FAILED 4. node crash detected: the node stayed healthy (")
    assert report.failed == 4 and report.failures == ["4. node crash detected"]
