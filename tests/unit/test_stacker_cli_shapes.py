"""The shapes stacker 1.7's command line printed and wrote: ``graph -f json|dot``,
``build --outline``, ``build --dump`` file names, ``--replacements-only``."""

from __future__ import annotations

import hashlib
import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from stackyard.config import load_config
from stackyard.desired import DesiredStack
from stackyard.engine.outline import dump_path, outline_lines
from stackyard.engine.replacements import only_replacements
from stackyard.graph import build_graph
from stackyard.plan.model import (
    ChangeAction,
    Plan,
    Replacement,
    ResourceChange,
    StackAction,
    StackPlan,
)


def _graph(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            namespace: t
            stacks:
              - {name: vpc, class_path: m.B}
              - {name: db, class_path: m.B, requires: [vpc]}
              - {name: app, class_path: m.B, requires: [vpc, db]}
              - {name: alone, class_path: m.B}
            targets:
              - {name: everything, requires: [app]}
            """
        )
    )
    return build_graph(load_config(str(path)))


def test_json_is_stackers_steps_with_deps_in_build_order(tmp_path: Path) -> None:
    text = _graph(tmp_path).to_json()
    data = json.loads(text)
    assert data["steps"] == {
        "alone": {"deps": []},
        "vpc": {"deps": []},
        "db": {"deps": ["vpc"]},
        "app": {"deps": ["db", "vpc"]},
        "everything": {"deps": ["app"]},
    }
    assert list(data["steps"]) == ["alone", "vpc", "db", "app", "everything"]
    assert text.startswith('{\n    "steps": {\n')  # json.dump(..., indent=4), as stacker
    assert {n["name"]: n["kind"] for n in data["nodes"]}["everything"] == "target"


def test_reduced_json_drops_implied_edges(tmp_path: Path) -> None:
    data = json.loads(_graph(tmp_path).reduced().to_json())
    assert data["steps"]["app"] == {"deps": ["db"]}


def test_dot_is_stackers_digraph_of_edges(tmp_path: Path) -> None:
    assert _graph(tmp_path).to_dot() == textwrap.dedent(
        """\
        digraph digraph {
          "db" -> "vpc";
          "app" -> "db";
          "app" -> "vpc";
          "everything" -> "app";
          "alone";
        }
        """
    )


def test_outline_lists_the_steps_in_the_order_they_start(tmp_path: Path) -> None:
    assert outline_lines(_graph(tmp_path)) == [
        'Plan "Create/Update stacks":',
        '  - step: 1: target: "alone", action: "build"',
        '  - step: 2: target: "vpc", action: "build"',
        '  - step: 3: target: "db", action: "build"',
        '  - step: 4: target: "app", action: "build"',
        '  - step: 5: target: "everything", action: "target"',
    ]


def test_dump_path_is_stackers_template_key() -> None:
    body = '{"Resources": {}}'
    desired = DesiredStack(
        name="vpc",
        fqn="prod-vpc",
        region=None,
        profile=None,
        template_body=body,
        parameters={},
        declared_parameters=frozenset(),
        no_echo=frozenset(),
        tags={},
    )
    version = hashlib.md5(body.encode()).hexdigest()[:8]
    assert dump_path(Path("out"), desired) == Path(
        f"out/stack_templates/prod-vpc/vpc-{version}.json"
    )


def test_only_replacements_keeps_replaced_resources_and_recreated_stacks() -> None:
    def change(logical: str, replacement: Replacement) -> ResourceChange:
        action = ChangeAction.REPLACE if replacement is Replacement.TRUE else ChangeAction.MODIFY
        return ResourceChange(logical, "AWS::SQS::Queue", action, replacement=replacement)

    mixed = StackPlan(
        "mixed",
        "t-mixed",
        StackAction.UPDATE,
        resources=(
            change("Kept", Replacement.FALSE),
            change("Gone", Replacement.TRUE),
            change("Maybe", Replacement.CONDITIONAL),
        ),
    )
    plain = StackPlan("plain", "t-plain", StackAction.UPDATE, resources=(mixed.resources[0],))
    failed = StackPlan("failed", "t-failed", StackAction.RECREATE)
    created = StackPlan("new", "t-new", StackAction.CREATE)
    plan = Plan.create([mixed, plain, failed, created], now=datetime(2026, 1, 1, tzinfo=UTC))
    shown = only_replacements(plan)
    assert [s.name for s in shown.stacks] == ["mixed", "failed"]
    assert [r.logical_id for r in shown.stacks[0].resources] == ["Gone", "Maybe"]
    assert shown.has_changes
