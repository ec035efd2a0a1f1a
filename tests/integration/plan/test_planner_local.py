"""The planner on the local AWS: new, changed, unchanged, locked and failed stacks; change
sets never left behind; plan then apply; apply refused once the deployed stack moved."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from plan_helpers import Lab

from stackyard.engine.approval import ApprovalPolicy
from stackyard.plan.fingerprint import moved_in_plan
from stackyard.plan.model import ChangeAction, Plan, Replacement, StackAction
from stackyard.plan.planner import PlanOptions

STACKS = """\
- {name: base, template_path: param.json, variables: {Value: "${base}"}}
- {name: reader, template_path: param.json, variables: {Value: "${output base::Value}"}}
- {name: same, template_path: param.json, variables: {Value: same}}
- {name: frozen, template_path: param.json, locked: ${locked}, variables: {Value: "${frozen}"}}
- {name: broken, template_path: bucket.json, variables: {BucketName: "${taken}"}}
"""


def _change_sets(aws: Any, lab: Lab, names: list[str]) -> list[Any]:
    cfn = aws("cloudformation")
    left: list[Any] = []
    for name in names:
        summaries = cfn.list_change_sets(StackName=f"{lab.namespace}-{name}")["Summaries"]
        left += [s for s in summaries if s["ExecutionStatus"] != "EXECUTE_COMPLETE"]
    return left


def test_diff_of_new_changed_unchanged_locked_and_failed_stacks(lab: Lab, aws: Any) -> None:
    taken = f"{lab.namespace}-taken"
    aws("s3").create_bucket(Bucket=taken)
    values = {"base": "v1", "frozen": "f1", "locked": "false", "taken": taken}
    first = lab.config(STACKS, **values)
    plan = lab.plan(first)
    assert {s.name: s.action for s in plan.stacks} == dict.fromkeys(
        ["base", "reader", "same", "frozen", "broken"], StackAction.CREATE
    )
    reader = plan.stack("reader")
    assert reader is not None
    assert [(p.key, p.known_after_apply) for p in reader.parameters] == [("Value", True)]
    lab.build(first)  # broken fails: its bucket name is taken

    values = {**values, "base": "v2", "frozen": "f2", "locked": "true"}
    second = lab.config(
        STACKS + "- {name: fresh, template_path: param.json, variables: {Value: n}}\n", **values
    )
    gateway = lab.gateway()
    plan = lab.plan(second, gateway, change_sets=True)
    actions = {s.name: s.action for s in plan.stacks}
    assert actions == {
        "base": StackAction.UPDATE,
        "reader": StackAction.UPDATE,
        "same": StackAction.NO_CHANGE,
        "frozen": StackAction.SKIP_LOCKED,
        "broken": StackAction.BLOCKED,
        "fresh": StackAction.CREATE,
    }
    base = plan.stack("base")
    assert base is not None
    assert [(p.key, p.before, p.after) for p in base.parameters] == [("Value", "v1", "v2")]
    param = base.resource("Param")
    assert param is not None and param.action is ChangeAction.MODIFY
    assert param.diffs[0].cause == "parameter Value changed"
    reader = plan.stack("reader")
    assert reader is not None and reader.parameters[0].known_after_apply  # base changes first
    frozen = plan.stack("frozen")
    assert frozen is not None and frozen.locked_delta is not None
    assert frozen.locked_delta.changes >= 2  # the parameter, its resource, the output
    assert frozen.locked_delta.since is not None
    broken = plan.stack("broken")
    assert broken is not None and "--recreate-failed" in (broken.hint or "")
    assert plan.has_changes
    # Change sets were made for the updates (base; reader has unknowns) and all deleted.
    calls = gateway.stats.snapshot()
    assert calls["CreateChangeSet"] == calls["DeleteChangeSet"] == 1
    assert calls["GetTemplate"] == 5  # one per existing stack
    assert _change_sets(aws, lab, ["base", "reader", "same", "frozen", "broken"]) == []

    # info shows the locked stack's pending delta too.
    from stackyard.aws.session import Location
    from stackyard.engine.access import EngineAWSAccess
    from stackyard.plan.status import stack_info

    access = EngineAWSAccess(gateway, default=Location("us-east-1"))
    (info,) = stack_info(second, gateway, access, ["frozen"], {"frozen": Location("us-east-1")})
    assert info.drift == "changes pending"
    assert info.locked_delta == frozen.locked_delta
    assert info.detail.startswith(f"locked: {frozen.locked_delta.changes} pending (")

    again = lab.plan(second, recreate_failed=True)
    recreate = again.stack("broken")
    assert recreate is not None and recreate.action is StackAction.RECREATE
    assert [r.logical_id for r in recreate.resources] == ["Bucket"]


def test_plan_then_apply_then_refused_after_the_deployed_stack_moved(lab: Lab, aws: Any) -> None:
    stacks = """\
    - {name: data, template_path: bucket.json, variables: {BucketName: "${bucket}"}}
    - {name: user, template_path: param.json, variables: {Value: "${value}"}, requires: [data]}
    """
    first = lab.config(stacks, bucket=f"{lab.namespace}-b1", value="one")
    assert lab.build(first).ok

    # Renaming the bucket replaces it: destructive and stateful, so approval is needed.
    second = lab.config(stacks, bucket=f"{lab.namespace}-b2", value="two")
    saved = Plan.from_json(lab.plan(second).to_json())
    data = saved.stack("data")
    assert data is not None and data.needs_approval
    bucket = data.resource("Bucket")
    assert bucket is not None and bucket.replacement is Replacement.TRUE
    assert [i.rule for i in data.protection.items] == ["project: destructive & stateful"]

    # Without anyone to ask, the replacement is held and its dependent cancelled.
    held = lab.build(second, approvals=ApprovalPolicy())
    assert held.exit_code == 3
    assert held.not_approved == {"data": "awaiting approval"}
    assert str(held.states["user"].phase) == "cancelled"

    # What apply does: fresh fingerprints match, then the reviewed plan approves exactly it.
    current = dict(lab.planner(second).plan(PlanOptions()).fingerprints)
    assert moved_in_plan(saved, current) == ()
    result = lab.build(second, approvals=ApprovalPolicy(reviewed=saved))
    assert result.ok, result.summary()
    assert result.approvals is not None and set(result.approvals.approved) == {"data"}
    names = [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
    assert f"{lab.namespace}-b2" in names

    # Someone changes the deployed stack after the plan was made: apply must refuse.
    third = lab.config(stacks, bucket=f"{lab.namespace}-b2", value="three")
    saved = Plan.from_json(lab.plan(third).to_json())
    assert lab.build(lab.config(stacks, bucket=f"{lab.namespace}-b2", value="other")).ok
    moved = moved_in_plan(saved, dict(lab.planner(third).plan(PlanOptions()).fingerprints))
    assert {(m.stack, m.what) for m in moved} >= {
        ("user", "deployed parameters"),
        ("user", "deployed last update"),
    }
    assert all(m.stack == "user" for m in moved)


def test_a_reviewed_plan_approves_only_what_it_showed(lab: Lab) -> None:
    stacks = "- {name: vault, template_path: param.json, protected: true, variables: {Value: v}}\n"
    project = lab.config(stacks)
    saved = lab.plan(project)
    vault = saved.stack("vault")
    assert vault is not None and vault.needs_approval
    other = Plan.create([], now=datetime.now(UTC))
    assert lab.build(project, approvals=ApprovalPolicy(reviewed=other)).exit_code == 3
    assert lab.build(project, approvals=ApprovalPolicy(reviewed=saved)).ok
