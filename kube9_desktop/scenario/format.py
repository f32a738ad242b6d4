"""A scenario file read and checked: YAML with line marks, the JSON Schema
(``resources/scenario.schema.json``), then every object through the engine's own request
models (``parse_body``), so a bad pod reads as the API would say it, with its line.

``load_scenario(path)`` returns a ``Scenario`` whose timeline is concrete: repeats expanded
(their jitter drawn from the seed), times in seconds, bodies validated. docs/scenarios.md
describes the format.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.faults import DEFAULT_PARTITION_S
from kube9_desktop.engine.priority import BUILTIN_NAMES
from kube9_desktop.engine.service_specs import ServiceCreate
from kube9_desktop.engine.specs import (
    FaultIn,
    NodeCreate,
    PodCreate,
    PriorityClassCreate,
    parse_body,
)
from kube9_desktop.engine.workload_specs import DeploymentCreate, DeploymentPatch
from kube9_desktop.resources import resource_dirs, resource_path
from kube9_desktop.scenario.marked import Path as DataPath
from kube9_desktop.scenario.marked import YamlProblem, dotted, line_of, load_marked
from kube9_desktop.scenario.schema_check import SchemaChecker
from kube9_desktop.settings import SCHEDULERS

SCHEMA_FILE = "scenario.schema.json"
ACTIONS = (
    "add_node", "remove_node", "create_pod", "delete_pod", "create_deployment",
    "scale_deployment", "update_deployment", "delete_deployment", "create_service",
    "delete_service", "fault", "heal",
)  # fmt: skip
SERIES = ("allocation", "fragmentation", "pending", "availability")
RANDOM_NODE = "random"  # fault/heal/remove_node: a worker drawn from the seed at run time
_NAME = r"(?P<name>[a-z0-9][-a-z0-9.]*)"
CONDITIONS = (
    (re.compile(rf"^deployment {_NAME} (?P<state>ready|complete)$"), "deployment"),
    (re.compile(rf"^node {_NAME} (?P<state>healthy|unhealthy|failed)$"), "node"),
    (re.compile(r"^(?P<state>no pods pending)$"), "pods"),
)
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
# The scenario's node fields -> NodeCreate's (errors are named back in the scenario's words).
NODE_FIELDS = {"name": "name", "cpu": "cpu_cores_avail", "memory": "memory_mb",
               "type": "node_type", "labels": "labels", "taints": "taints",
               "max_pods": "max_pods"}  # fmt: skip
NODE_BACK = {v: k for k, v in NODE_FIELDS.items()}


@dataclass(frozen=True)
class Problem:
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.path}: {self.message}"


class ScenarioError(UserError):
    """Every problem found in a scenario file, each with its line and field."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p.line, p.path))
        text = "\n".join(f"{source}:{p.line}: {p.path}: {p.message}" for p in self.problems)
        super().__init__(text, field=self.problems[0].path if self.problems else None)


def parse_duration(value: Any) -> float:
    """Seconds from 30, 1.5, "30s", "500ms", "5m", "1h" (a bare number is seconds)."""
    if isinstance(value, bool):
        raise ValueError("must be a duration like 30s, 5m or 1h")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("must not be negative")
        return float(value)
    m = _DURATION.match(str(value))
    if m is None:
        raise ValueError(f"{value!r} is not a duration like 30s, 500ms, 5m or 1h")
    return float(m.group(1)) * _UNIT[m.group(2)]


@dataclass(frozen=True)
class Condition:
    kind: str  # deployment | node | pods
    name: str
    state: str
    text: str


@dataclass(frozen=True)
class Step:
    """One action of the timeline, at a time or after a condition."""

    index: int  # its place in the expanded timeline (the report names steps by it)
    line: int
    action: str
    body: Any  # the validated request model (or a dict for references)
    at: float | None = None
    after: Condition | None = None
    delay: float = 0.0
    item: int = 0  # its index in the file's timeline (a repeat's copies share it)
    repetition: int | None = None  # 1, 2, ... for a repeat's copies


@dataclass(frozen=True)
class SimSettings:
    heartbeat: float = 1.0
    grace: float | None = None
    strategy: str = "best-fit"
    detection: str = "heartbeat"
    eviction_delay: float = 0.0
    kubernetes_defaults: bool = False
    recovery_attempts: int = 3  # restarts before a node is marked failed (0: never restarted)


