"""The pre-flight schema check: each kind of finding, and what it leaves alone."""

from __future__ import annotations

from typing import Any

import pytest

from stackyard.template_check import check_template


def queue(**properties: Any) -> dict[str, Any]:
    return {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": properties}}}


CASES: dict[str, tuple[dict[str, Any], str, tuple[str | int, ...], str | None]] = {
    "unknown type": (
        {"Resources": {"T": {"Type": "AWS::SNS::Topc"}}},
        "unknown-type",
        ("Resources", "T", "Type"),
        "did you mean 'AWS::SNS::Topic'?",
    ),
    "unknown property": (
        queue(QueueNme="q"),
        "unknown-property",
        ("Resources", "Q", "Properties", "QueueNme"),
        "did you mean 'QueueName'?",
    ),
    "unknown nested property": (
        queue(Tags=[{"Key": "a", "Valu": "b"}]),
        "unknown-property",
        ("Resources", "Q", "Properties", "Tags", 0, "Valu"),
        "did you mean 'Value'?",
    ),
    "object for a string": (
        queue(QueueName={"a": 1}),
        "wrong-type",
        ("Resources", "Q", "Properties", "QueueName"),
        None,
    ),
    "text for an integer": (
        queue(DelaySeconds="soon"),
        "wrong-type",
        ("Resources", "Q", "Properties", "DelaySeconds"),
        None,
    ),
    "string for a list": (
        queue(Tags="a"),
        "wrong-type",
        ("Resources", "Q", "Properties", "Tags"),
        None,
    ),
    "unknown section": (
        {"Resources": {}, "Ouputs": {}},
        "unknown-section",
        ("Ouputs",),
        "did you mean 'Outputs'?",
    ),
    "unknown attribute": (
        {**queue(), "Outputs": {"A": {"Value": {"Fn::GetAtt": ["Q", "Arnn"]}}}},
        "getatt-unknown-attribute",
        ("Outputs", "A", "Value", "Fn::GetAtt"),
        "did you mean 'Arn'?",
    ),
    "attribute of a missing resource": (
        {**queue(), "Outputs": {"A": {"Value": {"Fn::GetAtt": "Queue.Arn"}}}},
        "getatt-unknown-resource",
        ("Outputs", "A", "Value", "Fn::GetAtt"),
        None,
    ),
    "unknown resource key": (
        {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "DependOn": "X"}}},
        "unknown-resource-key",
        ("Resources", "Q", "DependOn"),
        "did you mean 'DependsOn'?",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_finding(case: str) -> None:
    template, code, path, hint = CASES[case]
    (finding,) = check_template(template)
    assert (finding.code, finding.path) == (code, path)
    assert finding.is_error
    if hint:
        assert finding.hint == hint


CLEAN = {
    "numbers and booleans as text": queue(DelaySeconds="5", FifoQueue="true", QueueName=12),
    "intrinsics": queue(QueueName={"Fn::Sub": "x"}, Tags={"Ref": "T"}, DelaySeconds={"Ref": "D"}),
    "known after apply": queue(Tags="(known after apply: output vpc::Tags)"),
    "attributes from readOnly and nested paths": {
        "Resources": {"D": {"Type": "AWS::RDS::DBInstance"}, "Q": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "A": {"Value": {"Fn::GetAtt": "D.Endpoint.Address"}},
            "B": {"Fn::GetAtt": ["Q", "QueueName"]},
        },
    },
    "custom resources": {
        "Resources": {"C": {"Type": "Custom::Thing", "Properties": {"Anything": 1}}},
        "Outputs": {"A": {"Value": {"Fn::GetAtt": "C.Whatever"}}},
    },
    "macros": {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"X": 1}}},
    },
}


@pytest.mark.parametrize("case", sorted(CLEAN))
def test_clean(case: str) -> None:
    assert check_template(CLEAN[case]) == []
