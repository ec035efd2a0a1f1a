"""Offline evaluation of a template's Conditions, and the template they leave active."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stackyard.plan.conditions import active_template, evaluate_conditions
from stackyard.unknown import Unknown

YES = {"Fn::Equals": ["a", "a"]}
NO = {"Fn::Equals": ["a", "b"]}
MAYBE = {"Fn::Equals": [{"Ref": "Unset"}, "a"]}

PARAMETERS = {
    "Env": {"Type": "String", "Default": "dev"},
    "Unset": {"Type": "String"},
    "Count": {"Type": "Number", "Default": 3},
    "Zones": {"Type": "CommaDelimitedList", "Default": "a, b"},
    "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"},
}

MAPPINGS = {
    "Sizes": {
        "dev": {"Instance": "t3.micro", "Zones": ["a", "b"]},
        "prod": {"Instance": "m5.large", "Zones": ["a", "b", "c"]},
    },
}


def decide(
    expr: Any,
    parameters: dict[str, str | None] | None = None,
    pseudo: dict[str, str] | None = None,
) -> bool | None:
    template = {
        "Parameters": PARAMETERS,
        "Mappings": MAPPINGS,
        "Conditions": {"Subject": expr},
    }
    return evaluate_conditions(template, parameters or {}, pseudo)["Subject"]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        pytest.param(YES, True, id="equals-true"),
        pytest.param(NO, False, id="equals-false"),
        pytest.param(MAYBE, None, id="equals-undecided"),
        pytest.param({"Fn::Equals": [{"Ref": "Count"}, 3]}, True, id="equals-number-as-text"),
        pytest.param({"Fn::Equals": [True, "true"]}, True, id="equals-bool-as-text"),
        pytest.param({"Fn::Equals": ["a"]}, None, id="equals-malformed"),
        pytest.param({"Fn::And": [YES, YES]}, True, id="and-true"),
        pytest.param({"Fn::And": [YES, NO]}, False, id="and-false"),
        pytest.param({"Fn::And": [MAYBE, NO]}, False, id="and-false-beats-undecided"),
        pytest.param({"Fn::And": [YES, MAYBE]}, None, id="and-undecided"),
        pytest.param({"Fn::Or": [NO, YES]}, True, id="or-true"),
        pytest.param({"Fn::Or": [NO, NO]}, False, id="or-false"),
        pytest.param({"Fn::Or": [MAYBE, YES]}, True, id="or-true-beats-undecided"),
        pytest.param({"Fn::Or": [NO, MAYBE]}, None, id="or-undecided"),
        pytest.param({"Fn::Not": [NO]}, True, id="not-true"),
        pytest.param({"Fn::Not": [YES]}, False, id="not-false"),
        pytest.param({"Fn::Not": [MAYBE]}, None, id="not-undecided"),
        pytest.param({"Fn::Not": [YES, NO]}, None, id="not-malformed"),
        pytest.param({"Fn::Unheard": [YES]}, None, id="unsupported-function"),
        pytest.param(
            {"Fn::Equals": [{"Fn::ImportValue": "x"}, "a"]}, None, id="unsupported-intrinsic"
        ),
        pytest.param({"Fn::Equals": [{"Ref": "AWS::NoValue"}, "a"]}, None, id="novalue-undecided"),
        pytest.param({"Fn::Equals": [{"Ref": "SomeResource"}, "a"]}, None, id="ref-to-resource"),
    ],
)
def test_operators(expr: Any, expected: bool | None) -> None:
    assert decide(expr) is expected


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        pytest.param({}, True, id="default-used"),
        pytest.param({"Env": "dev"}, True, id="explicit-equal"),
        pytest.param({"Env": "prod"}, False, id="explicit-overrides-default"),
        pytest.param({"Env": None}, None, id="explicit-none-is-unknown"),
        pytest.param({"Env": Unknown("lookup")}, None, id="unknown-value"),
    ],
)
def test_parameter_values_and_defaults(
    parameters: dict[str, str | None], expected: bool | None
) -> None:
    assert decide({"Fn::Equals": [{"Ref": "Env"}, "dev"]}, parameters) is expected


def test_parameter_without_default_or_value_is_undecided() -> None:
    assert decide({"Fn::Equals": [{"Ref": "Unset"}, ""]}) is None
    assert decide({"Fn::Equals": [{"Ref": "Unset"}, ""]}, {"Unset": ""}) is True


@pytest.mark.parametrize(
    ("expr", "parameters", "expected"),
    [
        pytest.param(
            {"Fn::Equals": [{"Ref": "Zones"}, ["a", "b"]]}, {}, True, id="list-default-elementwise"
        ),
        pytest.param(
            {"Fn::Equals": [{"Ref": "Subnets"}, ["s-1", "s-2"]]},
            {"Subnets": "s-1,s-2"},
            True,
            id="list-parameter-elementwise",
        ),
        pytest.param(
            {"Fn::Equals": [{"Ref": "Zones"}, ["b", "a"]]}, {}, False, id="list-order-matters"
        ),
        pytest.param(
            {"Fn::Equals": [{"Fn::Select": [1, {"Ref": "Zones"}]}, "b"]},
            {},
            True,
            id="select-from-list-parameter",
        ),
        pytest.param(
            {"Fn::Equals": [{"Fn::Select": ["5", ["a"]]}, "a"]}, {}, None, id="select-out-of-range"
        ),
        pytest.param(
            {"Fn::Equals": [{"Fn::Join": ["-", [{"Ref": "Env"}, "x"]]}, "dev-x"]},
            {},
            True,
            id="join",
        ),
        pytest.param(
            {"Fn::Equals": [{"Fn::Join": ["-", [{"Ref": "Unset"}, "x"]]}, "dev-x"]},
            {},
            None,
            id="join-undecided",
        ),
        pytest.param(
            {"Fn::Equals": [{"Fn::Select": [2, {"Fn::Split": [".", "a.b.c"]}]}, "c"]},
            {},
            True,
            id="split-then-select",
        ),
        pytest.param(
            {"Fn::Equals": [{"Fn::Sub": "${Env}-${AWS::Region}"}, "dev-eu-west-1"]},
            {},
            True,
            id="sub-parameters-and-pseudo",
        ),
        pytest.param(
            {"Fn::Equals": [{"Fn::Sub": ["${Name}-${!Literal}", {"Name": "n"}]}, "n-${Literal}"]},
            {},
            True,
            id="sub-variables-and-escape",
        ),
        pytest.param(
            {"Fn::Equals": [{"Fn::Sub": "${Bucket.Arn}"}, "x"]}, {}, None, id="sub-getatt-undecided"
        ),
    ],
)
def test_value_functions(
    expr: Any, parameters: dict[str, str | None], expected: bool | None
) -> None:
    assert decide(expr, parameters, {"AWS::Region": "eu-west-1"}) is expected


@pytest.mark.parametrize(
    ("expr", "pseudo", "expected"),
    [
        pytest.param(
            {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
            {"AWS::Region": "us-east-1"},
            True,
            id="region-given",
        ),
        pytest.param(
            {"Fn::Equals": [{"Ref": "AWS::AccountId"}, "123"]},
            {"AWS::Region": "us-east-1"},
            None,
            id="account-missing",
        ),
        pytest.param(
            {"Fn::Equals": [{"Ref": "AWS::StackName"}, "ns-q"]},
            {"AWS::StackName": "ns-q"},
            True,
            id="stack-name-given",
        ),
        pytest.param(
            {"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws-cn"]},
            {"AWS::Region": "cn-north-1"},
            True,
            id="partition-from-region",
        ),
        pytest.param(
            {"Fn::Equals": [{"Ref": "AWS::URLSuffix"}, "amazonaws.com"]},
            None,
            None,
            id="url-suffix-without-region",
        ),
    ],
)
def test_pseudo_parameters(expr: Any, pseudo: dict[str, str] | None, expected: bool | None) -> None:
    assert decide(expr, {}, pseudo) is expected


@pytest.mark.parametrize(
    ("env", "key", "value", "expected"),
    [
        pytest.param("dev", "Instance", "t3.micro", True, id="found-equal"),
        pytest.param("prod", "Instance", "t3.micro", False, id="found-different"),
        pytest.param("prod", "Zones", ["a", "b", "c"], True, id="found-list"),
        pytest.param("test", "Instance", "t3.micro", None, id="missing-top-key"),
        pytest.param(None, "Instance", "t3.micro", None, id="key-undecided"),
    ],
)
def test_find_in_map(env: str | None, key: str, value: Any, expected: bool | None) -> None:
    expr = {"Fn::Equals": [{"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, key]}, value]}
    assert decide(expr, {"Env": env}) is expected


def test_nested_condition_references() -> None:
    template = {
        "Parameters": PARAMETERS,
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "DevInEurope": {
                "Fn::And": [
                    {"Condition": "IsDev"},
                    {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]},
                ]
            },
            "Dangling": {"Condition": "NoSuchCondition"},
        },
    }
    assert evaluate_conditions(template, {}, {"AWS::Region": "eu-west-1"}) == {
        "IsProd": False,
        "IsDev": True,
        "DevInEurope": True,
        "Dangling": None,
    }
    assert evaluate_conditions(template, {"Env": "prod"}, {"AWS::Region": "eu-west-1"}) == {
        "IsProd": True,
        "IsDev": False,
        "DevInEurope": False,
        "Dangling": None,
    }


@pytest.mark.parametrize(
    "conditions",
    [
        pytest.param({"A": {"Fn::Not": [{"Condition": "A"}]}}, id="self"),
        pytest.param(
            {
                "A": {"Fn::Or": [{"Condition": "B"}, YES]},
                "B": {"Fn::And": [{"Condition": "A"}, YES]},
            },
            id="two-step",
        ),
    ],
)
def test_cycle_is_undecided(conditions: dict[str, Any]) -> None:
    template = {"Conditions": {**conditions, "Outside": {"Fn::Not": [{"Condition": "A"}]}}}
    result = evaluate_conditions(template, {})
    assert all(result[name] is None for name in conditions)
    assert result["Outside"] is None


def test_no_conditions() -> None:
    assert evaluate_conditions({"Resources": {}}, {}) == {}


QUEUE_TEMPLATE: dict[str, Any] = {
    "Parameters": {"KeepQueue": {"Type": "String", "Default": "keep"}},
    "Conditions": {"Keep": {"Fn::Equals": [{"Ref": "KeepQueue"}, "keep"]}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Condition": "Keep"},
        "Topic": {"Type": "AWS::SNS::Topic"},
    },
    "Outputs": {
        "QueueUrl": {"Value": {"Ref": "Queue"}, "Condition": "Keep"},
        "TopicArn": {"Value": {"Ref": "Topic"}},
    },
}


@pytest.mark.parametrize(
    ("keep", "resources", "outputs"),
    [
        pytest.param("keep", {"Queue", "Topic"}, {"QueueUrl", "TopicArn"}, id="keep"),
        pytest.param("drop", {"Topic"}, {"TopicArn"}, id="drop"),
        pytest.param(None, {"Queue", "Topic"}, {"QueueUrl", "TopicArn"}, id="undecided-stays"),
    ],
)
def test_resource_and_output_follow_condition(
    keep: str | None, resources: set[str], outputs: set[str]
) -> None:
    active = active_template(QUEUE_TEMPLATE, {"KeepQueue": keep})
    assert set(active["Resources"]) == resources
    assert set(active["Outputs"]) == outputs
    assert active["Conditions"] == QUEUE_TEMPLATE["Conditions"]


def test_entry_with_unknown_condition_name_stays() -> None:
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Condition": "Nowhere"}}}
    assert active_template(template, {}) == template


IF_TEMPLATE: dict[str, Any] = {
    "Parameters": {"Env": {"Type": "String"}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "Unsure": {"Fn::Equals": [{"Ref": "AWS::AccountId"}, "123"]},
    },
    "Resources": {
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": {"Fn::If": ["IsProd", "prod-queue", "dev-queue"]},
                "DelaySeconds": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, 5]},
                "Tags": [
                    {"Key": "a", "Value": "1"},
                    {"Fn::If": ["IsProd", {"Key": "p", "Value": "1"}, {"Ref": "AWS::NoValue"}]},
                ],
                "VisibilityTimeout": {"Fn::If": ["Unsure", 10, 20]},
                "MaximumMessageSize": {
                    "Fn::If": [
                        "Unsure",
                        {"Fn::If": ["IsProd", 1024, {"Ref": "AWS::NoValue"}]},
                        2048,
                    ]
                },
            },
        },
    },
    "Outputs": {
        "Name": {"Value": {"Fn::If": ["IsProd", "p", "d"]}},
    },
}


def test_fn_if_prod_keeps_branch_and_drops_novalue_key() -> None:
    props = active_template(IF_TEMPLATE, {"Env": "prod"})["Resources"]["Queue"]["Properties"]
    assert props["QueueName"] == "prod-queue"
    assert "DelaySeconds" not in props
    assert props["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "p", "Value": "1"}]


def test_fn_if_dev_drops_novalue_list_element() -> None:
    active = active_template(IF_TEMPLATE, {"Env": "dev"})
    props = active["Resources"]["Queue"]["Properties"]
    assert props["QueueName"] == "dev-queue"
    assert props["DelaySeconds"] == 5
    assert props["Tags"] == [{"Key": "a", "Value": "1"}]
    assert active["Outputs"]["Name"] == {"Value": "d"}


@pytest.mark.parametrize(
    ("env", "inner"),
    [
        pytest.param("prod", 1024, id="inner-decided-value"),
        pytest.param("dev", {"Ref": "AWS::NoValue"}, id="inner-decided-novalue"),
    ],
)
def test_undecided_fn_if_stays(env: str, inner: Any) -> None:
    props = active_template(IF_TEMPLATE, {"Env": env})["Resources"]["Queue"]["Properties"]
    assert props["VisibilityTimeout"] == {"Fn::If": ["Unsure", 10, 20]}
    assert props["MaximumMessageSize"] == {"Fn::If": ["Unsure", inner, 2048]}


def test_fn_if_all_undecided_leaves_template_equal() -> None:
    active = active_template(IF_TEMPLATE, {"Env": None})
    assert active == IF_TEMPLATE
    assert active is not IF_TEMPLATE


@pytest.mark.parametrize(
    "template",
    [
        pytest.param(QUEUE_TEMPLATE, id="queue"),
        pytest.param(IF_TEMPLATE, id="fn-if"),
    ],
)
@pytest.mark.parametrize("env", ["prod", "dev", "drop"])
def test_input_not_mutated(template: dict[str, Any], env: str) -> None:
    before = copy.deepcopy(template)
    active = active_template(template, {"Env": env, "KeepQueue": env})
    assert template == before
    active["Resources"].clear()
    assert template == before


def test_template_without_conditions_comes_back_equal() -> None:
    template = {
        "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 1}}},
        "Outputs": {"Q": {"Value": {"Ref": "Q"}}},
    }
    active = active_template(template, {})
    assert active == template
    assert active is not template
    assert active["Resources"] is not template["Resources"]
