"""Composition root: command-line arguments -> GUI | --headless | agent | --self-test."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kube9_desktop import __version__
from kube9_desktop.settings import RUNTIMES, SCHEDULERS, Settings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kube9-desktop",
        description="A small Kubernetes-style cluster on your desktop: watch it, break it.",
        epilog="'kube9-desktop agent' runs a node agent (used by the process and Docker "
        "runtimes); 'kube9-desktop kubeconfig' writes a kubeconfig for kubectl; "
        "'kube9-desktop export --kubernetes DIR' writes the cluster for a real Kubernetes; "
        "'kube9-desktop scenario run FILE' runs a scenario in simulated time.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--headless", action="store_true", help="run the engine and API without a window"
    )
    mode.add_argument("--self-test", action="store_true", help="check this installation end to end")
    p.add_argument("--demo", action="store_true", help="start with a demo cluster if it is empty")
    p.add_argument("--host", default=None, help="API address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="API port (default 5000; 0 = any free)")
    p.add_argument("--k8s-port", type=int, default=None,
                   help="Kubernetes API port, HTTPS (default 6443; 0 = any free)")  # fmt: skip
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    p.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="extra Host header name the API accepts")  # fmt: skip
    p.add_argument("--data-dir", type=Path, default=None, help="where the cluster lives")
    p.add_argument("--db", default=None, metavar="URL", help="SQLAlchemy URL of the store")
    p.add_argument("--runtime", choices=RUNTIMES, default=None, help="where nodes run")
    p.add_argument("--scheduler", choices=SCHEDULERS, default=None, help="scheduling strategy")
    p.add_argument("--heartbeat-interval", type=float, default=None, metavar="S")
    p.add_argument("--grace-period", type=float, default=None, metavar="S")
    p.add_argument("--eviction-delay", type=float, default=None, metavar="S")
    p.add_argument(
        "--detect-from-runtime",
        action="store_true",
        default=None,
        help="also detect a node's death from Docker's events or its agent's exit, at once",
    )
    p.add_argument(
        "--kubernetes-defaults",
        action="store_true",
        default=None,
        help="every pod tolerates unhealthy nodes for 300 s, as Kubernetes' defaults "
        "(default: evicted at once)",
    )
    p.add_argument("--max-recovery-attempts", type=int, default=None, metavar="N")
    p.add_argument(
        "--crash-backoff",
        type=float,
        default=None,
        metavar="S",
        help="a crashed container's first restart delay (default 10, doubling)",
    )
    p.add_argument(
        "--crash-backoff-cap",
        type=float,
        default=None,
        metavar="S",
        help="its longest restart delay (default 300)",
    )
    p.add_argument("--cluster-name", default=None, help="name used in Docker labels")
    p.add_argument("--docker-engine", action="append", default=[], metavar="NAME=URL",
                   help="another Docker engine nodes may run on (repeatable): unix:///path, "
                   "tcp://host:2376[,tls=DIR], ssh://user@host, context:NAME")  # fmt: skip
    p.add_argument("--advertise-url", default=None, metavar="URL",
                   help="where agents on remote engines reach the API (default: this "
                   "machine's address on the route to each engine)")  # fmt: skip
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--version", action="version", version=f"kube9-desktop {__version__}")
    return p


def settings_from_args(args: argparse.Namespace, base: Settings | None = None) -> Settings:
    """Only the flags given on the command line override the settings' own defaults."""
    changes = {
        "host": args.host,
        "port": args.port,
        "k8s_port": args.k8s_port,
        "data_dir": args.data_dir,
        "db_url": args.db,
        "runtime": args.runtime,
        "scheduler": args.scheduler,
        "heartbeat_interval": args.heartbeat_interval,
        "grace_period": args.grace_period,
        "eviction_delay": args.eviction_delay,
        "detect_from_runtime": args.detect_from_runtime,
        "kubernetes_default_tolerations": args.kubernetes_defaults,
        "max_recovery_attempts": args.max_recovery_attempts,
        "crash_backoff": args.crash_backoff,
        "crash_backoff_cap": args.crash_backoff_cap,
        "cluster_name": args.cluster_name,
        "advertise_url": args.advertise_url,
    }
    settings = (base or Settings()).with_(**{k: v for k, v in changes.items() if v is not None})
    extra = {"demo": args.demo or settings.demo, "allow_remote": args.allow_remote}
    if args.allowed_host:
        extra["allowed_hosts"] = tuple(args.allowed_host)
    if args.docker_engine:
        extra["docker_engines"] = tuple(args.docker_engine)
    return settings.with_(**extra)


