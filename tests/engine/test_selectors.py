"""Label selectors in Kubernetes syntax, and the label/annotation rules, by table."""

from __future__ import annotations

import pytest

from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.meta import validate_annotations, validate_labels
from kube9_desktop.engine.selectors import Selector, SelectorError, parse_selector

WEB = {"app": "web", "tier": "frontend", "env": "prod", "replicas": "3"}
DB = {"app": "db", "tier": "backend", "env": "dev", "canary": ""}
NONE: dict[str, str] = {}


@pytest.mark.parametrize(
    ("text", "web", "db", "none"),
    [
        ("", True, True, True),  # the empty selector selects everything
        ("app=web", True, False, False),
        ("app==web", True, False, False),
        ("app = web", True, False, False),
        ("app!=web", False, True, True),  # != also matches objects without the label
        ("app=web,tier!=db", True, False, False),
        ("env in (prod,staging)", True, False, False),
        ("env in (prod, dev)", True, True, False),
        ("env notin (prod)", False, True, True),  # notin matches when the label is absent
        ("canary", False, True, False),
        ("!canary", True, False, True),
        ("app,!canary", True, False, False),
        ("replicas>2", True, False, False),
        ("replicas<2", False, False, False),
        ("canary=", False, True, False),  # an empty value is a value
        ("example.com/team=a", False, False, False),
    ],
)
def test_selectors_match_as_kubernetes_does(text: str, web: bool, db: bool, none: bool) -> None:
    sel = parse_selector(text)
    assert (sel.matches(WEB), sel.matches(DB), sel.matches(NONE)) == (web, db, none)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("app=web,", "trailing ','"),
        ("app in web", "expected '('"),
        ("app in (web", "missing ')'"),
        ("app in ()", "at least one value"),
        ("app=web tier=db", "expected ','"),
        ("-app=web", "key name must"),
        ("app=-web", "value must"),
        ("a/b/c=d", "DNS subdomain"),
        ("x" * 64 + "=1", "at most 63"),
        ("replicas>three", "integer"),
        ("app=\x00", "control characters"),
        ("=web", "expected a key"),
        ("!", "expected a key"),
        ("a" * 5000, "longer than"),
    ],
)
def test_bad_selectors_are_refused_naming_the_problem(text: str, says: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse_selector(text)
    assert says in err.value.message and "labelSelector" in err.value.message


def test_selectors_print_back_as_they_parse() -> None:
    for text in ("app=web,tier!=db", "env in (a,b)", "!canary", "canary", "env notin (x,y)"):
        assert str(parse_selector(text)) == text
        assert str(parse_selector(str(parse_selector(text)))) == text


def test_match_labels_and_expressions_as_objects_write_them() -> None:
    sel = Selector.from_expressions(
        {"app": "web"}, [{"key": "env", "operator": "In", "values": ["prod"]}]
    )
    assert sel.matches(WEB) and not sel.matches(DB)
    with pytest.raises(SelectorError, match="operator"):
        Selector.from_expressions({}, [{"key": "env", "operator": "Near", "values": []}])
    with pytest.raises(SelectorError, match="must not be empty"):
        Selector.from_expressions({}, [{"key": "env", "operator": "In", "values": []}])


@pytest.mark.parametrize(
    ("labels", "says"),
    [
        ({"-bad": "x"}, "labels['-bad']: key name must"),
        ({"ok": "-bad"}, "labels['ok']: value must"),
        ({"UPPER.example.com/x": "y"}, "key prefix must be a DNS subdomain"),
        ({"a" * 64: "y"}, "at most 63"),
        ({"k": "v" * 64}, "value must be at most 63"),
        ({"k": 5}, "value must be a string"),
        ({"/k": "v"}, "key prefix must not be empty"),
        ({"é": "v"}, "key name must"),
        ({f"k{i}": "v" for i in range(65)}, "at most 64 labels"),
    ],
)
def test_bad_labels_are_refused_naming_the_key(labels: dict[str, object], says: str) -> None:
    with pytest.raises(UserError) as err:
        validate_labels(labels)
    assert says in err.value.message


def test_good_labels_and_annotations_pass() -> None:
    labels = {"app": "web", "app.kubernetes.io/name": "shop", "empty": "", "a.b_c-d": "1.2_3-x"}
    assert validate_labels(labels) == labels
    notes = {"kubernetes.io/change-cause": "any text at all: ✓ spaces, 'quotes'"}
    assert validate_annotations(notes) == notes
    with pytest.raises(UserError, match="NUL"):
        validate_annotations({"k": "a\x00b"})
    with pytest.raises(UserError, match="256 KiB"):
        validate_annotations({"k": "x" * (256 * 1024 + 1)})
