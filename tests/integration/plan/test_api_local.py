"""``stackyard.api`` as a library, on the local AWS: connect, plan, build, apply, destroy."""

from __future__ import annotations

from pathlib import Path

import pytest
from plan_helpers import Lab

import stackyard.api as api


def _project(lab: Lab, value: str) -> tuple[api.Project, api.PlanInputs]:
    config = lab.folder / "api.yaml"
    config.write_text(
        f"namespace: {lab.namespace}\n"
        "stacks:\n"
        "  - {name: one, template_path: param.json, variables: {Value: '${v}'}}\n"
        "  - {name: two, template_path: param.json, protected: true,"
        " variables: {Value: '${output one::Value}'}}\n"
    )
    inputs = api.PlanInputs(config=str(config), overrides=(("v", value),), region="us-east-1")
    project = api.Project.load(str(config), overrides={"v": value}, region="us-east-1")
    return project, inputs


def test_plan_build_apply_destroy_through_the_api(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(lab.folder)
    gateway = api.connect(endpoint_url=lab.url)
    project, _ = _project(lab, "a")
    planned = api.plan(project, gateway, api.PlanOptions())
    assert [s.action for s in planned.plan.stacks] == [api.StackAction.CREATE] * 2
    # Without a policy a library caller answers for protected changes itself.
    held = api.build(project, gateway, api.RunOptions(), approvals=api.ApprovalPolicy())
    assert held.exit_code == 3 and held.not_approved == {"two": "awaiting approval"}
    built = api.build(
        project, gateway, api.RunOptions(), approvals=api.ApprovalPolicy(approve_all=True)
    )
    assert built.ok, built.summary()

    project, inputs = _project(lab, "b")
    saved = api.plan(project, gateway, api.PlanOptions(), inputs=inputs).plan
    text = Path("saved.json")
    text.write_text(saved.to_json())
    applied = api.apply(api.Plan.from_json(text.read_text()), api.connect(endpoint_url=lab.url))
    assert applied.ok, applied.summary()

    gone = api.destroy(project, gateway, api.RunOptions())  # `two` is protected: nothing goes
    assert gone.exit_code == 3
    # A plan applies once: after that, the deployed stacks moved and it is refused.
    with pytest.raises(api.PlanMoved, match="one: deployed parameters changed"):
        api.apply(api.Plan.from_json(text.read_text()), gateway)
    gone = api.destroy(
        project, gateway, api.RunOptions(), approvals=api.ApprovalPolicy(approve_all=True)
    )
    assert gone.ok, gone.summary()
