"""Shared helpers for the agent tests: a scripted fake engine, agent processes, polling waits."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kube9_desktop.agent.config import AgentConfig
from kube9_desktop.agent.containers import RestartPolicy
from kube9_desktop.agent.node import NodeAgent
from kube9_desktop.agent.pods import PodSupervisor

FAST = RestartPolicy(base_s=0.05, cap_s=0.2)
TOKEN = "node-token-s3cr3t"
SECRET = "secret123-do-not-log"
NODE_ID = 7
INTERVAL = 0.2
REPORT_BASE_BYTES = 16 * 1024  # the engine's heartbeat.report_limit: 16 KiB + 1 KiB per pod
REPORT_BYTES_PER_POD = 1024
DESIRED_INLINE_BYTES = 1024 * 1024  # the engine's: larger sets come in pages


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def pod(
    pod_id: int,
    name: str,
    *containers: dict[str, Any],
    env: list[dict[str, Any]] | None = None,
    volumes: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A desired pod as the engine sends it (``extra``: ``ip``, ``namespace``)."""
    return {
        "id": pod_id,
        "name": name,
        "containers": list(containers),
        "env": env or [],
        "volumes": volumes or [],
        **extra,
    }


def container(name: str, command: Any = None, args: Any = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox:latest", "command": command, "args": args, **extra}


def sleeper(name: str = "main") -> dict[str, Any]:
    return container(name, ["sleep", "1000"])


@dataclass(frozen=True)
class Recorded:
    """One request the fake engine received."""

    path: str
    headers: dict[str, str]
    body: bytes
    report: Any


class FakeEngine:
    """A real HTTP server on 127.0.0.1 that answers heartbeats like the engine, or as scripted.

    By default it replies like protocol.md: ``report_all`` on its first heartbeat,
    ``max_report_bytes`` (16 KiB + 1 KiB per desired pod, or ``report_cap`` when set; a larger
    body gets a 413), ``desired_pods`` only while the agent's generation differs, and as
    ``desired_pods_url`` pages (``GET /nodes/7/desired``, 409 when stale) once the set exceeds
    ``inline_limit`` bytes. ``script`` and ``script_page`` queue raw one-shot replies (status,
    body) that take precedence. ``pods`` holds each pod's latest report, as the engine does.
    """

    def __init__(self, port: int = 0) -> None:
        self.requests: list[Recorded] = []
        self.pages: list[Recorded] = []
        self.generation = 1
        self.desired: list[dict[str, Any]] = []
        self.component_faults: dict[str, str] = {}
        self.kills: list[dict[str, Any]] = []
        self.pods: dict[int, dict[str, Any]] = {}
        self.report_cap: int | None = None
        self.inline_limit = DESIRED_INLINE_BYTES
        self.report_all_next = True
        self.too_large: list[int] = []  # sizes of heartbeat bodies refused with a 413
        self._scripted: deque[tuple[int, bytes]] = deque()
        self._scripted_pages: deque[tuple[int, bytes]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def set_desired(self, *pods: dict[str, Any]) -> None:
        with self._lock:
            self.desired = list(pods)
            self.generation += 1

    def script(self, status: int, body: bytes | dict[str, Any] | list[Any]) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        with self._lock:
            self._scripted.append((status, raw))

    def script_page(self, status: int, body: bytes | dict[str, Any] | list[Any]) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        with self._lock:
            self._scripted_pages.append((status, raw))

    @property
    def max_report_bytes(self) -> int:
        if self.report_cap is not None:
            return self.report_cap
        return REPORT_BASE_BYTES + REPORT_BYTES_PER_POD * len(self.desired)

    def kill(self, pod_id: int, container_name: str | None) -> None:
        with self._lock:
            self.kills.append({"pod_id": pod_id, "container": container_name})

    def reports(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.report for r in self.requests if isinstance(r.report, dict)]

    def last_report(self) -> dict[str, Any] | None:
        reports = self.reports()
        return reports[-1] if reports else None

    def pod_report(self, pod_id: int) -> dict[str, Any] | None:
        """The latest report of one pod the engine accepted, or None."""
        with self._lock:
            found = self.pods.get(pod_id)
            return json.loads(json.dumps(found)) if found is not None else None

    def container_report(self, pod_id: int, name: str) -> dict[str, Any] | None:
        """The latest accepted state of one container, or None."""
        for entry in (self.pod_report(pod_id) or {}).get("containers", []):
            if entry["name"] == name:
                return dict(entry)
        return None

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            report = json.loads(body)
        except ValueError:
            report = None
        with self._lock:
            self.requests.append(Recorded(path, headers, body, report))
            if self._scripted:
                return self._scripted.popleft()
            if len(body) > max(REPORT_BASE_BYTES, self.max_report_bytes):
                self.too_large.append(len(body))
                return 413, json.dumps({"error": "Request body too large"}).encode()
            if isinstance(report, dict):
                self.pods.update((p["id"], p) for p in report.get("pods") or ())
            reply: dict[str, Any] = {
                "message": "Heartbeat received",
                "node_status": "healthy",
                "should_stop_heartbeat": False,
                "heartbeat_interval_s": INTERVAL,
                "generation": self.generation,
                "max_report_bytes": self.max_report_bytes,
                "component_faults": dict(self.component_faults),
            }
            if self.report_all_next:
                reply["report_all"], self.report_all_next = True, False
            if not isinstance(report, dict) or report.get("generation") != self.generation:
                if len(json.dumps(self.desired)) > self.inline_limit:
                    reply["desired_pods_url"] = (
                        f"/nodes/{NODE_ID}/desired?generation={self.generation}"
                    )
                    reply["desired_pods_count"] = len(self.desired)
                else:
                    reply["desired_pods"] = self.desired
            if self.kills:
                reply["kill"], self.kills = self.kills, []
        return 200, json.dumps(reply).encode()

    def page(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        """``GET /nodes/7/desired?generation=&offset=&limit=``, like the engine's route."""
        parts = urlsplit(path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.pages.append(Recorded(path, headers, b"", query))
            if self._scripted_pages:
                return self._scripted_pages.popleft()
            if parts.path != f"/nodes/{NODE_ID}/desired" or headers.get("Authorization") != (
                f"Bearer {TOKEN}"
            ):
                return 403, json.dumps({"error": "forbidden"}).encode()
            if int(query.get("generation", 0)) != self.generation:
                return 409, json.dumps({"error": "stale generation"}).encode()
            offset = int(query.get("offset", 0))
            limit = max(1, min(int(query.get("limit", 500)), 2000))
            pods = sorted(self.desired, key=lambda p: int(p["id"]))
            chunk = pods[offset : offset + limit]
            end = offset + len(chunk)
            reply = {
                "generation": self.generation,
                "total": len(pods),
                "offset": offset,
                "pods": chunk,
                "next_offset": end if end < len(pods) else None,
            }
        return 200, json.dumps(reply).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, raw = engine.answer(self.path, dict(self.headers.items()), body)
                self._reply(status, raw)

            def do_GET(self) -> None:
                status, raw = engine.page(self.path, dict(self.headers.items()))
                self._reply(status, raw)

            def _reply(self, status: int, raw: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(raw)  # an agent stops reading a reply over its cap

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def agent_env(engine_url: str, work_dir: Path, **overrides: str) -> dict[str, str]:
    """The KUBE9_* environment of an agent for node 7."""
    env = {
        "KUBE9_NODE_ID": str(NODE_ID),
        "KUBE9_NODE_NAME": "worker-1",
        "KUBE9_NODE_TYPE": "worker",
        "KUBE9_API_URL": engine_url,
        "KUBE9_NODE_TOKEN": TOKEN,
        "KUBE9_HEARTBEAT_INTERVAL": str(INTERVAL),
        "KUBE9_WORK_DIR": str(work_dir),
        "KUBE9_CPU_M": "2000",
        "KUBE9_MEM_MI": "4096",
        "KUBE9_CRASH_BACKOFF": "1",  # short, as the engine's tests set it
        "KUBE9_CRASH_BACKOFF_CAP": "30",
    }
    env.update(overrides)
    return env


def agent_config(engine_url: str, work_dir: Path, node_type: str = "worker") -> AgentConfig:
    return AgentConfig(
        node_id=NODE_ID,
        node_name="worker-1",
        api_url=engine_url,
        token=TOKEN,
        work_dir=work_dir,
        node_type=node_type,
        heartbeat_interval=INTERVAL,
        cpu_m=2000,
        mem_mi=4096,
    )


def make_agent(url: str, work_dir: Path, node_type: str = "worker") -> NodeAgent:
    """An in-process agent for node 7 with fast restarts and a short stop grace."""
    supervisor = PodSupervisor(work_dir, policy=FAST, stop_grace_s=0.5)
    return NodeAgent(agent_config(url, work_dir, node_type), supervisor=supervisor)


def container_pid(agent: NodeAgent, pod_id: int, name: str) -> int:
    """Tick the agent's pods until the container runs; return its pid."""

    def pid() -> int | None:
        agent.supervisor.tick()
        c = agent.supervisor.active[pod_id].containers[name]
        return c.process.pid if c.alive and c.process is not None else None

    return int(wait_for(pid, what=f"{name} running"))


class AgentProcess:
    """A real ``python -m kube9_desktop.agent`` in its own session, killed with its group."""

    def __init__(self, env: dict[str, str], work_dir: Path) -> None:
        self.work_dir = work_dir
        self.stderr_path = work_dir.parent / "agent-stderr.log"
        full_env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", **env}
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kube9_desktop.agent"],
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def logs(self) -> str:
        """Everything the agent logged: its stderr and its work-dir log files."""
        texts = [self.stderr_path.read_text(errors="replace")]
        texts += [p.read_text(errors="replace") for p in self.work_dir.glob("agent.log*")]
        return "\n".join(texts)

    def wait(self, timeout: float = 15.0) -> int:
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