def build_kubeconfig_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kube9-desktop kubeconfig",
        description="Write a kubeconfig for this cluster's Kubernetes API (context 'kube9'). "
        "It never touches ~/.kube/config: use it with KUBECONFIG=FILE kubectl ...",
    )
    p.add_argument("--output", "-o", type=Path, default=None, metavar="FILE",
                   help="write to FILE (mode 0600) instead of stdout")  # fmt: skip
    p.add_argument("--data-dir", type=Path, default=None, help="where the cluster lives")
    p.add_argument("--host", default=None, help="the API address the engine binds")
    p.add_argument("--k8s-port", type=int, default=None,
                   help="the Kubernetes API port the engine serves (default 6443)")  # fmt: skip
    return p


def kubeconfig_main(argv: list[str]) -> int:
    from kube9_desktop.engine.errors import Kube9Error
    from kube9_desktop.engine.k8s.kubeconfig import kubeconfig_text, write_kubeconfig

    args = build_kubeconfig_parser().parse_args(argv)
    changes = {"data_dir": args.data_dir, "host": args.host, "k8s_port": args.k8s_port}
    try:
        settings = Settings().with_(**{k: v for k, v in changes.items() if v is not None})
        text = kubeconfig_text(settings.validate())
        if args.output is None:
            sys.stdout.write(text)
        else:
            write_kubeconfig(text, args.output)
            hint = f"KUBECONFIG={args.output} kubectl get nodes"
            print(f"Wrote {args.output} (context kube9): {hint}", file=sys.stderr)
    except (ValueError, Kube9Error) as exc:
        print(f"kube9-desktop kubeconfig: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    return 0


def build_export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kube9-desktop export",
        description="Write this cluster for a real Kubernetes: its namespaces, Deployments, "
        "bare ReplicaSets, Services and bare pods as apps/v1 and v1 manifests (one file per "
        "object in DIR/manifests/), a kind config with one worker per node (DIR/"
        "kind-config.yaml) and DIR/README.txt with the two commands and what was left out. "
        "It reads the cluster's store, so the engine must not be running on it.",
    )
    p.add_argument("--kubernetes", type=Path, required=True, metavar="DIR",
                   help="the folder to write (made if missing; must be empty)")  # fmt: skip
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty DIR: README.txt and kind-config.yaml are "
                   "replaced, manifests an earlier export left are removed")  # fmt: skip
    p.add_argument("--data-dir", type=Path, default=None, help="where the cluster lives")
    p.add_argument("--db", default=None, metavar="URL", help="SQLAlchemy URL of the store")
    p.add_argument("--kind-name", default="kube9", metavar="NAME",
                   help="the kind cluster's name in kind-config.yaml (default kube9)")  # fmt: skip
    return p


def export_main(argv: list[str]) -> int:
    import asyncio

    from kube9_desktop.engine.errors import Kube9Error
    from kube9_desktop.serve import export_stored_cluster

    args = build_export_parser().parse_args(argv)
    changes = {"data_dir": args.data_dir, "db_url": args.db}
    try:
        settings = Settings().with_(**{k: v for k, v in changes.items() if v is not None})
        export, written = asyncio.run(
            export_stored_cluster(
                settings.validate(), args.kubernetes, force=args.force, kind_name=args.kind_name
            )
        )
    except (ValueError, Kube9Error) as exc:
        print(f"kube9-desktop export: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    for item in export.left_out:
        print(f"kube9-desktop export: not carried over: {item.line()}", file=sys.stderr)
    folder = args.kubernetes
    print(
        f"Wrote {len(export.manifests)} manifest(s) and a kind config with "
        f"{len(export.kind_config['nodes'])} node(s) to {folder} ({len(written)} files); "
        f"then: kind create cluster --config {folder / 'kind-config.yaml'} && "
        f"kubectl apply -f {folder / 'manifests'}",
        file=sys.stderr,
    )
    return 0


def build_scenario_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kube9-desktop scenario",
        description="Run a scenario file (docs/scenarios.md) on virtual nodes in simulated "
        "time, once per scheduling strategy, and write its reports (JSON and CSV).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run FILE and write its reports")
    run.add_argument("file", type=Path, metavar="FILE")
    run.add_argument("--strategies", default=None, metavar="LIST",
                     help="comma-separated, of " + ", ".join(SCHEDULERS)
                     + " (default: the file's settings.strategy)")  # fmt: skip
    run.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                     help="where the reports go (default: here)")  # fmt: skip
    run.add_argument("--live", action="store_true",
                     help="run in real time on a real runtime (a fresh engine serving its "
                     "APIs, so the run can be watched), instead of simulated time")  # fmt: skip
    run.add_argument("--runtime", choices=("auto", "process", "docker"), default="auto",
                     help="--live: where the nodes run (auto: Docker if it answers, else "
                     "local processes)")  # fmt: skip
    run.add_argument("--time-scale", type=float, default=1.0, metavar="F",
                     help="multiply every time in the file by F (0.25: a 3-minute "
                     "scenario in 45 s); the same F in simulated mode gives the report to "
                     "compare with")  # fmt: skip
    check = sub.add_parser("check", help="validate FILE and say what is wrong, by line")
    check.add_argument("file", type=Path, metavar="FILE")
    sub.add_parser("list", help="the scenarios shipped with the app (FILE may name one)")
    return p


