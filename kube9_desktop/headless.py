"""Headless mode: the engine and its API until SIGINT/SIGTERM, then a clean stop."""

from __future__ import annotations

import asyncio
import signal
import sys

from kube9_desktop import __version__
from kube9_desktop.engine import gc_policy
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.serve import start_engine
from kube9_desktop.settings import Settings


async def serve(settings: Settings) -> int:
    engine = Engine(settings)
    try:
        await start_engine(engine)
    except Kube9Error as exc:
        print(f"kube9-desktop: {exc.message}", file=sys.stderr)
        await engine.stop()
        return 2
    gc_policy.apply()
    token_from = "KUBE9_API_TOKEN" if settings.api_token else str(engine.token_path)
    print(
        f"Kube-9 Desktop {__version__} API listening on {engine.api_url}\n"
        f"  Kubernetes API: {engine.k8s_url} (kubectl: kube9-desktop kubeconfig --help)\n"
        f"  runtime: {engine.runtime.name} ({engine.runtime_reason})\n"
        f"  admin token: {token_from}\n"
        f"  data: {settings.data_dir}   store: {engine.store.url.split('://')[0]}\n"
        "  Ctrl+C stops the engine and its nodes.",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("Stopping…", flush=True)
    await engine.stop()
    return 0


def run_headless(settings: Settings) -> int:
    return asyncio.run(serve(settings))
