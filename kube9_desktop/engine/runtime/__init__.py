"""Node runtimes: virtual (asyncio tasks), process (local agents), docker (containers)."""

from __future__ import annotations

from kube9_desktop.engine.errors import RuntimeUnavailable
from kube9_desktop.engine.runtime.base import NodeRuntime, ProgressFn
from kube9_desktop.settings import Settings


async def select_runtime(settings: Settings, progress: ProgressFn) -> tuple[NodeRuntime, str]:
    """The runtime the settings ask for, and a sentence saying which and why."""
    name = settings.runtime
    if name == "virtual":
        from kube9_desktop.engine.runtime.virtual import VirtualRuntime

        why = "for the demo (--runtime picks another)" if settings.demo else "as chosen in settings"
        return VirtualRuntime(), f"virtual nodes (in-process), {why}"
    if settings.docker_engines and name in ("docker", "auto"):
        from kube9_desktop.engine.runtime.engines import DockerEngines, engine_specs

        specs = engine_specs(settings.docker_engines)
        engines = DockerEngines(
            specs, cluster=settings.cluster_name, base_image=settings.base_image,
            progress=progress, advertise_url=settings.advertise_url,
        )  # fmt: skip
        await engines.probe_all()
        states = ", ".join(f"{n} {'up' if engines.is_up(n) else 'down'}" for n in engines.names)
        return engines, f"{len(specs)} Docker engines ({states})"
    if name in ("docker", "auto"):
        from kube9_desktop.engine.runtime.docker import DockerRuntime, docker_available

        ok, why = await docker_available()
        if ok:
            runtime = DockerRuntime(
                cluster=settings.cluster_name, base_image=settings.base_image, progress=progress
            )
            return runtime, "Docker" + (" found" if name == "auto" else ", as chosen in settings")
        if name == "docker":
            raise RuntimeUnavailable(f"The Docker runtime was chosen, but {why}")
        reason = f"Docker not available ({why}): using local processes"
    else:
        reason = "local processes, as chosen in settings"
    from kube9_desktop.engine.runtime.process import ProcessRuntime

    return ProcessRuntime(settings.data_dir, settings.cluster_name), reason
