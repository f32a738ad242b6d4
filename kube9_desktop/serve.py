"""The composition root's engine half: open the engine, serve its API, run it, add the demo.

Headless mode, the window, the self-test and the tests all start an engine this way; the
engine itself imports nothing from its HTTP layer.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from kube9_desktop.engine.api.server import ApiServer
from kube9_desktop.engine.core import Engine

if TYPE_CHECKING:
    from kube9_desktop.engine.k8s.server import K8sServer


def _k8s_server_class() -> type[K8sServer]:
    """The Kubernetes API's server, imported on first use: its modules and cryptography's
    cost tens of milliseconds, which a process that never serves it should not pay."""
    from kube9_desktop.engine.k8s.server import K8sServer

    return K8sServer


async def start_engine(
    engine: Engine, *, serve_api: bool = True, demo: bool | None = None
) -> Engine:
    """Open ``engine``, serve its APIs (unless told not to), run it; the demo if asked and empty.

    The APIs are the Kube-9 API (``engine.api_url``) and the Kubernetes API over HTTPS
    (``engine.k8s_url``), both stopped when the engine stops.

    On failure whatever was started is stopped again before the error propagates.
    """
    try:
        await engine.open()
        if serve_api:
            api = ApiServer(engine, engine.settings)
            engine.api_url = await api.start()
            engine.on_stop(api.stop)
            # Imported on a worker thread: the Kube-9 API, already listening, answers meanwhile
            # (as it does while the certificates are made, also on a thread).
            k8s = (await asyncio.to_thread(_k8s_server_class))(engine, engine.settings)
            engine.k8s_url = await k8s.start()
            engine.on_stop(k8s.stop)
        await engine.run()
        wants_demo = engine.settings.demo if demo is None else demo
        if wants_demo and not engine.nodes():
            from kube9_desktop.engine.demo import create_demo_cluster

            await create_demo_cluster(engine)
    except BaseException:
        await engine.stop()
        raise
    return engine
