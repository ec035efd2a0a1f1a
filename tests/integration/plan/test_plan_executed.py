"""Build executes the reviewed plan on the local AWS: unknowns only where real, a resolved
value that breaks the plan stops its stack, conditions and deployed protection count."""

from __future__ import annotations

import json
from typing import Any

from plan_helpers import Lab

from stackyard.engine.approval import ApprovalPolicy
from stackyard.engine.status import Phase
from stackyard.plan.model import ChangeAction, StackAction

QUEUE = {
    "Parameters": {"Visibility": {"Type": "String"}},
    "Resources": {
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"VisibilityTimeout": {"Ref": "Visibility"}},
        }
    },
    "Outputs": {
        "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}},
        "QueueUrl": {"Value": {"Ref": "Queue"}},
    },
}
NAMED_QUEUE = {
    "Parameters": {"Name": {"Type": "String"}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}}}
    },
}
KEEP = {
    "Parameters": {"KeepQueue": {"Type": "String", "Default": "keep"}},
    "Conditions": {"Keep": {"Fn::Equals": [{"Ref": "KeepQueue"}, "keep"]}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Condition": "Keep"},
        "Marker": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "KeepQueue"}},
        },
    },
}
NAMED_PARAM = {
    "Parameters": {"ParamName": {"Type": "String"}},
    "Resources": {
        "Param": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": {"Ref": "ParamName"}, "Type": "String", "Value": "v"},
        }
    },
}


def _write(lab: Lab, **templates: dict[str, Any]) -> None:
    for name, body in templates.items():
        (lab.folder / f"{name}.json").write_text(json.dumps(body))


def test_an_in_place_update_leaves_outputs_it_cannot_change_known(lab: Lab) -> None:
    _write(lab, queue=QUEUE)
    stacks = """\
    - {name: queue, template_path: queue.json, variables: {Visibility: "${visibility}"}}
    - {name: arn, template_path: param.json, variables: {Value: "${output queue::QueueArn}"}}
    - name: url
      template_path: param.json
      protected: true
      variables: {Value: "${output queue::QueueUrl}"}
    """
    assert lab.build(lab.config(stacks, visibility="30"), approvals=None).ok
    changed = lab.config(stacks, visibility="60")
    plan = lab.plan(changed)
    actions = {s.name: s.action for s in plan.stacks}
    assert actions == {
        "queue": StackAction.UPDATE,
        "arn": StackAction.NO_CHANGE,
        "url": StackAction.NO_CHANGE,
    }
    assert plan.needing_approval == ()
    queue = plan.stack("queue")
    assert queue is not None and queue.outputs == ()  # ARN and URL survive an in-place update
    result = lab.build(changed, approvals=ApprovalPolicy())
    assert result.ok, result.summary()
    phases = {n: s.phase for n, s in result.states.items()}
    assert phases == {"queue": Phase.COMPLETE, "arn": Phase.NO_CHANGE, "url": Phase.NO_CHANGE}


def test_an_unknown_that_resolves_to_a_replacement_of_a_protected_resource_stops_it(
    lab: Lab, aws: Any
) -> None:
    _write(lab, named=NAMED_QUEUE)
    ns = lab.namespace
    stacks = """\
    - {name: up, template_path: param.json, variables: {Value: "${name}"}}
    - name: guarded
      template_path: named.json
      protected: true
      variables: {Name: "${output up::Value}"}
    - {name: other, template_path: param.json, variables: {Value: "${other}"}}
    """
    assert lab.build(lab.config(stacks, name=f"{ns}-q1", other="1"), approvals=None).ok
    changed = lab.config(stacks, name=f"{ns}-q2", other="2")
    plan = lab.plan(changed)
    guarded = plan.stack("guarded")
    assert guarded is not None and guarded.unknowns == ("output up::Value",)
    queue = guarded.resource("Queue")
    assert queue is not None and queue.action is ChangeAction.MODIFY  # may replace: unknown
    # The reviewer approved what the plan showed: a possible replacement, value unknown.
    result = lab.build(changed, approvals=ApprovalPolicy(approve_all=True))
    assert result.exit_code == 1
    phases = {n: s.phase for n, s in result.states.items()}
    assert phases == {"up": Phase.COMPLETE, "guarded": Phase.FAILED, "other": Phase.COMPLETE}
    failure = str(result.states["guarded"].failure)
    assert "planned an in-place update (may replace) of Queue" in failure
    assert "after resolving output up::Value it would replace it" in failure
    assert "review again" in failure
    queues = aws("sqs").list_queues(QueueNamePrefix=ns).get("QueueUrls", [])
    assert [q.rsplit("/", 1)[-1] for q in queues] == [f"{ns}-q1"]  # nothing replaced


def test_a_condition_that_drops_a_queue_is_a_deletion_that_needs_approval(
    lab: Lab, aws: Any
) -> None:
    _write(lab, keep=KEEP)
    stacks = "- {name: box, template_path: keep.json, variables: {KeepQueue: '${keep}'}}\n"
    assert lab.build(lab.config(stacks, keep="keep"), approvals=None).ok
    dropped = lab.config(stacks, keep="drop")
    box = lab.plan(dropped).stack("box")
    assert box is not None
    queue = box.resource("Queue")
    assert queue is not None and queue.action is ChangeAction.REMOVE
    assert [i.rule_id for i in box.protection.items] == ["project:destructive & stateful"]
    held = lab.build(dropped, approvals=ApprovalPolicy())
    assert held.exit_code == 3 and held.not_approved == {"box": "awaiting approval"}
    assert aws("sqs").list_queues(QueueNamePrefix=f"{lab.namespace}-box").get("QueueUrls")


def test_removing_protected_with_a_replacement_in_the_same_run_is_still_held(lab: Lab) -> None:
    _write(lab, named_param=NAMED_PARAM)
    ns = lab.namespace
    guarded = (
        "- {name: p, template_path: named_param.json, protected: true,"
        " variables: {ParamName: '${n}'}}\n"
    )
    plain = "- {name: p, template_path: named_param.json, variables: {ParamName: '${n}'}}\n"
    assert lab.build(lab.config(guarded, n=f"/{ns}/one"), approvals=None).ok
    # The config drops `protected` and renames (replaces) the parameter in one change.
    plan = lab.plan(lab.config(plain, n=f"/{ns}/two")).stack("p")
    assert plan is not None and plan.needs_approval
    held = lab.build(lab.config(plain, n=f"/{ns}/two"), approvals=ApprovalPolicy())
    assert held.exit_code == 3
    # A stack that was never protected: the same change needs no approval.
    other = plain.replace("name: p,", "name: q,")
    assert lab.build(lab.config(other, n=f"/{ns}/three"), approvals=None).ok
    fresh = lab.plan(lab.config(other, n=f"/{ns}/four")).stack("q")
    assert fresh is not None and fresh.will_change and not fresh.needs_approval
