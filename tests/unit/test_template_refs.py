"""Which names a template fragment refers to: Ref, Fn::GetAtt and Fn::Sub, not literals."""

from __future__ import annotations

from stackyard.template_refs import references, sub_references


def test_ref_getatt_and_sub() -> None:
    node = {
        "A": {"Ref": "Param"},
        "B": {"Fn::GetAtt": ["Queue", "Arn"]},
        "C": {"Fn::GetAtt": "Topic.TopicName"},
        "D": {"Fn::Sub": "arn:${AWS::Partition}:${Bucket.Arn}/${!Literal}"},
        "E": [{"Fn::Sub": ["${Local}-${Outer}", {"Local": {"Ref": "Inner"}}]}],
    }
    assert references(node) == {
        "Param",
        "Queue",
        "Topic",
        "AWS::Partition",
        "Bucket",
        "Outer",
        "Inner",
    }


def test_sub_references_skip_literals() -> None:
    assert sub_references("${A}-${ B.Attr }-${!C}") == ["A", "B.Attr"]