@dataclass(frozen=True)
class Measure:
    sample_every: float = 10.0
    series: tuple[str, ...] = SERIES
    deployments: tuple[str, ...] | None = None  # None: every Deployment


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    duration: float
    sha256: str
    nodes: tuple[NodeCreate, ...]
    settings: SimSettings
    timeline: tuple[Step, ...]
    measure: Measure
    source: str = ""
    node_names: frozenset[str] = field(default_factory=frozenset)
    priority_classes: tuple[PriorityClassCreate, ...] = ()  # created before the nodes
    time_scale: float = 1.0  # every time multiplied by it (``scaled``; 1: as written)


def _schema() -> dict[str, Any]:
    path = resource_path(SCHEMA_FILE)
    if path is None:
        raise FileNotFoundError(f"resources/{SCHEMA_FILE} is missing from this installation")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _raw_schema_errors(data: Any, use_jsonschema: bool) -> list[tuple[DataPath, str, str, Any]]:
    """(path, message, keyword, instance) from jsonschema when it is installed, else from our
    own strict checker of the same subset (jsonschema is not one of the app's dependencies)."""
    schema = _schema()
    if use_jsonschema:
        try:
            import jsonschema  # type: ignore[import-untyped]
        except ImportError:
            use_jsonschema = False
    if use_jsonschema:
        validator = jsonschema.Draft202012Validator(schema)
        return [(tuple(e.absolute_path), e.message, str(e.validator), e.instance)
                for e in validator.iter_errors(data)]  # fmt: skip
    checker = SchemaChecker(schema)
    return [(e.path, e.message, e.validator, e.instance) for e in checker.iter_errors(data)]


def schema_problems(
    data: Any, marks: dict[DataPath, int], *, use_jsonschema: bool = True
) -> list[Problem]:
    """The JSON Schema's verdict, each error at the line of the field it names."""
    out = []
    for path, message, keyword, instance in _raw_schema_errors(data, use_jsonschema):
        if keyword == "additionalProperties" and isinstance(instance, dict):
            named = [k for k in re.findall(r"'([^']+)'", message) if k in instance]
            for key in named:
                where = (*path, key)
                out.append(Problem(line_of(marks, where, key=True), dotted(where),
                                   "unknown field (check the spelling)"))  # fmt: skip
            if named:
                continue
        elif keyword in ("maxProperties", "minProperties") and len(path) >= 2:
            message = f"give exactly one action of {', '.join(ACTIONS)}"
        out.append(Problem(line_of(marks, path, key=True), dotted(path), message))
    return sorted(set(out), key=lambda p: (p.line, p.path, p.message))


