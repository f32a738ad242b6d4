"""Scenario files: what is accepted, and every refusal names its line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kube9_desktop.scenario.format import (
    ScenarioError,
    load_scenario,
    parse_duration,
    parse_scenario,
)

GOOD = """\
name: demo
seed: 7
duration: 2m
cluster:
  nodes:
    - {name: w, count: 3, cpu: 4, memory: 8Gi, labels: {zone: a}}
    - {name: big, cpu: "16", memory: 32Gi, taints: [{key: big, effect: NoSchedule}]}
settings: {heartbeat: 1s, grace: 3s, strategy: worst-fit}
measure: {sample_every: 5s, deployments: [web]}
timeline:
  - at: 0s
    create_deployment:
      name: web
      replicas: 4
      template:
        labels: {app: web}
        containers: [{name: c, image: nginx, cpu_req: 0.5, memory_req: 256}]
  - after: deployment web ready
    delay: 5s
    fault: {node: w-1, mode: partition, duration: 20s}
  - at: 30s
    repeat:
      count: 3
      every: 10s
      jitter: 2s
      do: {create_pod: {name: "b-{i}", containers: [{name: c, image: nginx, cpu_req: 0.1}]}}
"""


def problems(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(textwrap.dedent(text), "s.yaml")
    return [(p.line, p.path, p.message) for p in info.value.problems]


def test_a_good_file_reads_into_concrete_steps() -> None:
    s = parse_scenario(GOOD, "demo.yaml")
    assert [n.name for n in s.nodes] == ["w-1", "w-2", "w-3", "big"]
    assert s.nodes[0].cpu_cores_avail == 4000 and s.nodes[0].memory_mb == 8192
    assert s.settings.strategy == "worst-fit" and s.settings.grace == 3.0
    assert s.duration == 120.0 and s.measure.sample_every == 5.0
    assert [st.action for st in s.timeline] == ["create_deployment", "fault"] + ["create_pod"] * 3
    fault = s.timeline[1]
    assert fault.after is not None and fault.after.name == "web" and fault.delay == 5.0
    assert fault.body["fault"].mode == "partition" and fault.body["fault"].duration_s == 20.0
    repeats = s.timeline[2:]
    assert [st.body[0].name for st in repeats] == ["b-1", "b-2", "b-3"]
    times = [st.at for st in repeats]
    assert all(t is not None for t in times)
    # Jitter (0..2 s) on top of every 10 s from 30 s, drawn from the seed: the same each read.
    for n, t in enumerate(times):
        assert 30 + 10 * n <= t <= 32 + 10 * n  # type: ignore[operator]
    assert [st.at for st in parse_scenario(GOOD, "demo.yaml").timeline[2:]] == times
    other_seed = GOOD.replace("seed: 7", "seed: 8")
    assert [st.at for st in parse_scenario(other_seed, "demo.yaml").timeline[2:]] != times
    assert len(s.sha256) == 64


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(30, 30.0), (1.5, 1.5), ("30s", 30.0), ("500ms", 0.5), ("5m", 300.0), ("1h", 3600.0),
     (" 2 s ", 2.0)],
)  # fmt: skip
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["-1s", "5 minutes", "", True, -3, "1e3s"])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_yaml_syntax_error_names_its_line() -> None:
    ((line, path, message),) = problems("seed: 1\nduration: 1m\ncluster: [a, b\n")
    assert line == 4 and path == "(file)" and "not valid YAML" in message


def test_schema_errors_name_line_and_field() -> None:
    got = problems("""\
        seed: 1
        duration: 1m
        cluster:
          nodes:
            - {name: w, cpu: 2, colour: red}
        settings:
          strategy: random-fit
        """)
    assert (5, "cluster.nodes[0].colour", "unknown field (check the spelling)") in got
    assert any(line == 7 and path == "settings.strategy" for line, path, _ in got)


def test_missing_top_level_fields() -> None:
    got = problems("name: x\n")
    assert sorted(m for _, _, m in got) == [
        "'cluster' is a required property",
        "'duration' is a required property",
        "'seed' is a required property",
    ]


def test_engine_models_judge_objects_with_the_apis_words() -> None:
    got = problems("""\
        seed: 1
        duration: 1m
        cluster:
          nodes:
            - {name: w, cpu: -4}
            - {name: Bad_Name, cpu: 1}
        timeline:
          - at: 0s
            create_deployment:
              name: web
              template:
                labels: {app: web}
                containers: [{name: c, image: nginx, cpu_req: lots}]
        """)
    assert (5, "cluster.nodes[0].cpu", "must be greater than 0") in got
    assert any(line == 6 and path == "cluster.nodes[1].name" for line, path, _ in got)
    assert any(
        line == 13
        and path == "timeline[0].create_deployment.template.containers[0].cpu_req"
        and "'lots' is not a quantity" in message
        for line, path, message in got
    )


def test_references_and_triggers_are_checked() -> None:
    got = problems("""\
        seed: 1
        duration: 1m
        cluster:
          nodes: [{name: w, cpu: 2}]
        timeline:
          - after: deployment webb ready
            fault: {node: w-9}
          - at: 2m
            heal: {node: w}
          - at: 1s
            after: no pods pending
            heal: {node: w}
          - after: the moon is full
            heal: {node: w}
          - at: 1s
            heal: {node: w}
            remove_node: {node: w}
        """)
    assert (6, "timeline[0]", "node 'w-9' is not in the cluster nor added by the timeline") in got
    assert (6, "timeline[0]", "deployment 'webb' is never created") in got
    assert (8, "timeline[1].at", "120 s is after the scenario ends (60 s)") in got
    assert (10, "timeline[2]", "give exactly one of 'at: TIME' or 'after: CONDITION'") in got
    assert any(line == 13 and path == "timeline[3].after" for line, path, _ in got)
    assert any(line == 15 and "exactly one action" in m for line, _, m in got)


def test_fault_fields_are_the_engines() -> None:
    got = problems("""\
        seed: 1
        duration: 1m
        cluster:
          nodes: [{name: w, cpu: 2}]
        timeline:
          - at: 1s
            fault: {node: w, mode: partition, duration: 2h}
        """)
    assert got == [(7, "timeline[0].fault.duration", "input should be less than or equal to 3600")]
    got = problems("""\
        seed: 1
        duration: 1m
        cluster:
          nodes: [{name: w, cpu: 2}]
        timeline:
          - at: 1s
            fault: {node: w, mode: crash, duration: 5s}
        """)
    assert got == [(7, "timeline[0].fault.duration", "only used with mode 'partition'")]


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="cannot be read"):
        load_scenario(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"seed: \xff\n")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(bad)


SCHEMA_CASES = [
    "name: x\n",
    "seed: -1\nduration: 1m\ncluster: {nodes: []}\n",
    "seed: 1\nduration: soon\ncluster: {nodes: [{name: w}]}\n",
    "seed: 1\nduration: 1m\ncluster: {nodes: [{name: w, cpu: 1, colour: red, size: xl}]}\n",
    "seed: 1\nduration: 1m\ncluster: {nodes: [{name: '', cpu: 1, count: 0}]}\n",
    "seed: 1\nduration: 1m\ncluster: {nodes: [{name: w, cpu: 1}]}\nsettings: {strategy: x}\n",
    "seed: 1\nduration: 1m\ncluster: {nodes: [{name: w, cpu: 1}]}\ntimeline:\n"
    "  - {at: 1s, heal: {node: w}, fault: {node: w}}\n  - {at: 1s, repeat: {count: 2}}\n"
    "  - {at: [1], fault: {node: w, mode: melt}}\n",
    "seed: 1\nduration: 1m\ncluster: {nodes: [{name: w, cpu: 1}]}\n"
    "measure: {series: [pending, pending], sample_every: true}\n",
    "seed: true\nduration: 1m\ncluster: {nodes: [{name: w, cpu: 1}]}\n",
    "seed: 1\nduration: 1m\ncluster:\n  nodes: [{name: w, cpu: 1}]\n  priority_classes:\n"
    "    - {value: 1, colour: red}\n    - {name: x, value: 1.5, preemption_policy: Maybe}\n",
]


@pytest.mark.parametrize("text", SCHEMA_CASES)
def test_our_schema_checker_agrees_with_jsonschema(text: str) -> None:
    """Where jsonschema is missing (it is not an app dependency) our checker stands in."""
    from kube9_desktop.scenario.format import schema_problems
    from kube9_desktop.scenario.marked import load_marked

    data, marks = load_marked(text)
    theirs = schema_problems(data, marks, use_jsonschema=True)
    ours = schema_problems(data, marks, use_jsonschema=False)
    assert theirs, "each case has a problem"
    assert [(p.line, p.path) for p in ours] == [(p.line, p.path) for p in theirs]
    for mine, reference in zip(ours, theirs, strict=True):
        if "unknown field" in reference.message or "required property" in reference.message:
            assert mine.message == reference.message


def test_our_schema_checker_refuses_keywords_it_does_not_know() -> None:
    from kube9_desktop.scenario.schema_check import SchemaChecker

    with pytest.raises(ValueError, match="not supported"):
        SchemaChecker({"type": "object", "properties": {"a": {"const": 1}}})


def test_node_names_are_unique_across_counts() -> None:
    got = problems("""\
        seed: 1
        duration: 1m
        cluster:
          nodes:
            - {name: w, count: 2, cpu: 1}
            - {name: w-2, cpu: 1}
        """)
    assert got == [(6, "cluster.nodes[1]", "node name 'w-2' is used twice")]


def test_priority_classes_are_read_and_judged_by_the_engines_rules() -> None:
    s = parse_scenario(
        textwrap.dedent("""\
        seed: 1
        duration: 1m
        cluster:
          priority_classes:
            - {name: low, value: 10, global_default: true}
            - {name: high, value: 1000, preemption_policy: Never}
          nodes: [{name: w, cpu: 1}]
        timeline:
          - at: 0s
            create_pod:
              name: p
              priority_class_name: high
              containers: [{name: c, image: nginx}]
          - at: 1s
            create_pod:
              name: q
              priority_class_name: system-node-critical
              containers: [{name: c, image: nginx}]
        """),
        "p.yaml",
    )
    assert [(c.name, c.value, c.global_default) for c in s.priority_classes] == [
        ("low", 10, True), ("high", 1000, False),
    ]  # fmt: skip
    assert s.priority_classes[1].to_spec().preemption_policy == "Never"
    got = problems("""\
        seed: 1
        duration: 1m
        cluster:
          priority_classes:
            - {name: c, value: x}
            - {name: d, value: 1, preemption_policy: Sometimes, colour: red}
          nodes: [{name: w, cpu: 1}]
        """)
    assert got == [
        (5, "cluster.priority_classes[0].value", "'x' is not of type 'integer'"),
        (6, "cluster.priority_classes[1].colour", "unknown field (check the spelling)"),
        (6, "cluster.priority_classes[1].preemption_policy",
         "'Sometimes' is not one of ['PreemptLowerPriority', 'Never']"),
    ]  # fmt: skip
    got = problems("""\
        seed: 1
        duration: 1m
        cluster:
          priority_classes:
            - {name: system-mine, value: 5}
            - {name: big, value: 2000000000}
            - {name: a, value: 1, global_default: true}
            - {name: b, value: 2, global_default: true}
            - {name: a, value: 3}
          nodes: [{name: w, cpu: 1}]
        timeline:
          - at: 0s
            create_deployment:
              name: web
              template:
                labels: {app: web}
                priority_class_name: nowhere
                containers: [{name: c, image: nginx}]
        """)
    assert got == [
        (5, "cluster.priority_classes[0].name",
         "'system-mine': the 'system-' prefix is reserved for the built-in classes"),
        (6, "cluster.priority_classes[1].value", "2000000000 is out of range: a user class's "
         "value is at most 1,000,000,000 (higher values are reserved for system classes)"),
        (8, "cluster.priority_classes[3].global_default", "only one class may be the default"),
        (9, "cluster.priority_classes[4].name", "priority class 'a' is defined twice"),
        (12, "timeline[0]", "priority class 'nowhere' is not in cluster.priority_classes"),
    ]  # fmt: skip
