"""Behaviours measured against AWS's documentation: stale change sets, export collisions,
schema validation, ARNs and error texts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _topics(*names: str, export: str | None = None) -> str:
    template: dict[str, Any] = {
        "Resources": {name: {"Type": "AWS::SNS::Topic"} for name in names},
    }
    if export:
        template["Outputs"] = {
            "Arn": {"Value": {"Ref": names[0]}, "Export": {"Name": export}},
        }
    return json.dumps(template)


def _logical_ids(cfn: Any, name: str) -> set[str]:
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"] for r in resources}


def test_a_direct_update_makes_change_sets_obsolete(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn = aws("cloudformation")
    name = unique("stale")
    cfn.create_stack(StackName=name, TemplateBody=_topics("A"))
    wait_stack(cfn, name)
    cfn.create_change_set(StackName=name, ChangeSetName="add-b", TemplateBody=_topics("A", "B"))
    cfn.update_stack(StackName=name, TemplateBody=_topics("A", "C"))
    assert wait_stack(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"

    stale = cfn.describe_change_set(StackName=name, ChangeSetName="add-b")
    assert stale["ExecutionStatus"] == "OBSOLETE"
    with pytest.raises(ClientError, match="InvalidChangeSetStatus") as refused:
        cfn.execute_change_set(StackName=name, ChangeSetName="add-b")
    assert "current status of [OBSOLETE]" in str(refused.value)
    assert _logical_ids(cfn, name) == {"A", "C"}


def test_a_second_stack_cannot_take_over_an_export(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn = aws("cloudformation")
    export = unique("shared-export")
    first, second, third = unique("owner"), unique("thief"), unique("thief")
    cfn.create_stack(StackName=first, TemplateBody=_topics("A", export=export))
    wait_stack(cfn, first)

    cfn.create_stack(StackName=second, TemplateBody=_topics("A", export=export))
    failed = wait_stack(cfn, second)
    assert failed["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = {
        e["ResourceStatus"]: e.get("ResourceStatusReason")
        for e in cfn.describe_stack_events(StackName=second)["StackEvents"]
        if e["LogicalResourceId"] == second
    }
    assert reasons["ROLLBACK_IN_PROGRESS"] == (
        f"Export with name {export} is already exported by stack {first}. "
        "Rollback requested by user."
    )

    cfn.create_stack(StackName=third, TemplateBody=_topics("A"))
    wait_stack(cfn, third)
    cfn.update_stack(StackName=third, TemplateBody=_topics("A", export=export))
    assert wait_stack(cfn, third)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"

    exports = {e["Name"]: e["ExportingStackId"] for e in cfn.list_exports()["Exports"]}
    owner = cfn.describe_stacks(StackName=first)["Stacks"][0]["StackId"]
    assert exports[export] == owner


def test_a_misspelt_property_fails_the_create_with_aws_text(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn = aws("cloudformation")
    name = unique("typo")
    body = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySecond": 5}},
        }
    }
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(body))
    assert wait_stack(cfn, name)["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [
        e
        for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
        if e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert [(e["LogicalResourceId"], e["ResourceStatusReason"]) for e in failed] == [
        ("Queue", "Encountered unsupported property DelaySecond")
    ]

    good = unique("typo")
    cfn.create_stack(StackName=good, TemplateBody=json.dumps({"Resources": {"Queue": {
        "Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 5}}}}))  # fmt: skip
    wait_stack(cfn, good)
    cfn.update_stack(StackName=good, TemplateBody=json.dumps(body))
    assert wait_stack(cfn, good)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    reasons = [
        e["ResourceStatusReason"]
        for e in cfn.describe_stack_events(StackName=good)["StackEvents"]
        if e["ResourceStatus"] == "UPDATE_FAILED"
    ]
    assert reasons == ["Encountered unsupported property DelaySecond"]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Output": {}},
            "Template format error: Invalid template property or properties [Output]",
        ),
        (
            {
                "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"X": {"Value": {"Fn::GetAtt": ["T", "Nonsense"]}}},
            },
            "Template error: resource T does not support attribute type Nonsense in Fn::GetAtt",
        ),
    ],
    ids=["unknown-section", "unknown-attribute"],
)
def test_schema_errors_are_refused_up_front(
    aws: Callable[[str], Any],
    unique: Callable[[str], str],
    template: dict[str, Any],
    message: str,
) -> None:
    cfn = aws("cloudformation")
    name = unique("refused")
    body = json.dumps(template)
    for call in (
        lambda: cfn.create_stack(StackName=name, TemplateBody=body),
        lambda: cfn.create_change_set(
            StackName=name, ChangeSetName="c", ChangeSetType="CREATE", TemplateBody=body
        ),
        lambda: cfn.validate_template(TemplateBody=body),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Message"] == message


def test_change_sets_take_a_stack_arn(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn = aws("cloudformation")
    name = unique("arn")
    stack_id = cfn.create_stack(StackName=name, TemplateBody=_topics("A"))["StackId"]
    wait_stack(cfn, name)
    created = cfn.create_change_set(
        StackName=stack_id, ChangeSetName="by-arn", TemplateBody=_topics("A", "B")
    )
    assert created["StackId"] == stack_id
    cfn.execute_change_set(ChangeSetName="by-arn", StackName=stack_id)
    assert wait_stack(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    assert _logical_ids(cfn, stack_id) == {"A", "B"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("update_stack", "Stack [{name}] does not exist"),
        ("describe_stack_events", "Stack [{name}] does not exist"),
        ("describe_stacks", "Stack with id {name} does not exist"),
    ],
)
def test_missing_stacks_are_worded_as_aws_words_them(
    aws: Callable[[str], Any], unique: Callable[[str], str], call: str, message: str
) -> None:
    cfn = aws("cloudformation")
    name = unique("missing")
    kwargs: dict[str, Any] = {"StackName": name}
    if call == "update_stack":
        kwargs["TemplateBody"] = _topics("A")
    with pytest.raises(ClientError) as missing:
        getattr(cfn, call)(**kwargs)
    assert missing.value.response["Error"]["Message"] == message.format(name=name)


def test_change_sets_take_time_to_compute() -> None:
    import time

    import boto3

    from stackyard.local.runner import LocalEndpoint

    with LocalEndpoint(latency="resource=0s,changeset=1s") as endpoint:
        cfn = boto3.client(
            "cloudformation",
            endpoint_url=endpoint.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        cfn.create_change_set(
            StackName="pending",
            ChangeSetName="first",
            ChangeSetType="CREATE",
            TemplateBody=_topics("A"),
        )
        with pytest.raises(ClientError, match=r"current status of \[CREATE_PENDING\]"):
            cfn.execute_change_set(StackName="pending", ChangeSetName="first")
        seen: list[tuple[str, str]] = []
        deadline = time.monotonic() + 10
        while not seen or seen[-1][0] != "CREATE_COMPLETE":
            described = cfn.describe_change_set(StackName="pending", ChangeSetName="first")
            state = (described["Status"], described["ExecutionStatus"])
            if not seen or seen[-1] != state:
                seen.append(state)
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert seen == [
            ("CREATE_PENDING", "UNAVAILABLE"),
            ("CREATE_IN_PROGRESS", "UNAVAILABLE"),
            ("CREATE_COMPLETE", "AVAILABLE"),
        ]
        assert described["Changes"][0]["ResourceChange"]["LogicalResourceId"] == "A"


def test_drift_of_an_ssm_parameter_and_a_security_group(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn, ssm, ec2 = aws("cloudformation"), aws("ssm"), aws("ec2")
    name = unique("drift")
    template = {
        "Resources": {
            "Param": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": "a"},
            },
            "Group": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": "web",
                    "SecurityGroupIngress": [
                        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}
                    ],
                },
            },
            "Topic": {"Type": "AWS::SNS::Topic"},
        }
    }
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    wait_stack(cfn, name)

    def detect() -> dict[str, Any]:
        detection = cfn.detect_stack_drift(StackName=name)["StackDriftDetectionId"]
        status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
        assert status["DetectionStatus"] == "DETECTION_COMPLETE"
        drifts = cfn.describe_stack_resource_drifts(StackName=name)["StackResourceDrifts"]
        return {"stack": status, **{d["LogicalResourceId"]: d for d in drifts}}

    clean = detect()
    assert clean["stack"]["StackDriftStatus"] == "IN_SYNC"
    assert {k: v["StackResourceDriftStatus"] for k, v in clean.items() if k != "stack"} == {
        "Param": "IN_SYNC",
        "Group": "IN_SYNC",
        "Topic": "NOT_CHECKED",
    }

    ssm.put_parameter(Name=clean["Param"]["PhysicalResourceId"], Value="b", Overwrite=True)
    ec2.authorize_security_group_ingress(
        GroupId=clean["Group"]["PhysicalResourceId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            }
        ],
    )
    drifted = detect()
    assert drifted["stack"]["StackDriftStatus"] == "DRIFTED"
    assert drifted["stack"]["DriftedStackResourceCount"] == 2
    assert drifted["Param"]["StackResourceDriftStatus"] == "MODIFIED"
    assert drifted["Param"]["PropertyDifferences"] == [
        {
            "PropertyPath": "/Value",
            "ExpectedValue": "a",
            "ActualValue": "b",
            "DifferenceType": "NOT_EQUAL",
        }
    ]
    group = drifted["Group"]
    assert group["StackResourceDriftStatus"] == "MODIFIED"
    [added] = group["PropertyDifferences"]
    assert added["DifferenceType"] == "ADD"
    assert added["PropertyPath"].startswith("/SecurityGroupIngress/")
    assert json.loads(added["ActualValue"])["CidrIp"] == "10.0.0.0/8"
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["DriftInformation"]["StackDriftStatus"] == "DRIFTED"


SAM_FUNCTION = {
    "Transform": "AWS::Serverless-2016-10-31",
    "Resources": {
        "Fn": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Handler": "index.handler",
                "Runtime": "python3.12",
                "InlineCode": "def handler(event, context):\n    return 1\n",
            },
        }
    },
    "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}}},
}


def test_a_sam_function_template_is_expanded(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn = aws("cloudformation")
    name = unique("sam")
    body = json.dumps(SAM_FUNCTION)
    with pytest.raises(ClientError) as refused:
        cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
    assert refused.value.response["Error"]["Message"] == (
        "Requires capabilities : [CAPABILITY_AUTO_EXPAND]"
    )
    assert cfn.validate_template(TemplateBody=body)["DeclaredTransforms"] == [
        "AWS::Serverless-2016-10-31"
    ]

    cfn.create_stack(
        StackName=name,
        TemplateBody=body,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    assert {(r["LogicalResourceId"], r["ResourceType"]) for r in resources} == {
        ("Fn", "AWS::Lambda::Function"),
        ("FnRole", "AWS::IAM::Role"),
    }
    function = aws("lambda").get_function(FunctionName=_physical(resources, "Fn"))
    assert stack["Outputs"][0]["OutputValue"] == function["Configuration"]["FunctionArn"]

    # boto3 hands JSON template bodies back parsed
    original = cfn.get_template(StackName=name)["TemplateBody"]
    processed = cfn.get_template(StackName=name, TemplateStage="Processed")["TemplateBody"]
    assert original["Resources"]["Fn"]["Type"] == "AWS::Serverless::Function"
    assert "Transform" not in processed
    assert processed["Resources"]["Fn"]["Type"] == "AWS::Lambda::Function"


def _physical(resources: list[dict[str, Any]], logical_id: str) -> str:
    return next(
        str(r["PhysicalResourceId"]) for r in resources if r["LogicalResourceId"] == logical_id
    )


def _child_template(extra_output: bool = False) -> str:
    outputs: dict[str, Any] = {"TopicArn": {"Value": {"Ref": "Topic"}}}
    if extra_output:
        outputs["Greeting"] = {"Value": {"Fn::Sub": "hello ${Who}"}}
    return json.dumps(
        {
            "Parameters": {"Who": {"Type": "String"}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": outputs,
        }
    )


def _parent_template(url: str, who: str, output: str = "TopicArn") -> str:
    return json.dumps(
        {
            "Resources": {
                "Child": {
                    "Type": "AWS::CloudFormation::Stack",
                    "Properties": {"TemplateURL": url, "Parameters": {"Who": who}},
                }
            },
            "Outputs": {"FromChild": {"Value": {"Fn::GetAtt": ["Child", f"Outputs.{output}"]}}},
        }
    )


def test_nested_stacks_are_real_stacks_whose_outputs_flow_up(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn, s3 = aws("cloudformation"), aws("s3")
    bucket = unique("nested")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="child.json", Body=_child_template().encode())
    s3.put_object(Bucket=bucket, Key="child2.json", Body=_child_template(True).encode())
    url = f"https://s3.amazonaws.com/{bucket}/child.json"
    name = unique("parent")

    cfn.create_stack(StackName=name, TemplateBody=_parent_template(url, "world"))
    parent = wait_stack(cfn, name)
    assert parent["StackStatus"] == "CREATE_COMPLETE", parent
    child_id = _physical(cfn.describe_stack_resources(StackName=name)["StackResources"], "Child")
    child = cfn.describe_stacks(StackName=child_id)["Stacks"][0]
    assert child["StackName"].startswith(f"{name}-Child-")
    assert (child["ParentId"], child["RootId"]) == (parent["StackId"], parent["StackId"])
    assert child["StackStatus"] == "CREATE_COMPLETE"
    topic = {o["OutputKey"]: o["OutputValue"] for o in child["Outputs"]}["TopicArn"]
    assert parent["Outputs"][0]["OutputValue"] == topic

    url2 = f"https://s3.amazonaws.com/{bucket}/child2.json"
    cfn.update_stack(StackName=name, TemplateBody=_parent_template(url2, "there", "Greeting"))
    parent = wait_stack(cfn, name)
    assert parent["StackStatus"] == "UPDATE_COMPLETE", parent
    assert parent["Outputs"][0]["OutputValue"] == "hello there"
    assert cfn.describe_stacks(StackName=child_id)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"

    cfn.delete_stack(StackName=name)
    wait_stack(cfn, parent["StackId"])
    assert cfn.describe_stacks(StackName=child_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"


def test_a_failing_nested_stack_fails_and_rolls_back_its_parent(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn, s3 = aws("cloudformation"), aws("s3")
    bucket = unique("nested")
    s3.create_bucket(Bucket=bucket)
    broken = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"Nope": 1}}}}
    s3.put_object(Bucket=bucket, Key="broken.json", Body=json.dumps(broken).encode())
    name = unique("parent")
    body = {
        "Resources": {
            "Child": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {"TemplateURL": f"https://s3.amazonaws.com/{bucket}/broken.json"},
            }
        }
    }
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(body))
    assert wait_stack(cfn, name)["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = next(
        e
        for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
        if e["LogicalResourceId"] == "Child" and e["ResourceStatus"] == "CREATE_FAILED"
    )
    assert failed["ResourceStatusReason"].startswith("Embedded stack arn:aws:cloudformation:")
    assert (
        "was not successfully created: The following resource(s) failed to create: [Queue]"
        in (failed["ResourceStatusReason"])
    )
    child = cfn.describe_stacks(StackName=failed["PhysicalResourceId"])["Stacks"][0]
    assert child["StackStatus"] == "DELETE_COMPLETE"


@pytest.mark.parametrize(("policy", "kept"), [("Retain", True), ("Delete", False)])
def test_update_replace_policy_decides_the_fate_of_the_replaced_resource(
    aws: Callable[[str], Any],
    unique: Callable[[str], str],
    wait_stack: Any,
    policy: str,
    kept: bool,
) -> None:
    cfn, sqs = aws("cloudformation"), aws("sqs")
    name = unique("replace")

    def template(queue_name: str) -> str:
        return json.dumps(
            {
                "Resources": {
                    "Queue": {
                        "Type": "AWS::SQS::Queue",
                        "UpdateReplacePolicy": policy,
                        "Properties": {"QueueName": queue_name},
                    }
                }
            }
        )

    first, second = unique("q"), unique("q")
    cfn.create_stack(StackName=name, TemplateBody=template(first))
    wait_stack(cfn, name)
    cfn.update_stack(StackName=name, TemplateBody=template(second))
    assert wait_stack(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    urls = sqs.list_queues(QueueNamePrefix=first).get("QueueUrls", [])
    assert bool(urls) is kept
    assert sqs.list_queues(QueueNamePrefix=second)["QueueUrls"]


def test_stack_tags_reach_taggable_resources(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn = aws("cloudformation")
    name = unique("tags")
    template = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Param": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": "v", "Tags": {"team": "own"}},
            },
            "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "g"}},
        }
    }
    stack_id = cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Tags=[{"Key": "team", "Value": "core"}, {"Key": "cost", "Value": "42"}],
    )["StackId"]
    assert wait_stack(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    ids = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
    }

    def expected(logical_id: str, team: str = "core") -> dict[str, str]:
        return {
            "team": team,
            "cost": "42",
            "aws:cloudformation:stack-name": name,
            "aws:cloudformation:stack-id": stack_id,
            "aws:cloudformation:logical-id": logical_id,
        }

    def pairs(tags: list[dict[str, str]]) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in tags}

    assert aws("sqs").list_queue_tags(QueueUrl=ids["Queue"])["Tags"] == expected("Queue")
    topic_tags = aws("sns").list_tags_for_resource(ResourceArn=ids["Topic"])["Tags"]
    assert pairs(topic_tags) == expected("Topic")
    param_tags = aws("ssm").list_tags_for_resource(
        ResourceType="Parameter", ResourceId=ids["Param"]
    )
    assert pairs(param_tags["TagList"]) == expected("Param", team="own")
    group = aws("ec2").describe_security_groups(GroupIds=[ids["Group"]])["SecurityGroups"][0]
    assert pairs(group["Tags"]) == expected("Group")


def test_wafv2_resources_made_by_a_stack_are_seen_by_the_wafv2_api(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn, wafv2 = aws("cloudformation"), aws("wafv2")
    name = unique("waf")
    visibility = {
        "SampledRequestsEnabled": False,
        "CloudWatchMetricsEnabled": False,
        "MetricName": "m",
    }

    def template(addresses: list[str]) -> str:
        return json.dumps(
            {
                "Resources": {
                    "Acl": {
                        "Type": "AWS::WAFv2::WebACL",
                        "Properties": {
                            "Scope": "REGIONAL",
                            "DefaultAction": {"Allow": {}},
                            "VisibilityConfig": visibility,
                        },
                    },
                    "Blocked": {
                        "Type": "AWS::WAFv2::IPSet",
                        "Properties": {
                            "Scope": "REGIONAL",
                            "IPAddressVersion": "IPV4",
                            "Addresses": addresses,
                        },
                    },
                },
                "Outputs": {"AclArn": {"Value": {"Fn::GetAtt": ["Acl", "Arn"]}}},
            }
        )

    cfn.create_stack(StackName=name, TemplateBody=template(["10.0.0.0/8"]))
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    ids = {
        r["LogicalResourceId"]: r["PhysicalResourceId"].split("|")
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
    }
    acl_name, acl_id, _ = ids["Acl"]
    acl = wafv2.get_web_acl(Name=acl_name, Scope="REGIONAL", Id=acl_id)["WebACL"]
    assert acl["ARN"] == stack["Outputs"][0]["OutputValue"]
    set_name, set_id, _ = ids["Blocked"]

    def addresses() -> list[str]:
        found = wafv2.get_ip_set(Name=set_name, Scope="REGIONAL", Id=set_id)["IPSet"]
        return list(found["Addresses"])

    assert addresses() == ["10.0.0.0/8"]
    cfn.update_stack(StackName=name, TemplateBody=template(["10.0.0.0/8", "192.168.0.0/16"]))
    assert wait_stack(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    assert addresses() == ["10.0.0.0/8", "192.168.0.0/16"]

    cfn.delete_stack(StackName=name)
    wait_stack(cfn, stack["StackId"])
    listed = wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]
    assert acl_id not in {a["Id"] for a in listed}


def test_drift_of_a_role_and_a_queue(
    aws: Callable[[str], Any], unique: Callable[[str], str], wait_stack: Any
) -> None:
    cfn, iam, sqs = aws("cloudformation"), aws("iam"), aws("sqs")
    name = unique("drift")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {"AssumeRolePolicyDocument": trust, "MaxSessionDuration": 3600},
            },
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
        }
    }
    cfn.create_stack(
        StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"]
    )
    assert wait_stack(cfn, name)["StackStatus"] == "CREATE_COMPLETE"

    def statuses() -> dict[str, str]:
        cfn.detect_stack_drift(StackName=name)
        drifts = cfn.describe_stack_resource_drifts(StackName=name)["StackResourceDrifts"]
        return {d["LogicalResourceId"]: d["StackResourceDriftStatus"] for d in drifts}

    assert statuses() == {"Role": "IN_SYNC", "Queue": "IN_SYNC"}
    ids = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
    }
    iam.update_role(RoleName=ids["Role"], MaxSessionDuration=7200)
    sqs.set_queue_attributes(QueueUrl=ids["Queue"], Attributes={"VisibilityTimeout": "90"})
    assert statuses() == {"Role": "MODIFIED", "Queue": "MODIFIED"}
    queue = cfn.detect_stack_resource_drift(StackName=name, LogicalResourceId="Queue")
    assert queue["StackResourceDrift"]["PropertyDifferences"] == [
        {
            "PropertyPath": "/VisibilityTimeout",
            "ExpectedValue": "30",
            "ActualValue": "90",
            "DifferenceType": "NOT_EQUAL",
        }
    ]
