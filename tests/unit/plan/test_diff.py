"""The differ on template pairs: replacement from the schemas, parameters reaching resources,
unknown values, new, unchanged, deleted and locked stacks, masking, change-set cross-checks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack
from stackyard.lookups.secret import Secret
from stackyard.plan.change_sets import merge_change_set
from stackyard.plan.diff import KNOWN_AFTER_APPLY, diff_stack
from stackyard.plan.model import (
    ChangeAction,
    Replacement,
    RiskKind,
    StackAction,
    StackPlan,
)
from stackyard.unknown import Unknown

QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs", "DelaySeconds": 0}}


def template(resources: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {"Resources": resources, **sections}


def desired(
    body: dict[str, Any],
    params: dict[str, Any] | None = None,
    *,
    no_echo: tuple[str, ...] = (),
    **kw: Any,
) -> DesiredStack:
    kw.setdefault("tags", {})
    return DesiredStack(
        name="app",
        fqn="dev-app",
        region=None,
        profile=None,
        template_body=json.dumps(body),
        parameters=params or {},
        declared_parameters=frozenset(body.get("Parameters") or {}),
        no_echo=frozenset(no_echo),
        **kw,
    )


def deployed(
    body: dict[str, Any], params: dict[str, str] | None = None, **kw: Any
) -> DeployedStack:
    kw.setdefault("status", "UPDATE_COMPLETE")
    return DeployedStack(
        name="dev-app", stack_id="dev-app", template=body, parameters=params or {}, **kw
    )


def change(old: dict[str, Any], new: dict[str, Any], **kw: Any) -> StackPlan:
    return diff_stack(desired(new, **kw), deployed(old))


def one(plan: StackPlan, logical_id: str) -> Any:
    found = plan.resource(logical_id)
    assert found is not None, f"{logical_id} not in {[r.logical_id for r in plan.resources]}"
    return found


def test_create_only_property_change_is_a_replacement() -> None:
    old = template({"Q": QUEUE})
    new = copy.deepcopy(old)
    new["Resources"]["Q"]["Properties"]["QueueName"] = "jobs-2"

    plan = change(old, new)

    q = one(plan, "Q")
    assert plan.action is StackAction.UPDATE
    assert q.action is ChangeAction.REPLACE
    assert q.replacement is Replacement.TRUE
    assert q.replaced_by == ("Properties.QueueName",)
    assert [(d.path, d.before, d.after) for d in q.diffs] == [
        ("Properties.QueueName", "jobs", "jobs-2")
    ]
    assert q.destructive and RiskKind.DESTRUCTIVE in q.risk_kinds


def test_updatable_property_change_is_not_a_replacement() -> None:
    old = template({"Q": QUEUE})
    new = copy.deepcopy(old)
    new["Resources"]["Q"]["Properties"]["DelaySeconds"] = 5

    q = one(change(old, new), "Q")

    assert q.action is ChangeAction.MODIFY
    assert q.replacement is Replacement.FALSE
    assert q.risk_kinds == {RiskKind.ROUTINE}


def test_conditional_create_only_change_is_conditional() -> None:
    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]},
    }
    old = template({"T": table})
    new = copy.deepcopy(old)
    new["Resources"]["T"]["Properties"]["KeySchema"][0]["AttributeName"] = "pk"

    t = one(change(old, new), "T")

    assert t.action is ChangeAction.MODIFY
    assert t.replacement is Replacement.CONDITIONAL
    assert t.replaced_by == ("Properties.KeySchema[0].AttributeName",)
    assert t.stateful


def test_nested_create_only_path_matches_the_changed_subtree() -> None:
    # AWS::EC2::Instance's NetworkInterfaces is create-only as a whole: a change deep
    # inside it replaces the instance.
    instance = {
        "Type": "AWS::EC2::Instance",
        "Properties": {"NetworkInterfaces": [{"DeviceIndex": "0", "SubnetId": "subnet-1"}]},
    }
    old = template({"I": instance})
    new = copy.deepcopy(old)
    new["Resources"]["I"]["Properties"]["NetworkInterfaces"][0]["SubnetId"] = "subnet-2"

    i = one(change(old, new), "I")

    assert i.replacement is Replacement.TRUE
    assert i.replaced_by == ("Properties.NetworkInterfaces[0].SubnetId",)


def test_type_change_replaces() -> None:
    old = template({"X": QUEUE})
    new = template({"X": {"Type": "AWS::SNS::Topic", "Properties": {}}})

    x = one(change(old, new), "X")

    assert x.action is ChangeAction.REPLACE
    assert "Type" in x.replaced_by


def test_tags_only_change() -> None:
    body = template({"Q": QUEUE})
    plan = diff_stack(
        desired(body, tags={"team": "b", "cost": "1"}),
        deployed(body, tags={"team": "a", "stackyard:namespace": "dev"}),
    )

    assert plan.action is StackAction.UPDATE
    assert plan.resources == ()
    assert [(t.key, t.action, t.before, t.after) for t in plan.tags] == [
        ("cost", ChangeAction.ADD, None, "1"),
        ("team", ChangeAction.MODIFY, "a", "b"),
    ]


PARAM_TEMPLATE = template(
    {
        "ByRef": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Env"}}},
        "BySub": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${Env}-q"}}},
        "Unrelated": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "x"}},
    },
    Parameters={"Env": {"Type": "String"}},
)


def test_parameter_only_change_reaches_resources_through_ref_and_sub() -> None:
    plan = diff_stack(
        desired(PARAM_TEMPLATE, {"Env": "prod"}), deployed(PARAM_TEMPLATE, {"Env": "dev"})
    )

    assert [p.key for p in plan.parameters] == ["Env"]
    assert {r.logical_id for r in plan.resources} == {"ByRef", "BySub"}
    by_ref, by_sub = one(plan, "ByRef"), one(plan, "BySub")
    assert by_ref.reasons == ("parameter Env changed",)
    assert [(d.path, d.before, d.after) for d in by_ref.diffs] == [
        ("Properties.DisplayName", "dev", "prod")
    ]
    assert by_ref.replacement is Replacement.FALSE
    assert [(d.path, d.before, d.after) for d in by_sub.diffs] == [
        ("Properties.QueueName", "dev-q", "prod-q")
    ]
    assert by_sub.replacement is Replacement.TRUE  # QueueName is create-only


def test_parameter_left_unset_uses_previous_value() -> None:
    plan = diff_stack(desired(PARAM_TEMPLATE), deployed(PARAM_TEMPLATE, {"Env": "dev"}))

    assert plan.action is StackAction.NO_CHANGE
    assert plan.parameters == () and plan.resources == ()


def test_unchanged_stack() -> None:
    body = template({"Q": QUEUE}, Outputs={"Url": {"Value": {"Ref": "Q"}}})
    plan = diff_stack(desired(body), deployed(body))

    assert plan.action is StackAction.NO_CHANGE
    assert not plan.has_changes
    assert plan.reason == "in sync"


def test_reformatted_policy_is_no_change() -> None:
    doc = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}
    reordered = {"Statement": {"Resource": "*", "Action": "s3:GetObject", "Effect": "Allow"}}
    old = template(
        {"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": doc}}}
    )
    new = template(
        {"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": reordered}}}
    )

    plan = change(old, new)

    assert plan.resources == ()


def test_new_stack_is_all_adds() -> None:
    body = template(
        {"Q": QUEUE, "T": {"Type": "AWS::SNS::Topic"}},
        Parameters={"Env": {"Type": "String", "Default": "dev"}},
        Outputs={"Url": {"Value": {"Ref": "Q"}}},
    )
    plan = diff_stack(desired(body, termination_protection=True), None)

    assert plan.action is StackAction.CREATE
    assert [(r.logical_id, r.action) for r in plan.resources] == [
        ("Q", ChangeAction.ADD),
        ("T", ChangeAction.ADD),
    ]
    assert [(p.key, p.after) for p in plan.parameters] == [("Env", "dev")]
    assert [(o.key, o.action, o.known_after_apply) for o in plan.outputs] == [
        ("Url", ChangeAction.ADD, True)
    ]
    assert [s.name for s in plan.settings] == ["termination protection"]


def test_deleted_stack_is_all_removes_and_destructive() -> None:
    body = template({"Q": QUEUE, "B": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"}})
    plan = diff_stack(None, deployed(body, outputs={"X": "1"}))

    assert plan.action is StackAction.DELETE
    assert {(r.logical_id, r.action) for r in plan.resources} == {
        ("Q", ChangeAction.REMOVE),
        ("B", ChangeAction.REMOVE),
    }
    assert all(r.destructive for r in plan.resources)
    assert "Retain" in one(plan, "B").risks[0].reason


def test_unknown_value_is_known_after_apply_and_create_only_becomes_conditional() -> None:
    old = template({"Q": QUEUE})
    new = copy.deepcopy(old)
    new["Resources"]["Q"]["Properties"]["QueueName"] = Unknown("output net::QueueName")
    new["Resources"]["Q"]["Properties"]["DelaySeconds"] = Unknown("output net::Delay")

    q = one(change(old, new), "Q")

    assert q.replacement is Replacement.CONDITIONAL
    assert q.action is ChangeAction.MODIFY
    diffs = {d.path: d for d in q.diffs}
    assert diffs["Properties.QueueName"].after == KNOWN_AFTER_APPLY
    assert diffs["Properties.QueueName"].known_after_apply
    assert diffs["Properties.QueueName"].replacement is Replacement.CONDITIONAL
    assert diffs["Properties.DelaySeconds"].replacement is Replacement.FALSE


def test_unknown_parameter_reaching_a_create_only_property() -> None:
    plan = diff_stack(
        desired(PARAM_TEMPLATE, {"Env": Unknown("output net::Env")}),
        deployed(PARAM_TEMPLATE, {"Env": "dev"}),
    )

    assert plan.parameters[0].known_after_apply
    assert plan.parameters[0].after == KNOWN_AFTER_APPLY
    assert one(plan, "BySub").replacement is Replacement.CONDITIONAL
    assert one(plan, "BySub").diffs[0].after == KNOWN_AFTER_APPLY


def test_resource_referring_to_a_replaced_one_changes_after_apply() -> None:
    old = template(
        {"Q": QUEUE, "S": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Q"}}}},
        Outputs={"Arn": {"Value": {"Fn::GetAtt": ["Q", "Arn"]}}},
    )
    new = copy.deepcopy(old)
    new["Resources"]["Q"]["Properties"]["QueueName"] = "jobs-2"
    plan = diff_stack(desired(new), deployed(old, outputs={"Arn": "arn:old"}))

    s = one(plan, "S")
    assert s.reasons == ("resource Q replaced",)
    assert s.replacement is Replacement.CONDITIONAL  # TopicName is create-only, value unknown
    assert [(o.key, o.before, o.after) for o in plan.outputs] == [
        ("Arn", "arn:old", KNOWN_AFTER_APPLY)
    ]


def test_outputs_added_removed_modified() -> None:
    old = template({"Q": QUEUE}, Outputs={"A": {"Value": "1"}, "B": {"Value": "2"}})
    new = template({"Q": QUEUE}, Outputs={"A": {"Value": "3"}, "C": {"Value": "4"}})
    plan = diff_stack(desired(new), deployed(old, outputs={"A": "1", "B": "2"}))

    assert [(o.key, o.action, o.before, o.after) for o in plan.outputs] == [
        ("A", ChangeAction.MODIFY, "1", "3"),
        ("B", ChangeAction.REMOVE, "2", None),
        ("C", ChangeAction.ADD, None, "4"),
    ]


def test_settings_changes() -> None:
    body = template({"Q": QUEUE})
    policy = {
        "Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]
    }
    plan = diff_stack(
        desired(
            body,
            stack_policy=json.dumps(policy),
            termination_protection=True,
            notification_arns=("arn:sns",),
            service_role="arn:role",
        ),
        deployed(body),
    )

    assert [s.name for s in plan.settings] == [
        "termination protection",
        "stack policy",
        "notification ARNs",
        "service role",
    ]
    same = diff_stack(
        desired(body, stack_policy=json.dumps(policy)), deployed(body, stack_policy=policy)
    )
    assert same.action is StackAction.NO_CHANGE


def test_locked_stack_shows_its_pending_delta() -> None:
    old = template({"Q": QUEUE})
    new = copy.deepcopy(old)
    new["Resources"]["Q"]["Properties"]["QueueName"] = "jobs-2"
    new["Resources"]["T"] = {"Type": "AWS::SNS::Topic"}
    when = datetime(2026, 1, 2, tzinfo=UTC)
    plan = diff_stack(desired(new, locked=True), deployed(old, updated=when))

    assert plan.action is StackAction.SKIP_LOCKED
    assert not plan.will_change
    assert plan.locked_delta is not None
    assert plan.locked_delta.changes == 2
    assert dict(plan.locked_delta.by_risk) == {"destructive": 1, "routine": 1}
    assert plan.locked_delta.since == when.isoformat()


def test_failed_stack_is_recreated_from_nothing() -> None:
    body = template({"Q": QUEUE})
    plan = diff_stack(
        desired(body),
        deployed(body, status="ROLLBACK_COMPLETE", tags={"stackyard:namespace": "dev"}),
        recreate_failed=True,
    )

    assert plan.action is StackAction.RECREATE
    assert [r.action for r in plan.resources] == [ChangeAction.ADD]


def test_failed_stack_without_flag_is_blocked_with_a_hint() -> None:
    body = template({"Q": QUEUE})
    plan = diff_stack(
        desired(body), deployed(body, status="ROLLBACK_COMPLETE", tags={"stackyard:namespace": "x"})
    )

    assert plan.action is StackAction.BLOCKED
    assert plan.hint and "--recreate-failed" in plan.hint


SECRET = "hunter2-very-secret"


@pytest.mark.parametrize("how", ["no_echo", "secret"])
def test_secret_parameters_are_masked_everywhere(how: str) -> None:
    body = template(
        {
            "Db": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {"MasterUserPassword": {"Ref": "Pw"}},
            }
        },
        Parameters={"Pw": {"Type": "String", "NoEcho": how == "no_echo"}},
    )
    value = SECRET if how == "no_echo" else Secret(SECRET)
    no_echo = ("Pw",) if how == "no_echo" else ()
    new_plan = diff_stack(desired(body, {"Pw": value}, no_echo=no_echo), None)
    upd_plan = diff_stack(
        desired(body, {"Pw": value}, no_echo=no_echo), deployed(body, {"Pw": "old-secret-value"})
    )

    for plan in (new_plan, upd_plan):
        assert plan.parameters[0].masked
        assert plan.parameters[0].after == "****"
        assert SECRET not in repr(plan)
    assert upd_plan.parameters[0].before == "****"
    db = one(upd_plan, "Db")
    assert db.diffs[0].masked and db.diffs[0].after == "****"
    assert "old-secret-value" not in repr(upd_plan)


def test_secret_inside_template_text_is_masked() -> None:
    old = template({"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "plain"}}})
    new = template({"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"q-{SECRET}"}}})

    plan = diff_stack(desired(new), deployed(old), secrets=[Secret(SECRET)])

    assert SECRET not in repr(plan)
    assert one(plan, "Q").diffs[0].after == "q-****"
    assert one(plan, "Q").diffs[0].masked


def test_noecho_unchanged_when_cloudformation_masks_it() -> None:
    body = template({}, Parameters={"Pw": {"Type": "String", "NoEcho": True}})
    plan = diff_stack(
        desired(body, {"Pw": SECRET}, no_echo=("Pw",)), deployed(body, {"Pw": "****"})
    )

    assert plan.parameters == ()


def test_needs_a_side() -> None:
    with pytest.raises(ValueError):
        diff_stack(None, None)


def test_from_described_joins_gateway_data() -> None:
    from stackyard.plan.diff import snapshot

    described = DeployedStack(
        name="dev-app",
        stack_id="id-1",
        status="CREATE_COMPLETE",
        parameters={"Env": "dev"},
        termination_protection=True,
    )
    stack = snapshot(described, json.dumps(template({"Q": QUEUE})), None)

    assert stack.template["Resources"]["Q"]["Type"] == "AWS::SQS::Queue"
    assert stack.termination_protection and stack.parameters == {"Env": "dev"}
    assert stack.stack_id == "id-1" and stack.fqn == "dev-app"


# --- change sets -----------------------------------------------------------------------------


def cs_change(
    logical_id: str, action: str = "Modify", replacement: str = "False", names: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": action,
            "LogicalResourceId": logical_id,
            "ResourceType": "AWS::SQS::Queue",
            "Replacement": replacement,
            "Details": [
                {"Target": {"Attribute": "Properties", "Name": n, "RequiresRecreation": "Always"}}
                for n in names
            ],
        },
    }


def test_change_set_agreeing_leaves_no_disagreement() -> None:
    old = template({"Q": QUEUE})
    new = copy.deepcopy(old)
    new["Resources"]["Q"]["Properties"]["QueueName"] = "jobs-2"
    plan = change(old, new)

    merged = merge_change_set(plan, [cs_change("Q", replacement="True", names=("QueueName",))])

    assert merged.disagreements == ()
    assert merged.resources == plan.resources


def test_change_set_stricter_replacement_wins_and_is_recorded() -> None:
    old = template({"Q": QUEUE})
    new = copy.deepcopy(old)
    new["Resources"]["Q"]["Properties"]["DelaySeconds"] = 9
    plan = change(old, new)

    merged = merge_change_set(
        plan, [cs_change("Q", replacement="True", names=("DelaySeconds",)), cs_change("Other")]
    )

    q = one(merged, "Q")
    assert q.replacement is Replacement.TRUE and q.action is ChangeAction.REPLACE
    assert "Properties.DelaySeconds" in q.replaced_by
    assert q.destructive
    fields = {(d.logical_id, d.field) for d in merged.disagreements}
    assert fields == {("Q", "replacement"), ("Other", "listed")}
    assert one(merged, "Other").reasons == ("listed by the change set",)


def test_change_set_missing_a_planned_change_is_recorded() -> None:
    old = template({"Q": QUEUE})
    new = template({"Q": QUEUE, "T": {"Type": "AWS::SNS::Topic"}})
    merged = merge_change_set(change(old, new), [])

    assert [(d.logical_id, d.field, d.change_set) for d in merged.disagreements] == [
        ("T", "listed", "no change")
    ]


def test_short_secret_is_masked_only_as_a_whole_value() -> None:
    old = template(
        {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "a", "DelaySeconds": 1}}}
    )
    new = template(
        {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "xyz", "DelaySeconds": 2}}}
    )

    q = one(diff_stack(desired(new), deployed(old), secrets=["xyz"]), "Q")

    assert {d.path: d.after for d in q.diffs} == {
        "Properties.DelaySeconds": 2,
        "Properties.QueueName": "****",
    }


def test_change_set_type_change_is_one_replacement() -> None:
    old = template({"X": QUEUE})
    new = template({"X": {"Type": "AWS::SNS::Topic", "Properties": {}}})
    plan = change(old, new)

    merged = merge_change_set(plan, [cs_change("X", action="Add"), cs_change("X", action="Remove")])

    assert merged.disagreements == ()


def test_plan_agrees_with_the_local_change_sets() -> None:
    """The local AWS computes change sets the way AWS does; the schema-based plan must agree."""
    from stackyard.local.cloudformation.changes import resource_changes

    old = json.loads(json.dumps(PARAM_TEMPLATE))
    old["Resources"]["Q"] = QUEUE
    old["Resources"]["S"] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Q"}}}
    new = copy.deepcopy(old)
    new["Resources"]["Q"]["Properties"]["QueueName"] = "jobs-2"
    new["Resources"]["Unrelated"]["Properties"]["DisplayName"] = "y"
    del new["Resources"]["ByRef"]

    plan = diff_stack(desired(new, {"Env": "prod"}), deployed(old, {"Env": "dev"}))
    listed = resource_changes(old, {"Env": "dev"}, {}, new, {"Env": "prod"})
    merged = merge_change_set(plan, listed)

    assert merged.disagreements == ()
    assert {r.logical_id: r.replacement for r in merged.resources} == {
        "ByRef": Replacement.FALSE,
        "BySub": Replacement.TRUE,
        "Q": Replacement.TRUE,
        "S": Replacement.CONDITIONAL,
        "Unrelated": Replacement.FALSE,
    }


def test_deleted_stack_masks_noecho_parameters_from_its_template() -> None:
    body = template(
        {}, Parameters={"Pw": {"Type": "String", "NoEcho": "true"}, "Env": {"Type": "String"}}
    )
    plan = diff_stack(None, deployed(body, {"Pw": "clear-from-a-faulty-endpoint", "Env": "dev"}))

    assert [(p.key, p.before, p.masked) for p in plan.parameters] == [
        ("Env", "dev", False),
        ("Pw", "****", True),
    ]
