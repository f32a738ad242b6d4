"""Benchmark: the Kubernetes API as its clients use it (issue 15).

The server is ``main.py --headless --runtime virtual`` in a child process, its nodes heartbeating
meanwhile; the cluster is built over the Kube-9 API. Printed:

- ``kubectl get pods`` (the real kubectl, at default flags, its discovery cache warm) in a
  namespace of 1,000 pods: seconds, median of 3;
- a list of every pod (10,000 in all) through the official Python client
  (``list_pod_for_all_namespaces``, objects deserialized as a script gets them), and the same
  list as raw HTTPS JSON beside it: seconds, median of 3;
- 100 watchers (raw HTTPS streams from the version of a list) while 1,000 pods are created as
  fast as 4 connections can: each (watcher, pod) ADDED event's latency from the moment its
  create was sent, p50/p99/max, and how many of the 100,000 expected events never came;
- ``kubectl apply -f`` of one file of 100 Deployments: seconds to create them, and to apply
  the same file again (all unchanged).

    .venv/bin/python bench/k8s_api.py [--pods 10000] [--burst 1000] [--watchers 100] [--apply 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import free_port, median, percentile  # noqa: E402

TOKEN = "bench-k8s-token"
PODS_PER_NODE = 100


def pod(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "cpu_cores_req": 0.01,
            "containers": [{"name": "c", "image": "nginx:1.27", "memory_req": 1}]}  # fmt: skip


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port, self.k8s_port = free_port(), free_port()
        self.api = f"http://127.0.0.1:{self.port}"
        self.k8s = f"https://127.0.0.1:{self.k8s_port}"
        env = {**os.environ, "KUBE9_API_TOKEN": TOKEN}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--headless", "--runtime", "virtual",
             "--port", str(self.port), "--k8s-port", str(self.k8s_port),
             "--data-dir", str(data_dir), "--log-level", "WARNING"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT,
        )  # fmt: skip

    def ssl(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.data_dir / "k8s" / "ca.crt"))

    def kubeconfig(self, path: Path) -> Path:
        env = {**os.environ, "KUBE9_API_TOKEN": TOKEN}
        subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "kubeconfig", "--data-dir",
             str(self.data_dir), "--k8s-port", str(self.k8s_port), "--output", str(path)],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
        return path

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def api_call(s: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with s.request(method, url, json=body, headers=headers) as resp:
        if resp.status >= 300:
            raise RuntimeError(f"{method} {url}: {resp.status} {await resp.text()}")
        return await resp.json()


async def ready(server: Server, s: aiohttp.ClientSession) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            async with s.get(server.api + "/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline or server.proc.poll() is not None:
            raise RuntimeError("the headless engine did not start")
        await asyncio.sleep(0.05)


async def create_pods(server: Server, s: aiohttp.ClientSession, names: list[tuple[str, str]],
                      sent: dict[str, float] | None = None) -> None:  # fmt: skip
    """POST each pod over 4 connections; ``sent`` gets each one's send time."""
    queue = iter(names)

    async def worker() -> None:
        for name, ns in queue:
            if sent is not None:
                sent[name] = time.perf_counter()
            await api_call(s, "POST", server.api + "/pods/", pod(name, ns))

    await asyncio.gather(*(worker() for _ in range(4)))


async def build(server: Server, s: aiohttp.ClientSession, pods: int, burst: int, k1: int) -> None:
    await ready(server, s)
    nodes = -(-(pods + burst) // PODS_PER_NODE) + 1
    for i in range(nodes):
        await api_call(s, "POST", server.api + "/nodes/", {
            "name": f"n{i:03d}", "cpu_cores_avail": 64, "memory_mb": 65536,
        })  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        listed = await api_call(s, "GET", server.api + "/nodes/")
        if sum(n["health_status"] == "healthy" for n in listed) >= nodes:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("nodes did not become healthy")
        await asyncio.sleep(0.2)
    for ns in ("k1", "burst", "apply"):
        await api_call(s, "POST", server.api + "/namespaces/", {"name": ns})
    names = [(f"k1-{i:04d}", "k1") for i in range(k1)]
    names += [(f"p-{i:05d}", "default") for i in range(pods - k1)]
    await create_pods(server, s, names)


def kubectl_get(kubeconfig: Path, home: Path, expected: int) -> float:
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(home), "PATH": "/usr/bin:/bin"}
    kubectl = shutil.which("kubectl") or "/usr/bin/kubectl"
    start = time.perf_counter()
    out = subprocess.run([kubectl, "get", "pods", "-n", "k1"], env=env, capture_output=True,
                         text=True, check=True)  # fmt: skip
    elapsed = time.perf_counter() - start
    rows = len(out.stdout.splitlines()) - 1
    if rows != expected:
        raise RuntimeError(f"kubectl printed {rows} pods, not {expected}")
    return elapsed