class _Reader:
    """Walks the schema-valid data into a Scenario, collecting every problem it finds."""

    def __init__(self, data: dict[str, Any], marks: dict[DataPath, int], seed: int) -> None:
        self.data = data
        self.marks = marks
        self.problems: list[Problem] = []
        self.rng = random.Random(seed)  # repeats' jitter, in file order

    def problem(self, path: DataPath, message: str, *, key: bool = False) -> None:
        self.problems.append(Problem(line_of(self.marks, path, key=key), dotted(path), message))

    def duration(self, path: DataPath, value: Any) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(path, str(exc))
            return 0.0

    def model(self, model: type[Any], body: Any, path: DataPath,
              rename: dict[str, str] | None = None) -> Any:  # fmt: skip
        """``parse_body`` as the API runs it; its fields named under ``path`` in the file."""
        try:
            return parse_body(model, body)
        except UserError as exc:
            for err in exc.extra.get("errors") or [{"field": exc.field, "message": exc.message}]:
                field_name = str(err.get("field") or "")
                head, sep, rest = field_name.partition(".")
                head = (rename or {}).get(head, head)
                sub = self._subpath(path, head + sep + rest)
                self.problem(sub, str(err["message"]))
            return None

    def _subpath(self, path: DataPath, field_name: str) -> DataPath:
        if field_name in ("", "(body)"):
            return path
        parts: list[str | int] = []
        for piece in re.findall(r"[^.\[\]]+|\[\d+\]|\['[^']*'\]", field_name):
            if piece.startswith("[") and piece[1:-1].isdigit():
                parts.append(int(piece[1:-1]))
            elif piece.startswith("['"):
                parts.append(piece[2:-2])
            else:
                parts.append(piece)
        return (*path, *parts)

    def nodes(self, raw: dict[str, Any], path: DataPath) -> list[NodeCreate]:
        count = int(raw.get("count", 1))
        body = {NODE_FIELDS[k]: v for k, v in raw.items() if k in NODE_FIELDS}
        out = []
        for i in range(1, count + 1):
            one = dict(body, name=f"{raw['name']}-{i}") if "count" in raw else body
            made = self.model(NodeCreate, one, path, NODE_BACK)
            if made is None:
                break  # the first copy's problems stand for them all
            out.append(made)
        return out

    def priority_classes(self) -> tuple[PriorityClassCreate, ...]:
        """``cluster.priority_classes``, each through the API's model and the engine's own
        rules for a user class (``to_spec``: no 'system-' prefix, value at most 1e9)."""
        out: list[PriorityClassCreate] = []
        defaults = 0
        for i, raw in enumerate(self.data["cluster"].get("priority_classes") or []):
            path: DataPath = ("cluster", "priority_classes", i)
            made = self.model(PriorityClassCreate, raw, path)
            if made is None:
                continue
            try:
                made.to_spec()
            except UserError as exc:  # "value: 2000000000 is out of range…": named by path
                message = exc.message.removeprefix(f"{exc.field}: ")
                self.problem((*path, exc.field) if exc.field else path, message)
                continue
            if any(c.name == made.name for c in out):
                self.problem((*path, "name"), f"priority class {made.name!r} is defined twice")
                continue
            defaults += made.global_default
            if made.global_default and defaults > 1:
                self.problem((*path, "global_default"), "only one class may be the default")
                continue
            out.append(made)
        return tuple(out)

    def condition(self, text: str, path: DataPath) -> Condition | None:
        for pattern, kind in CONDITIONS:
            m = pattern.match(text.strip())
            if m:
                return Condition(kind, m.groupdict().get("name") or "", m.group("state"), text)
        self.problem(
            path,
            f"{text!r} is not a condition: use 'deployment NAME ready', 'deployment NAME "
            "complete', 'node NAME healthy|unhealthy|failed' or 'no pods pending'",
        )
        return None

    def action(self, name: str, raw: Any, path: DataPath) -> Any:
        """The action's validated body (a request model, or a small dict of references)."""
        if name == "add_node":
            return tuple(self.nodes(raw, path))
        if name == "create_pod":
            count = raw.get("count")
            body = {k: v for k, v in raw.items() if k != "count"}
            pod = self.model(PodCreate, body, path)
            return None if pod is None else (pod, count)
        if name == "create_deployment":
            return self.model(DeploymentCreate, raw, path)
        if name == "update_deployment":
            patch = {k: v for k, v in raw.items() if k not in ("name", "namespace")}
            made = self.model(DeploymentPatch, patch, path)
            return None if made is None else {**_ref(raw), "patch": made}
        if name == "create_service":
            return self.model(ServiceCreate, raw, path)
        if name == "fault":
            fault = {"mode": raw.get("mode", "crash")}
            if "component" in raw:
                fault["component"] = raw["component"]
            if "duration" in raw:
                fault["duration_s"] = self.duration((*path, "duration"), raw["duration"])
            made = self.model(FaultIn, fault, path, {"duration_s": "duration"})
            # The injector's rules that need no node (engine/faults.py refusal), at load time.
            if made is not None and made.duration_s is not None and made.mode != "partition":
                self.problem((*path, "duration"), "only used with mode 'partition'")
                return None
            if made is not None and made.component is not None and made.mode != "component":
                self.problem((*path, "component"), "only used with mode 'component'")
                return None
            return None if made is None else {"node": raw["node"], "fault": made}
        if name == "scale_deployment":
            return {**_ref(raw), "replicas": raw["replicas"]}
        if name in ("remove_node", "heal"):
            return {"node": raw["node"]}
        return _ref(raw)  # delete_pod, delete_deployment, delete_service

    def timeline(self, duration: float) -> list[Step]:
        steps: list[Step] = []
        previous_at = 0.0
        for i, raw in enumerate(self.data.get("timeline") or []):
            path: DataPath = ("timeline", i)
            line = line_of(self.marks, path)
            names = [k for k in raw if k in ACTIONS]
            repeat = raw.get("repeat")
            if ("at" in raw) == ("after" in raw):
                self.problem(path, "give exactly one of 'at: TIME' or 'after: CONDITION'")
                continue
            if len(names) + (repeat is not None) != 1:
                self.problem(path, f"give exactly one action ({', '.join(ACTIONS)}) or a repeat")
                continue
            at = self.duration((*path, "at"), raw["at"]) if "at" in raw else None
            after = self.condition(raw["after"], (*path, "after")) if "after" in raw else None
            delay = self.duration((*path, "delay"), raw.get("delay", 0))
            if at is not None and at > duration:
                self.problem((*path, "at"), f"{at:g} s is after the scenario ends ({duration:g} s)")
            if at is not None:
                previous_at = at
            if repeat is None:
                action = names[0]
                body = self.action(action, raw[action], (*path, action))
                if body is not None:
                    steps.append(Step(len(steps), line, action, body, at, after, delay, i))
                continue
            every = self.duration((*path, "repeat", "every"), repeat["every"])
            jitter = self.duration((*path, "repeat", "jitter"), repeat.get("jitter", 0))
            ((action, template),) = repeat["do"].items()
            start = at if at is not None else previous_at
            for n in range(1, int(repeat["count"]) + 1):
                offset = (n - 1) * every + (self.rng.uniform(0, jitter) if jitter else 0.0)
                body_raw = _numbered(template, n)
                body = self.action(action, body_raw, (*path, "repeat", "do", action))
                if body is None:
                    break
                when = start + offset if at is not None else None
                if when is not None and when > duration:
                    break  # repeats past the end are dropped (the docs say so)
                wait = delay + (offset if after is not None else 0.0)
                steps.append(Step(len(steps), line, action, body, when, after, wait, i, n))
        return steps


