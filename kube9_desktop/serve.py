"""The composition root's engine half: open the engine, serve its API, run it, add the demo.

Headless mode, the window, the self-test and the tests all start an engine this way; the
engine itself imports nothing from its HTTP layer.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kube9_desktop.engine.api.server import ApiServer
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import StoreInUse, UserError
from kube9_desktop.settings import Settings

if TYPE_CHECKING:
    from kube9_desktop.engine.k8s.export import Export
    from kube9_desktop.engine.k8s.server import K8sServer


def _k8s_server_class() -> type[K8sServer]:
    """The Kubernetes API's server, imported on first use: its modules and cryptography's
    cost tens of milliseconds, which a process that never serves it should not pay."""
    from kube9_desktop.engine.k8s.server import K8sServer

    return K8sServer


async def _agent_tls(engine: Engine) -> ssl.SSLContext | None:
    """With an https:// --advertise-url: the advertised listener's TLS, its certificate from
    the cluster's CA, whose PEM the remote engines' agents are given to verify it with."""
    s = engine.settings
    if not (s.docker_engines and s.advertise_url and s.advertise_url.startswith("https://")):
        return None
    from kube9_desktop.engine.k8s.tls import agent_listener_certificate

    host = urlsplit(s.advertise_url).hostname or ""
    cert, key, ca_pem = await asyncio.to_thread(agent_listener_certificate, s.data_dir, host)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runtime = engine.runtime
    if hasattr(runtime, "ca_pem"):
        runtime.ca_pem = ca_pem.decode()
    return context


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
            api = ApiServer(engine, engine.settings, agent_tls=await _agent_tls(engine))
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


async def export_stored_cluster(
    settings: Settings, folder: Path, *, force: bool = False, kind_name: str = "kube9"
) -> tuple[Export, list[Path]]:
    """Export the cluster of ``settings``' store to ``folder`` while no engine runs on it.

    The store is opened the way an engine opens it (its lock refuses a running engine's
    store, and an older schema is migrated) with a virtual runtime standing in, so no node is
    started, stopped or touched and no API is served; then it is closed again. It changes
    only what any engine's start tidies (the system namespaces, incidents a crashed engine
    left open). A running engine exports itself (the window's File > Export for
    Kubernetes…, ``GET /export/kubernetes``).
    """
    from kube9_desktop.engine.k8s.export import check_folder, export_cluster, write_export
    from kube9_desktop.engine.runtime.virtual import VirtualRuntime

    check_folder(folder, force=force)  # before the store is opened at all
    if settings.db_url is None and not (settings.data_dir / "cluster.db").is_file():
        raise UserError(
            f"There is no cluster in {settings.data_dir} (no cluster.db): pass the cluster's "
            "--data-dir (or its --db)."
        )
    engine = Engine(settings, runtime=VirtualRuntime())
    try:
        await engine.open()
        export = export_cluster(engine, kind_name)
    except StoreInUse as exc:
        holder = getattr(exc, "holder", None)
        api = holder.api_url if holder is not None and holder.api_url else None
        where = f"GET {api}/export/kubernetes" if api else "GET /export/kubernetes on its API"
        who = holder.describe() if holder is not None else "its details cannot be read"
        raise StoreInUse(
            f"The cluster's engine is running ({who}) and holds the store: export from it "
            f"(File > Export for Kubernetes… in its window, or {where}), or stop it and run "
            "this again."
        ) from exc
    finally:
        await engine.stop()
    return export, await asyncio.to_thread(write_export, export, folder, force=force)
