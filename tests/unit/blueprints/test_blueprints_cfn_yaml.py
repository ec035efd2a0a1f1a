"""stackyard.blueprints.cfn_yaml: CloudFormation short tags in, long forms out, and back."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from stackyard.blueprints.cfn_yaml import SHORT_TAGS, dump_cfn_yaml, load_cfn_yaml
from stackyard.unknown import Unknown


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("!Ref Vpc", {"Ref": "Vpc"}),
        ("!Condition IsProd", {"Condition": "IsProd"}),
        ("!GetAtt Queue.Arn", {"Fn::GetAtt": ["Queue", "Arn"]}),
        ("!GetAtt Db.Endpoint.Address", {"Fn::GetAtt": ["Db", "Endpoint.Address"]}),
        ("!GetAtt [Queue, Arn]", {"Fn::GetAtt": ["Queue", "Arn"]}),
        ("!Sub '${AWS::StackName}-x'", {"Fn::Sub": "${AWS::StackName}-x"}),
        ("!Sub ['${A}', {A: !Ref B}]", {"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]}),
        ("!If [C, 1, !Ref 'AWS::NoValue']", {"Fn::If": ["C", 1, {"Ref": "AWS::NoValue"}]}),
        ("!Join ['', [a, !Ref B]]", {"Fn::Join": ["", ["a", {"Ref": "B"}]]}),
        ("!Select [0, !GetAZs '']", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        ("!Split [',', a]", {"Fn::Split": [",", "a"]}),
        ("!FindInMap [M, k, v]", {"Fn::FindInMap": ["M", "k", "v"]}),
        ("!Base64 text", {"Fn::Base64": "text"}),
        ("!Cidr [10.0.0.0/16, 4, 8]", {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}),
        ("!GetAZs ''", {"Fn::GetAZs": ""}),
        ("!GetAZs", {"Fn::GetAZs": ""}),
        ("!ImportValue shared", {"Fn::ImportValue": "shared"}),
        ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
        (
            "!And [!Condition A, !Condition B]",
            {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]},
        ),
        ("!Or [!Condition A, !Condition B]", {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}),
        ("!Not [!Condition A]", {"Fn::Not": [{"Condition": "A"}]}),
        (
            "!Transform {Name: M, Parameters: {a: 1}}",
            {"Fn::Transform": {"Name": "M", "Parameters": {"a": 1}}},
        ),
        ("!Length [a, b]", {"Fn::Length": ["a", "b"]}),
        ("!ToJsonString {a: 1}", {"Fn::ToJsonString": {"a": 1}}),
    ],
)
def test_short_tags_load_as_long_forms(source: str, expected: Any) -> None:
    assert load_cfn_yaml(source) == expected


def test_dates_stay_strings() -> None:
    assert load_cfn_yaml("AWSTemplateFormatVersion: 2010-09-09") == {
        "AWSTemplateFormatVersion": "2010-09-09"
    }


def test_plain_yaml_types_still_resolve() -> None:
    assert load_cfn_yaml("a: 1\nb: true\nc: 1.5\nd: null\ne: [x]") == {
        "a": 1,
        "b": True,
        "c": 1.5,
        "d": None,
        "e": ["x"],
    }


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    with pytest.raises(yaml.MarkedYAMLError) as info:
        load_cfn_yaml("Resources:\n  A: 1\n  A: 2\n")
    assert "duplicate key 'A' (first at line 2)" in str(info.value)
    assert info.value.problem_mark is not None and info.value.problem_mark.line == 2


def test_merge_keys_may_override() -> None:
    assert load_cfn_yaml("base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n")["other"] == {"x": 2}


def test_global_pyyaml_loader_is_untouched() -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load("!Ref X")


def test_every_short_tag_has_a_long_form() -> None:
    for tag, key in SHORT_TAGS.items():
        assert key in ("Ref", "Condition") or key == f"Fn::{tag}"


TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Conditions:
  IsProd: !Equals
  - !Ref 'Env'
  - prod
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub '${AWS::StackName}-q'
      Data:
        Fn::Base64: !Sub 'x'
      Arn: !GetAtt 'Other.Arn'
      Pair: !GetAtt
      - Other
      - !Ref 'Attr'
      Transform: !Transform
        Name: M
      Number:
        Ref: 5
"""


def test_dump_writes_short_forms_and_round_trips() -> None:
    data = load_cfn_yaml(TEMPLATE)
    assert dump_cfn_yaml(data) == TEMPLATE
    assert load_cfn_yaml(dump_cfn_yaml(data)) == data


def test_dump_keeps_long_form_when_argument_is_itself_an_intrinsic() -> None:
    text = dump_cfn_yaml({"X": {"Fn::Base64": {"Fn::Sub": "${A}"}}})
    assert text == "X:\n  Fn::Base64: !Sub '${A}'\n"


def test_dump_writes_unknowns_as_strings_without_anchors() -> None:
    shared = {"a": 1}
    text = dump_cfn_yaml({"U": Unknown("later"), "A": shared, "B": shared})
    assert "U: '(known after apply: later)'" in text
    assert "&" not in text and "*" not in text
