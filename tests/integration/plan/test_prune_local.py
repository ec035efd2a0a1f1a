"""Prune on the local AWS: stacks the config no longer names are planned for deletion,
deleted on apply unless protected, and another namespace's stacks are never touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from plan_helpers import Lab

import stackyard.api as api
from stackyard.plan.orphans import find_orphans

ALL = """\
- {name: keep, template_path: param.json, variables: {Value: k}}
- {name: gone, template_path: param.json, variables: {Value: g}}
- {name: guarded, template_path: param.json, protected: true, variables: {Value: p}}
"""
KEEP = "- {name: keep, template_path: param.json, variables: {Value: k}}\n"


def test_prune_deletes_orphans_holds_protected_ones_and_spares_other_namespaces(
    lab: Lab, aws: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(lab.folder)
    gateway = api.connect(endpoint_url=lab.url)
    everything = api.ApprovalPolicy(approve_all=True)
    assert lab.build(lab.config(ALL), approvals=everything).ok
    neighbour = Lab(lab.url, lab.folder, lab.namespace + "x")
    assert neighbour.build(neighbour.config(ALL), approvals=everything).ok

    config = lab.folder / "keep.yaml"
    config.write_text(f"namespace: {lab.namespace}\nstacks:\n  {KEEP}")
    project = api.Project.load(str(config), region="us-east-1")
    assert [o.name for o in find_orphans(project, gateway)] == ["gone", "guarded"]

    # Without --prune the orphans are not in the plan at all.
    assert [s.name for s in api.plan(project, gateway, api.PlanOptions()).plan.stacks] == ["keep"]
    inputs = api.PlanInputs(config=str(config), region="us-east-1", prune=True)
    saved = api.plan(project, gateway, api.PlanOptions(prune=True), inputs=inputs).plan
    actions = {s.name: s.action for s in saved.stacks}
    assert actions == {
        "keep": api.StackAction.NO_CHANGE,
        "gone": api.StackAction.DELETE,
        "guarded": api.StackAction.DELETE,
    }
    assert [s.name for s in saved.needing_approval] == ["guarded"]
    assert saved.inputs is not None and saved.inputs.prune

    # A build with nobody to approve deletes the orphan and holds the protected one.
    held = api.build(project, gateway, api.RunOptions(prune=True), approvals=api.ApprovalPolicy())
    assert held.exit_code == 3, held.summary()
    assert held.not_approved == {"guarded": "awaiting approval"}
    assert str(held.states["gone"].phase) == "complete"
    fresh = api.connect(endpoint_url=lab.url)
    assert [o.name for o in find_orphans(project, fresh)] == ["guarded"]

    # A saved --prune plan records it, so apply plans again with prune and finds it equal;
    # the reviewed plan approves the protected deletion it showed.
    saved = api.plan(project, fresh, api.PlanOptions(prune=True), inputs=inputs).plan
    Path("pruned.json").write_text(saved.to_json())
    applied = api.apply(api.Plan.from_json(Path("pruned.json").read_text()), fresh)
    assert applied.ok, applied.summary()
    assert str(applied.states["guarded"].phase) == "complete"
    fresh = api.connect(endpoint_url=lab.url)
    assert find_orphans(project, fresh) == []
    other = api.Project.load(str(neighbour_config(neighbour)), region="us-east-1")
    assert api.plan(other, fresh, api.PlanOptions(prune=True)).plan.has_changes is False


def neighbour_config(neighbour: Lab) -> Path:
    """The neighbour's full config again (its stacks all deployed)."""
    path = neighbour.folder / "neighbour.yaml"
    path.write_text(f"namespace: {neighbour.namespace}\nstacks:\n" + _indent(ALL))
    return path


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())