def kubectl_apply(kubeconfig: Path, home: Path, count: int) -> tuple[float, float]:
    """``kubectl apply -f`` of one file of ``count`` Deployments (one replica each): seconds to
    create them, then seconds for the same file again (every one unchanged)."""
    docs = [
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i:03d}}}\nspec:\n"
        f"  selector: {{matchLabels: {{app: app-{i:03d}}}}}\n  template:\n"
        f"    metadata: {{labels: {{app: app-{i:03d}}}}}\n"
        f"    spec: {{containers: [{{name: web, image: 'nginx:1.25'}}]}}\n"
        for i in range(count)
    ]
    path = home / "apps.yaml"
    path.write_text("---\n".join(docs))
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(home), "PATH": "/usr/bin:/bin"}
    kubectl = shutil.which("kubectl") or "/usr/bin/kubectl"
    times = []
    for word in ("created", "unchanged"):
        start = time.perf_counter()
        out = subprocess.run([kubectl, "apply", "-n", "apply", "-f", str(path)], env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
        times.append(time.perf_counter() - start)
        if out.stdout.count(word) != count:
            raise RuntimeError(f"kubectl apply did not say {word} {count} times: {out.stdout}")
    return times[0], times[1]


def client_list(kubeconfig: Path, expected: int) -> float:
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        start = time.perf_counter()
        listed = client.CoreV1Api(api).list_pod_for_all_namespaces()
        elapsed = time.perf_counter() - start
    finally:
        api.close()
    if len(listed.items) != expected:
        raise RuntimeError(f"the client listed {len(listed.items)} pods, not {expected}")
    return elapsed


async def raw_list(server: Server, expected: int) -> float:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as s:
        start = time.perf_counter()
        async with s.get(server.k8s + "/api/v1/pods", headers=headers, ssl=server.ssl()) as r:
            body = json.loads(await r.read())
        elapsed = time.perf_counter() - start
    if len(body["items"]) != expected:
        raise RuntimeError(f"the list had {len(body['items'])} pods, not {expected}")
    return elapsed


async def watch_burst(server: Server, watchers: int, burst: int) -> tuple[list[float], int]:
    """Latencies (s) of every ADDED event of the burst at every watcher, and how many were
    never received."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    ctx = server.ssl()
    connector = aiohttp.TCPConnector(limit=0, ssl=ctx)
    sent: dict[str, float] = {}
    latencies: list[float] = []
    names = [(f"b-{i:04d}", "burst") for i in range(burst)]
    async with aiohttp.ClientSession(connector=connector) as s:
        listed = await api_call_k8s(s, server, "/api/v1/namespaces/burst/pods")
        rv = listed["metadata"]["resourceVersion"]
        opened = 0
        all_open = asyncio.Event()
        got: list[set[str]] = [set() for _ in range(watchers)]

        async def watcher(i: int) -> None:
            nonlocal opened
            url = (f"{server.k8s}/api/v1/namespaces/burst/pods?watch=true"
                   f"&resourceVersion={rv}&timeoutSeconds=120")  # fmt: skip
            async with s.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=180)) as r:
                opened += 1
                if opened == watchers:
                    all_open.set()
                async for line in r.content:
                    event = json.loads(line)
                    if event["type"] != "ADDED":
                        continue
                    name = event["object"]["metadata"]["name"]
                    latencies.append(time.perf_counter() - sent[name])
                    got[i].add(name)
                    if len(got[i]) == burst:
                        return

        tasks = [asyncio.create_task(watcher(i)) for i in range(watchers)]
        await asyncio.wait_for(all_open.wait(), 60)
        async with aiohttp.ClientSession() as plain:
            await create_pods(server, plain, names, sent)
        await asyncio.wait(tasks, timeout=120)
        for t in tasks:
            t.cancel()
    lost = watchers * burst - sum(len(g) for g in got)
    return latencies, lost


async def api_call_k8s(s: aiohttp.ClientSession, server: Server, path: str) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with s.get(server.k8s + path, headers=headers) as resp:
        return await resp.json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--k1", type=int, default=1000, help="pods kubectl gets (of --pods)")
    parser.add_argument("--apply", type=int, default=100, help="Deployments kubectl applies")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kube9-bench-k8s-") as tmp:
        server = Server(Path(tmp) / "data")
        try:

            async def setup() -> None:
                async with aiohttp.ClientSession() as s:
                    await build(server, s, args.pods, args.burst, args.k1)

            t0 = time.perf_counter()
            asyncio.run(setup())
            print(f"built {args.pods} pods in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            kubeconfig = server.kubeconfig(Path(tmp) / "kubeconfig")
            home = Path(tmp) / "home"
            home.mkdir()
            kubectl_get(kubeconfig, home, args.k1)  # discovery cache warm, as a user's 2nd use
            kubectl_s = median(kubectl_get(kubeconfig, home, args.k1) for _ in range(3))
            client_s = median(client_list(kubeconfig, args.pods) for _ in range(3))
            raw_s = median(asyncio.run(raw_list(server, args.pods)) for _ in range(3))
            latencies, lost = asyncio.run(watch_burst(server, args.watchers, args.burst))
            apply_s, again_s = kubectl_apply(kubeconfig, home, args.apply)
        finally:
            server.stop()
    print(f"kubectl_get_pods_{args.k1}_s {kubectl_s:.2f}")
    print(f"client_list_{args.pods}_pods_s {client_s:.2f}  (raw HTTPS JSON: {raw_s:.2f})")
    if latencies:
        print(f"watch_{args.watchers}x{args.burst}_p50_s {percentile(latencies, 50):.3f}")
        print(f"watch_{args.watchers}x{args.burst}_p99_s {percentile(latencies, 99):.3f}  "
              f"(max {max(latencies):.3f}; target p99 <= 1 s)")  # fmt: skip
    print(f"watch_events_lost {lost} of {args.watchers * args.burst}")
    print(f"kubectl_apply_{args.apply}_deployments_s {apply_s:.2f}  (again, unchanged: "
          f"{again_s:.2f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
