"""Virtual nodes: an asyncio task per node, heartbeating through the very handler the HTTP
route uses (same validation, same auth decision) without a socket. Pods are records reported
as running. Thousands fit in one process.

Readiness comes from the spec: a container with a readiness probe is ready ``initial_delay_s``
after the node started it (or restarted it after a kill), one without at once. Nothing runs,
so no probe can fail and there is no liveness.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kube9_desktop.agent.report import pod_digest
from kube9_desktop.engine.errors import RuntimeUnavailable
from kube9_desktop.engine.jsontypes import TextChecked
from kube9_desktop.engine.model import MASTER_COMPONENTS, WORKER_COMPONENTS
from kube9_desktop.engine.runtime.base import (
    ExitFn,
    FoundNode,
    NodeHandle,
    NodeLaunch,
    RuntimeState,
)
from kube9_desktop.engine.usage import DEFAULT_FRACTION, USAGE_PERIOD_S

log = logging.getLogger(__name__)

# (node id, bearer token, JSON body) -> (HTTP status, JSON reply)
HeartbeatSink = Callable[[int, str, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]
# (node id, bearer token, generation, offset, limit) -> one page of the node's desired pods
PageSource = Callable[[int, str, int, int, int], Awaitable[dict[str, Any]]]


# Its own generator: the global one belongs to callers (a Hypothesis test drawing cases while
# the engine starts nodes in another thread must not see its state move).
_SPREAD = random.Random()
STATUS_SYNC_S = 0.05  # how soon a started pod's status follows the reply that started it
EARLY_BEAT_SHARE = 0.05  # of the loop's time, at most, that early beats of all nodes take


class EarlyBeats:
    """The budget all virtual nodes of one runtime share for early beats (woken by the engine,
    or reporting pods just started). A beat carries the node's whole desired set, so with a
    create a millisecond, ten nodes of 200 pods woken by each one spent a third of the loop on
    their own beats and creates slowed by as much. An early beat that cost ``c`` seconds puts
    the next one ``c / EARLY_BEAT_SHARE`` later (never sooner than ``STATUS_SYNC_S``); the
    regular beats (once per interval) are not rationed."""

    __slots__ = ("free_at",)

    def __init__(self) -> None:
        self.free_at = 0.0

    def delay(self, now: float) -> float:
        return max(STATUS_SYNC_S, self.free_at - now)

    def spent(self, now: float, cost: float) -> None:
        self.free_at = max(self.free_at, now) + cost / EARLY_BEAT_SHARE


class Wakeup:
    """A flag the engine sets when a node has news, and a timed wait for it that costs one
    future and one timer (``wait_event`` makes a task per wait: at 1,000 nodes a fifth of a
    simulated scenario's time went there)."""

    __slots__ = ("flag", "waiter")

    def __init__(self) -> None:
        self.flag = False
        self.waiter: asyncio.Future[bool] | None = None

    def set(self) -> None:
        self.flag = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(True)

    def is_set(self) -> bool:
        return self.flag

    def clear(self) -> None:
        self.flag = False

    async def wait(self, timeout: float) -> bool:
        """Until set or ``timeout`` seconds; True if set. A cancellation is never swallowed."""
        if self.flag:
            return True
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        timer = loop.call_later(timeout, _time_up, waiter)
        try:
            return bool(await waiter)
        finally:
            timer.cancel()
            self.waiter = None


def _time_up(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class VirtualNode:
    """One simulated node agent. Reports pods only when something changed, like a lazy kubelet:
    everything after a start or a refused heartbeat (``dirty``), else only the pods that are new
    or restarted (``unreported``) with the pod list, so a node with hundreds of pods does not
    re-report them all whenever one is added."""

    __slots__ = (
        "changed",
        "clock",
        "components",
        "dirty",
        "early",
        "faults",
        "generation",
        "launch",
        "pages",
        "paused",
        "pods",
        "readiness_due",
        "seq",
        "sink",
        "spread",
        "task",
        "unreported",
        "usage_pods",
        "woken",
    )

    def __init__(
        self,
        launch: NodeLaunch,
        sink: HeartbeatSink,
        pages: PageSource | None = None,
        clock: Callable[[], float] = time.monotonic,
        early: EarlyBeats | None = None,
        spread: random.Random = _SPREAD,
    ) -> None:
        self.launch = launch
        self.spread = spread
        self.early = early or EarlyBeats()
        self.clock = clock  # the event loop's time (monotonic)
        self.sink = sink
        self.pages = pages
        self.components = MASTER_COMPONENTS if launch.node_type == "master" else WORKER_COMPONENTS
        self.generation: int | None = None
        # pod id -> {"cpu_m": int, "containers": {name: (restarts, exit code)},
        #            "ready_at": {name: loop time it becomes ready}} (no entry: ready at once)
        self.pods: dict[int, dict[str, Any]] = {}
        self.readiness_due: list[tuple[float, int]] = []  # heap of (ready_at, pod id)
        self.faults: dict[str, str] = {}
        self.paused = False
        self.dirty = True
        self.changed = False  # the pod set changed since the last report
        self.unreported: set[int] = set()
        self.usage_pods: list[int] = []  # pods that declare usage (the only ones reporting it)
        self.seq = 0
        self.task: asyncio.Task[None] | None = None
        self.woken = Wakeup()  # the engine has news for it (a kubelet's watch)

    def report(self) -> dict[str, Any]:
        self.seq += 1
        body: dict[str, Any] = {
            "components": {c: self.faults.get(c, "running") for c in self.components},
            "generation": self.generation,
            "agent": {"version": "virtual", "seq": self.seq},
        }
        now = self.clock()
        while self.readiness_due and self.readiness_due[0][0] <= now:
            _, pod_id = heapq.heappop(self.readiness_due)
            if pod_id in self.pods:
                self.unreported.add(pod_id)  # a container became ready: report the pod
        if self.dirty or self.changed or self.unreported:
            used = sum(p["cpu_m"] for p in self.pods.values())
            body["pod_count"] = len(self.pods)
            body["pod_digest"] = pod_digest(self.pods)
            body["cpu_cores_avail"] = (self.launch.cpu_m - used) / 1000
            body["pods"] = [
                {
                    "id": pod_id,
                    "phase": "running",
                    "containers": [
                        {
                            "name": name,
                            "state": "running",
                            "exit_code": code,
                            "restarts": n,
                            "ready": p["ready_at"].get(name, now) <= now,
                        }
                        for name, (n, code) in p["containers"].items()
                    ],
                }
                for pod_id, p in self.pods.items()
                if self.dirty or pod_id in self.unreported
            ]
            self.dirty = self.changed = False
            self.unreported.clear()
        modelled = [modelled_usage(i, self.pods[i], now) for i in self.usage_pods]
        if modelled:  # only pods that declare usage (see modelled_usage)
            body["usage"] = {"pods": modelled}
        # Its text is the engine's own (names from validated specs, fixed states): validation
        # need not walk a 10,000-pod report for NULs at every beat.
        return TextChecked(body)

    def apply(self, reply: dict[str, Any]) -> None:
        desired = reply.get("desired_pods")
        if desired is not None:
            wanted = {int(p["id"]): p for p in desired}
            self.unreported.update(pid for pid in wanted if pid not in self.pods)
            self.pods = {
                pid: self.pods.get(pid) or self._started(pid, p) for pid, p in wanted.items()
            }
            # Found once per desired set, not scanned for at every beat of a 10,000-pod node.
            self.usage_pods = [pid for pid, p in self.pods.items() if p["usage"]]
            self.changed = True
        self.generation = reply.get("generation", self.generation)
        faults = reply.get("component_faults") or {}
        if faults != self.faults:
            self.faults = dict(faults)
        for kill in reply.get("kill") or ():
            pod = self.pods.get(int(kill.get("pod_id", 0)))
            if pod is None:
                continue
            target = kill.get("container")
            for name, (restarts, _) in list(pod["containers"].items()):
                if target in (None, name):
                    pod["containers"][name] = (restarts + 1, 137)  # SIGKILL, restarted at once
                    if name in pod["delays"]:  # a new container: not ready until its delay
                        self._ready_after(int(kill["pod_id"]), pod, name)
            self.unreported.add(int(kill.get("pod_id", 0)))

    def _started(self, pod_id: int, desired: dict[str, Any]) -> dict[str, Any]:
        """The record of a pod this node starts now, readiness timed from this moment."""
        delays = {
            c["name"]: max(0.0, float(c["readiness"].get("initial_delay_s") or 0.0))
            for c in desired["containers"]
            if isinstance(c.get("readiness"), dict)
        }
        declared = desired.get("usage") or {}
        cpu = float(desired.get("cpu_req") or 0)
        pod: dict[str, Any] = {
            "usage": None
            if not declared
            else (
                float(declared.get("cpu_cores", cpu * DEFAULT_FRACTION)),
                float(
                    declared.get(
                        "memory_mb", float(desired.get("memory_req") or 0) * DEFAULT_FRACTION
                    )
                ),
                float(declared.get("vary", 0.0)),
            ),
            "cpu_m": round(cpu * 1000),
            "containers": {c["name"]: (0, None) for c in desired["containers"]},
            "delays": delays,
            "ready_at": {},
        }
        for name in delays:
            self._ready_after(pod_id, pod, name)
        return pod

    def _ready_after(self, pod_id: int, pod: dict[str, Any], name: str) -> None:
        ready_at = self.clock() + pod["delays"][name]
        pod["ready_at"][name] = ready_at
        heapq.heappush(self.readiness_due, (ready_at, pod_id))

    async def _fetch_desired(self, reply: dict[str, Any]) -> dict[str, Any]:
        """A desired set too large for a reply, fetched page by page like an agent does."""
        if self.pages is None:
            return {k: v for k, v in reply.items() if k != "generation"}
        generation = int(reply["generation"])
        pods: list[dict[str, Any]] = []
        offset: int | None = 0
        try:
            while offset is not None:
                page = await self.pages(
                    self.launch.node_id, self.launch.token, generation, offset, 2000
                )
                pods += page["pods"]
                offset = page["next_offset"]
        except Exception:  # the set moved on meanwhile: take it from the next heartbeat
            return {k: v for k, v in reply.items() if k != "generation"}
        return {**reply, "desired_pods": pods}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.launch.heartbeat_interval
        next_at = loop.time() + self.spread.uniform(0, interval)  # spread nodes over the interval
        pulled_in = False  # next_at was brought forward: that beat is an early one
        while True:
            delay = max(0.0, next_at - loop.time())
            if delay > 0 and not self.woken.is_set():
                await self.woken.wait(delay)
            woken = self.woken.is_set()
            if woken:
                self.woken.clear()
                now = loop.time()
                wait = self.early.delay(now)
                if now + wait < next_at:
                    # Gather what else changes meanwhile (and wait for the shared budget).
                    await asyncio.sleep(wait)
                else:
                    # The regular beat comes first, and brings the news: an early beat must
                    # never hold back the beat that proves the node alive.
                    await asyncio.sleep(max(0.0, next_at - now))
                    woken = False
            early = woken or pulled_in
            if not woken:
                next_at = max(next_at + interval, loop.time())
                pulled_in = False
            if self.paused:
                continue
            began = loop.time()
            try:
                status, reply = await self.sink(
                    self.launch.node_id, self.launch.token, self.report()
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("virtual node %s: heartbeat failed", self.launch.name)
                self.dirty = True
                continue
            if status == 200:
                if "desired_pods_url" in reply:
                    reply = await self._fetch_desired(reply)
                self.apply(reply)
                now = loop.time()
                if early:
                    self.early.spent(now, now - began)
                if self.unreported:
                    # Pods just started: say so soon, as a kubelet's status sync does, not a
                    # whole interval later (the next beat keeps the interval from there).
                    soon = now + self.early.delay(now)
                    if soon < next_at:
                        next_at, pulled_in = soon, True
            elif status == 404 and reply.get("should_stop_heartbeat"):
                return
            else:
                self.dirty = True  # resend the full report once the engine hears us again


def modelled_usage(pod_id: int, pod: dict[str, Any], now: float) -> dict[str, Any]:
    """A virtual pod's usage: its declared (or default) figures, swung by ``vary`` as a sine
    whose phase depends on the pod, so pods of one node do not move in step."""
    cpu, mem, vary = pod["usage"]
    if vary:
        swing = 1 + vary * math.sin(2 * math.pi * now / USAGE_PERIOD_S + pod_id)
        cpu, mem = cpu * swing, mem * (1 + (swing - 1) / 4)  # memory moves less than CPU
    return {"id": pod_id, "cpu_cores": round(cpu, 4), "memory_mb": round(mem, 2)}


class VirtualRuntime:
    name = "virtual"

    def __init__(
        self, sink: HeartbeatSink | None = None, *, spread: random.Random | None = None
    ) -> None:
        """``spread`` draws each node's first beat in its interval (a seeded one makes a
        simulated run repeatable; scenario/driver.py passes one)."""
        self._sink = sink
        self._spread = spread or _SPREAD
        self._pages: PageSource | None = None
        self._nodes: dict[int, VirtualNode] = {}
        self._broken: dict[int, int] = {}  # node id -> restarts that come up dead (tests, demos)
        self._early = EarlyBeats()
        self._on_exit: ExitFn | None = None

    def watch_exits(self, on_exit: ExitFn) -> None:
        """A virtual node has no process to die; its kill (a crash fault) is reported as the
        runtime's news, so ``--detect-from-runtime`` plays out on virtual clusters too."""
        self._on_exit = on_exit

    def bind(self, sink: HeartbeatSink, pages: PageSource | None = None) -> None:
        """Connect the heartbeat handler and the desired-pods pages (the engine does this)."""
        self._sink = sink
        self._pages = pages

    def break_node(self, node_id: int, starts: int = 1_000_000) -> None:
        """The next ``starts`` starts of this node come up dead (a node that will not boot)."""
        self._broken[node_id] = starts

    async def start(self, launch: NodeLaunch) -> NodeHandle:
        if self._sink is None:
            raise RuntimeUnavailable("the virtual runtime has no engine to heartbeat to")
        old = self._nodes.pop(launch.node_id, None)
        if old is not None and old.task is not None:
            old.task.cancel()
        node = VirtualNode(
            launch, self._sink, self._pages, asyncio.get_running_loop().time, self._early,
            self._spread,
        )  # fmt: skip
        self._nodes[launch.node_id] = node
        if self._broken.get(launch.node_id, 0) > 0:
            self._broken[launch.node_id] -= 1  # comes up dead: no task, no heartbeats
        else:
            node.task = asyncio.create_task(node.run(), name=f"virtual-node-{launch.name}")
        return NodeHandle(launch.node_id, launch.name, f"virtual-{launch.node_id}")

    def _halt(self, node_id: int) -> VirtualNode | None:
        node = self._nodes.get(node_id)
        if node is not None and node.task is not None:
            node.task.cancel()
            node.task = None
            node.pods.clear()
            node.readiness_due.clear()
        return node

    def answering(self, node_id: int) -> bool:
        """Its (modelled) processes run: started, not killed, not frozen."""
        node = self._nodes.get(node_id)
        return (
            node is not None and node.task is not None and not node.task.done() and not node.paused
        )

    def wake(self, node_id: int) -> None:
        """The node's desired pods changed: it hears of them now, as a kubelet's watch would,
        not at its next heartbeat."""
        node = self._nodes.get(node_id)
        if node is not None and node.task is not None:
            node.woken.set()

    async def stop(self, node_id: int) -> None:
        self._halt(node_id)

    async def kill(self, node_id: int) -> None:
        node = self._halt(node_id)
        if node is not None and self._on_exit is not None:
            asyncio.get_running_loop().call_soon(
                self._on_exit, node_id, "its virtual node was killed"
            )

    async def pause(self, node_id: int) -> None:
        node = self._nodes.get(node_id)
        if node is not None:
            node.paused = True

    async def resume(self, node_id: int) -> None:
        node = self._nodes.get(node_id)
        if node is not None:
            node.paused = False

    async def restart(self, launch: NodeLaunch) -> NodeHandle:
        self._halt(launch.node_id)
        return await self.start(launch)

    async def remove(self, node_id: int) -> None:
        self._halt(node_id)
        self._nodes.pop(node_id, None)
        self._broken.pop(node_id, None)

    async def status(self, node_id: int) -> RuntimeState:
        node = self._nodes.get(node_id)
        if node is None:
            return RuntimeState.MISSING
        if node.task is None or node.task.done():
            return RuntimeState.EXITED
        return RuntimeState.PAUSED if node.paused else RuntimeState.RUNNING

    async def discover(self) -> list[FoundNode]:
        return []  # virtual nodes live and die with the process

    async def adopt(self, launch: NodeLaunch, found: FoundNode) -> NodeHandle:
        return await self.start(launch)

    async def close(self) -> None:
        self._on_exit = None
        for node_id in list(self._nodes):
            self._halt(node_id)
        self._nodes.clear()
