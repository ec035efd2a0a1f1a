"""The stack graph: edges, targets, selection, disabled stacks and cycles."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from stackyard.config import load_config
from stackyard.errors import GraphError
from stackyard.graph import build_graph


def loaded(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text("namespace: t\n" + textwrap.dedent(text))
    return load_config(str(path))


def stack(name: str, extra: str = "") -> str:
    return f"  - name: {name}\n    class_path: m.B\n{extra}"


def test_requires_required_by_and_outputs_make_edges(tmp_path: Path) -> None:
    config = loaded(
        tmp_path,
        "stacks:\n"
        + stack("vpc")
        + stack("db", "    requires: [vpc]\n")
        + stack("app", "    required_by: [web]\n")
        + stack("web"),
    )
    graph = build_graph(config, {"app": {"db"}})
    assert graph.needs["db"] == {"vpc"}
    assert graph.needs["web"] == {"app"}
    assert graph.needs["app"] == {"db"}
    assert graph.order() == ["vpc", "db", "app", "web"]
    reasons = json.loads(graph.to_json())["nodes"]
    app = next(n for n in reasons if n["name"] == "app")
    assert app["needs"] == [{"name": "db", "why": "reads an output of"}]


def test_select_pulls_in_dependencies_only(tmp_path: Path) -> None:
    config = loaded(
        tmp_path,
        "stacks:\n" + stack("vpc") + stack("db", "    requires: [vpc]\n") + stack("other"),
    )
    graph = build_graph(config).select(["db"])
    assert set(graph.needs) == {"db", "vpc"}


def test_select_unknown_name_suggests(tmp_path: Path) -> None:
    graph = build_graph(loaded(tmp_path, "stacks:\n" + stack("database")))
    with pytest.raises(GraphError, match="no stack or target named 'databse'") as caught:
        graph.select(["databse"])
    assert caught.value.hint == "did you mean 'database'?"


def test_targets_group_stacks(tmp_path: Path) -> None:
    config = loaded(
        tmp_path,
        "targets:\n  - name: network\n    requires: [vpc, dns]\nstacks:\n"
        + stack("vpc")
        + stack("dns")
        + stack("app", "    requires: [network]\n"),
    )
    graph = build_graph(config)
    assert graph.needs["app"] == {"network"}
    assert graph.stacks == ["dns", "vpc", "app"]
    assert set(graph.select(["network"]).needs) == {"network", "vpc", "dns"}


def test_unknown_requirement_names_file_and_line(tmp_path: Path) -> None:
    config = loaded(tmp_path, "stacks:\n" + stack("vpc") + stack("db", "    requires: [vcp]\n"))
    with pytest.raises(GraphError) as caught:
        build_graph(config)
    assert caught.value.line == 7
    assert caught.value.hint == "did you mean 'vpc'?"


def test_cycle_is_named(tmp_path: Path) -> None:
    config = loaded(
        tmp_path,
        "stacks:\n"
        + stack("a", "    requires: [b]\n")
        + stack("b", "    requires: [c]\n")
        + stack("c", "    requires: [a]\n"),
    )
    with pytest.raises(GraphError, match="dependency cycle") as caught:
        build_graph(config)
    message = caught.value.message
    assert all(name in message for name in "abc")
    assert caught.value.line is not None
    assert caught.value.exit_code == 2


def test_cycle_through_output_lookup(tmp_path: Path) -> None:
    config = loaded(tmp_path, "stacks:\n" + stack("a", "    requires: [b]\n") + stack("b"))
    with pytest.raises(GraphError, match=r"a → b → a|b → a → b"):
        build_graph(config, {"b": {"a"}})


def test_disabled_stack_left_out_with_notice(tmp_path: Path) -> None:
    config = loaded(
        tmp_path,
        "stacks:\n" + stack("old", "    enabled: false\n") + stack("app", "    requires: [old]\n"),
    )
    graph = build_graph(config)
    assert set(graph.needs) == {"app"}
    assert graph.needs["app"] == frozenset()
    assert any("disabled" in n and "old" in n for n in graph.notices)


def test_reduce_drops_implied_edges(tmp_path: Path) -> None:
    config = loaded(
        tmp_path,
        "stacks:\n"
        + stack("a")
        + stack("b", "    requires: [a]\n")
        + stack("c", "    requires: [a, b]\n"),
    )
    graph = build_graph(config)
    assert graph.needs["c"] == {"a", "b"}
    assert graph.reduced().needs["c"] == {"b"}


def test_critical_path(tmp_path: Path) -> None:
    config = loaded(
        tmp_path,
        "stacks:\n"
        + stack("a")
        + stack("b", "    requires: [a]\n")
        + stack("c", "    requires: [a]\n"),
    )
    graph = build_graph(config)
    assert graph.critical_path({"a": 1.0, "b": 5.0, "c": 2.0}) == 6.0


def test_dot_output(tmp_path: Path) -> None:
    graph = build_graph(
        loaded(tmp_path, "stacks:\n" + stack("a") + stack("b", "    requires: [a]\n"))
    )
    dot = graph.to_dot()
    # stacker's shape: `digraph digraph {` and one line per edge, dependent -> dependency.
    assert dot == 'digraph digraph {\n  "b" -> "a";\n}\n'