def scenario_main(argv: list[str]) -> int:
    import logging

    from kube9_desktop.engine.errors import Kube9Error
    from kube9_desktop.scenario.format import (
        find_scenario,
        load_scenario,
        scaled,
        shipped_scenarios,
    )
    from kube9_desktop.scenario.report import (
        report_hash,
        run_scenario,
        summary_lines,
        write_reports,
    )

    args = build_scenario_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "list":
        for path in shipped_scenarios():
            print(f"{path.stem:28} {path}")
        return 0
    try:
        scenario = load_scenario(find_scenario(args.file))
        if args.command == "check":
            print(f"{args.file}: valid ({len(scenario.timeline)} step(s), "
                  f"{len(scenario.nodes)} node(s))")  # fmt: skip
            return 0
        given = args.strategies or scenario.settings.strategy
        strategies = [s.strip() for s in given.split(",") if s.strip()]
        unknown = [s for s in strategies if s not in SCHEDULERS]
        if unknown or not strategies:
            print(f"kube9-desktop scenario: --strategies: {', '.join(unknown) or '(none)'} "
                  f"is not one of {', '.join(SCHEDULERS)}", file=sys.stderr)  # fmt: skip
            return 2
        scenario = scaled(scenario, args.time_scale)
        if args.live:
            from kube9_desktop.scenario.live import run_live_strategies, watch_lines

            try:
                combined = run_live_strategies(
                    scenario, list(dict.fromkeys(strategies)), args.runtime,
                    on_ready=lambda c: print("\n".join(watch_lines(c)), flush=True),
                )  # fmt: skip
            except KeyboardInterrupt:
                print("kube9-desktop scenario: interrupted; the nodes were removed and the "
                      "engine stopped, no report written", file=sys.stderr)  # fmt: skip
                return 130
        else:
            combined = run_scenario(scenario, list(dict.fromkeys(strategies)))
        written = write_reports(combined, args.out)
    except Kube9Error as exc:
        print(f"kube9-desktop scenario: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"kube9-desktop scenario: {exc}", file=sys.stderr)
        return 2
    for line in summary_lines(combined):
        print(line)
    what = "report" if args.live else "report sha256 " + report_hash(combined) + ";"
    print(f"{what} wrote " + ", ".join(str(p) for p in written))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["agent"]:
        from kube9_desktop.agent import main as agent_main

        return agent_main(argv[1:])
    if argv[:1] == ["kubeconfig"]:
        return kubeconfig_main(argv[1:])
    if argv[:1] == ["export"]:
        return export_main(argv[1:])
    if argv[:1] == ["scenario"]:
        return scenario_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args).validate()
    except ValueError as exc:
        print(f"kube9-desktop: {exc}", file=sys.stderr)
        return 2
    from kube9_desktop.logs import setup_logging

    setup_logging(settings.data_dir, args.log_level, console=args.headless or args.self_test)
    if args.self_test:
        from kube9_desktop.selftest import run_self_test

        return run_self_test()
    if args.headless:
        from kube9_desktop.headless import run_headless

        return run_headless(settings)
    from kube9_desktop.ui.app import run_gui

    return run_gui(settings, explicit=args)


if __name__ == "__main__":
    sys.exit(main())