def _ref(raw: dict[str, Any]) -> dict[str, Any]:
    return {"name": raw["name"], "namespace": raw.get("namespace", "default")}


def _numbered(value: Any, n: int) -> Any:
    """A repeat's body with ``{i}`` in its strings replaced by the repetition's number."""
    if isinstance(value, str):
        return value.replace("{i}", str(n))
    if isinstance(value, list):
        return [_numbered(v, n) for v in value]
    if isinstance(value, dict):
        return {k: _numbered(v, n) for k, v in value.items()}
    return value


def _check_references(
    reader: _Reader, scenario_nodes: set[str], steps: list[Step], classes: set[str]
) -> None:
    """Names a step refers to must be made somewhere in the file."""
    nodes = set(scenario_nodes)
    known_classes = classes | BUILTIN_NAMES
    deployments: set[str] = set()
    for step in steps:
        if step.action == "add_node":
            nodes.update(n.name for n in step.body)
        elif step.action == "create_deployment":
            deployments.add(step.body.name)
    for step in steps:
        where = ("timeline", step.item)
        if step.action in ("fault", "heal", "remove_node"):
            name = step.body["node"]
            if name != RANDOM_NODE and name not in nodes:
                reader.problem(
                    where, f"node {name!r} is not in the cluster nor added by the timeline"
                )
        elif (
            step.action in ("scale_deployment", "update_deployment", "delete_deployment")
            and step.body["name"] not in deployments
        ):
            reader.problem(where, f"deployment {step.body['name']!r} is never created")
        wanted = _class_named(step)
        if wanted and wanted not in known_classes:
            reader.problem(where, f"priority class {wanted!r} is not in cluster.priority_classes")
        cond = step.after
        if cond is not None and cond.kind == "deployment" and cond.name not in deployments:
            reader.problem(where, f"deployment {cond.name!r} is never created")
        if cond is not None and cond.kind == "node" and cond.name not in nodes:
            reader.problem(where, f"node {cond.name!r} is not in the cluster nor added")


