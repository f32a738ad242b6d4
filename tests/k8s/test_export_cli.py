"""``kube9-desktop export --kubernetes DIR`` run as a user runs it (its own process), on the
store of an engine that has stopped: the same export the engine made while it ran, and the
refusals (a folder not empty, one that cannot be written, a running engine, no cluster)
with a sentence, exit status 2 and nothing written."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.k8s.export import Export, export_cluster
from kube9_desktop.serve import start_engine
from tests.helpers import Api, fast_settings
from tests.k8s.test_export import build

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    rc: int
    out: str
    err: str


async def cli(*args: str | Path) -> Run:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "main.py"), "export", *map(str, args), cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


def files_under(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@dataclass
class Stopped:
    data_dir: Path
    export: Export  # what the engine exported of itself while it ran


@pytest.fixture
async def stopped(tmp_path: Path) -> Stopped:
    data_dir = tmp_path / "data"
    engine = Engine(fast_settings(data_dir, k8s_port=0))
    await start_engine(engine)
    try:
        async with aiohttp.ClientSession() as session:
            await build(Api(engine.api_url, engine.admin_token, session), engine, odd=True)
        export = export_cluster(engine)
    finally:
        await engine.stop()
    return Stopped(data_dir, export)


async def test_export_of_a_stopped_cluster_is_what_it_exported_running(
    stopped: Stopped, tmp_path: Path
) -> None:
    folder = tmp_path / "out" / "k8s"  # made, parents too
    run = await cli("--kubernetes", folder, "--data-dir", stopped.data_dir)
    assert run.rc == 0, run.err
    assert files_under(folder) == stopped.export.files
    assert sorted(files_under(folder)) == sorted(
        ["README.txt", "kind-config.yaml", *stopped.export.manifests]
    )
    # Each thing left out on stderr as well as in the README, then the two commands.
    for item in stopped.export.left_out:
        assert f"kube9-desktop export: not carried over: {item.line()}\n" in run.err
    assert f"kind create cluster --config {folder / 'kind-config.yaml'}" in run.err
    assert f"kubectl apply -f {folder / 'manifests'}" in run.err
    assert "Traceback" not in run.err


async def test_a_folder_not_empty_is_refused_unless_forced(
    stopped: Stopped, tmp_path: Path
) -> None:
    folder = tmp_path / "k8s"
    (folder / "manifests").mkdir(parents=True)
    (folder / "notes.md").write_text("mine")
    stale = folder / "manifests" / "40-pod-default.gone.yaml"  # an object deleted since
    stale.write_text("kind: Pod\n")
    run = await cli("--kubernetes", folder, "--data-dir", stopped.data_dir)
    assert run.rc == 2
    assert run.err == (
        f"kube9-desktop export: {folder} is not empty (2 entries: manifests, notes.md): name a "
        "new or empty folder, or pass --force to write over an earlier export there.\n"
    )
    assert files_under(folder) == {"manifests/40-pod-default.gone.yaml": "kind: Pod\n",
                                   "notes.md": "mine"}  # fmt: skip
    run = await cli("--kubernetes", folder, "--data-dir", stopped.data_dir, "--force")
    assert run.rc == 0, run.err
    assert files_under(folder) == {**stopped.export.files, "notes.md": "mine"}
    assert not stale.exists()


async def test_an_unwritable_folder_is_a_sentence_and_status_2(
    stopped: Stopped, tmp_path: Path
) -> None:
    # /sys refuses a new directory even to root (these tests run as root, so modes do not).
    run = await cli("--kubernetes", "/sys/kube9-export", "--data-dir", stopped.data_dir)
    assert run.rc == 2
    assert run.err == (
        "kube9-desktop export: Cannot write the export to /sys/kube9-export (Operation not "
        "permitted): choose a folder you can write to.\n"
    )
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    run = await cli("--kubernetes", a_file, "--data-dir", stopped.data_dir)
    assert (run.rc, run.err) == (
        2,
        f"kube9-desktop export: {a_file} is a file, not a folder: name a new or empty folder.\n",
    )
    run = await cli("--kubernetes", a_file / "k8s", "--data-dir", stopped.data_dir)
    assert run.rc == 2
    assert "(Not a directory): choose a folder you can write to.\n" in run.err


async def test_a_running_engine_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    engine = Engine(fast_settings(tmp_path / "data", k8s_port=0))
    await start_engine(engine)
    try:
        folder = tmp_path / "k8s"
        run = await cli("--kubernetes", folder, "--data-dir", tmp_path / "data")
        assert run.rc == 2
        assert run.err.startswith("kube9-desktop export: The cluster's engine is running (pid ")
        assert f"GET {engine.api_url}/export/kubernetes" in run.err
        assert "File > Export for Kubernetes…" in run.err
        assert "Traceback" not in run.err
        assert not folder.exists()
        assert engine.started and engine.store_lock is not None  # untouched
    finally:
        await engine.stop()


async def test_no_cluster_and_a_bad_kind_name_are_refused(stopped: Stopped, tmp_path: Path) -> None:
    run = await cli("--kubernetes", tmp_path / "k8s", "--data-dir", tmp_path / "nothing")
    assert (run.rc, run.err) == (
        2,
        f"kube9-desktop export: There is no cluster in {tmp_path / 'nothing'} (no cluster.db): "
        "pass the cluster's --data-dir (or its --db).\n",
    )
    assert not (tmp_path / "nothing").exists()  # not made by looking
    run = await cli("--kubernetes", tmp_path / "k8s", "--data-dir", stopped.data_dir,
                    "--kind-name", "Big_Lab")  # fmt: skip
    assert run.rc == 2
    assert "'Big_Lab' cannot name a kind cluster" in run.err
    assert not (tmp_path / "k8s").exists()