def _class_named(step: Step) -> str:
    """The priority_class_name a pod or a Deployment's template names ("" if none)."""
    if step.action == "create_pod":
        return str(step.body[0].priority_class_name)
    if step.action == "create_deployment":
        return str(step.body.template.priority_class_name)
    if step.action == "update_deployment" and step.body["patch"].template is not None:
        return str(step.body["patch"].template.priority_class_name)
    return ""


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """The Scenario in ``text``, or a ScenarioError listing every problem with its line."""
    try:
        data, marks = load_marked(text)
    except YamlProblem as exc:
        raise ScenarioError(source, [Problem(exc.line, "(file)", exc.message)]) from None
    if not isinstance(data, dict):
        raise ScenarioError(source, [Problem(1, "(file)", "a scenario is a YAML mapping")])
    problems = schema_problems(data, marks)
    if problems:
        raise ScenarioError(source, problems)
    reader = _Reader(data, marks, int(data["seed"]))
    duration = reader.duration(("duration",), data["duration"])
    if duration <= 0:
        reader.problem(("duration",), "must be longer than 0 s")
    nodes: list[NodeCreate] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["cluster"]["nodes"]):
        for node in reader.nodes(raw, ("cluster", "nodes", i)):
            if node.name in seen:
                reader.problem(("cluster", "nodes", i), f"node name {node.name!r} is used twice")
            seen.add(node.name)
            nodes.append(node)
    raw_settings = data.get("settings") or {}
    heartbeat = reader.duration(("settings", "heartbeat"), raw_settings.get("heartbeat", 1.0))
    grace = raw_settings.get("grace")
    settings = SimSettings(
        heartbeat=heartbeat,
        grace=None if grace is None else reader.duration(("settings", "grace"), grace),
        strategy=raw_settings.get("strategy", "best-fit"),
        detection=raw_settings.get("detection", "heartbeat"),
        eviction_delay=reader.duration(
            ("settings", "eviction_delay"), raw_settings.get("eviction_delay", 0)
        ),
        kubernetes_defaults=bool(raw_settings.get("kubernetes_defaults", False)),
        recovery_attempts=int(raw_settings.get("recovery_attempts", 3)),
    )
    if heartbeat < 0.05:
        reader.problem(("settings", "heartbeat"), "must be at least 0.05 s")
    if settings.grace is not None and settings.grace <= heartbeat:
        reader.problem(("settings", "grace"), "must be longer than the heartbeat")
    raw_measure = data.get("measure") or {}
    measure = Measure(
        sample_every=reader.duration(
            ("measure", "sample_every"), raw_measure.get("sample_every", 10)
        ),
        series=tuple(raw_measure.get("series") or SERIES),
        deployments=tuple(raw_measure["deployments"]) if "deployments" in raw_measure else None,
    )
    if measure.sample_every <= 0:
        reader.problem(("measure", "sample_every"), "must be longer than 0 s")
    elif duration / measure.sample_every > 100_000:
        reader.problem(("measure", "sample_every"), "gives more than 100,000 samples")
    classes = reader.priority_classes()
    steps = reader.timeline(duration)
    _check_references(reader, seen, steps, {c.name for c in classes})
    if reader.problems:
        raise ScenarioError(source, reader.problems)
    assert settings.strategy in SCHEDULERS
    return Scenario(
        name=str(data.get("name") or Path(source).stem),
        description=str(data.get("description") or ""),
        seed=int(data["seed"]),
        duration=duration,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        nodes=tuple(nodes),
        settings=settings,
        timeline=tuple(steps),
        measure=measure,
        source=source,
        node_names=frozenset(seen),
        priority_classes=classes,
    )


def scaled(scenario: Scenario, factor: float) -> Scenario:
    """``scenario`` with every time in it multiplied by ``factor``: its duration, the steps'
    ``at`` and ``delay``, partitions' durations, the heartbeat, grace and eviction delay, the
    sample interval. ``--time-scale 0.25`` plays a 3-minute scenario live in 45 s; the same
    scale in simulated mode gives the report to compare with. A heartbeat below 0.05 s is
    refused, as in the file."""
    if factor == 1.0:
        return scenario
    if not 0 < factor <= 100:
        raise UserError("time scale: must be above 0 and at most 100", field="time_scale")
    st = scenario.settings
    if st.heartbeat * factor < 0.05:
        raise UserError(
            f"time scale: {factor:g} makes the heartbeat {st.heartbeat * factor:g} s, below "
            "the 0.05 s the engine needs",
            field="time_scale",
        )

    def body(step: Step) -> Any:
        if step.action != "fault" or step.body["fault"].mode != "partition":
            return step.body
        fault = step.body["fault"]
        length = DEFAULT_PARTITION_S if fault.duration_s is None else fault.duration_s
        return {**step.body, "fault": fault.model_copy(update={"duration_s": length * factor})}

    steps = tuple(
        replace(s, body=body(s), at=None if s.at is None else s.at * factor, delay=s.delay * factor)
        for s in scenario.timeline
    )
    return replace(
        scenario,
        duration=scenario.duration * factor,
        settings=replace(
            st,
            heartbeat=st.heartbeat * factor,
            grace=None if st.grace is None else st.grace * factor,
            eviction_delay=st.eviction_delay * factor,
        ),
        measure=replace(scenario.measure, sample_every=scenario.measure.sample_every * factor),
        timeline=steps,
        time_scale=scenario.time_scale * factor,
    )


def load_scenario(path: Path) -> Scenario:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            str(path), [Problem(1, "(file)", f"not UTF-8 text ({exc.reason})")]
        ) from None
    return parse_scenario(text, str(path))


def shipped_scenarios() -> list[Path]:
    """The scenarios in ``resources/scenarios/`` (the .deb and the bundle carry them)."""
    for folder in resource_dirs():
        found = sorted((folder / "scenarios").glob("*.yaml"))
        if found:
            return found
    return []


def find_scenario(given: Path) -> Path:
    """``given`` itself, or the shipped scenario of that name ("fragmentation")."""
    if given.exists() or given.suffix or len(given.parts) > 1:
        return given
    return next((p for p in shipped_scenarios() if p.stem == given.name), given)
