"""Resource schemas from cfn-lint's bundled data."""

from __future__ import annotations

from stackyard import schemas


def test_resource_types_include_common_types() -> None:
    types = schemas.resource_types("us-east-1")
    assert {"AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::WAFv2::WebACL"} <= types
    assert "AWS::Foo::Bar" not in types


def test_create_only_properties() -> None:
    assert set(schemas.create_only_properties("AWS::SQS::Queue")) == {"FifoQueue", "QueueName"}
    assert "Arn" in schemas.read_only_properties("AWS::SQS::Queue")
    assert schemas.create_only_properties("AWS::Foo::Bar") == ()


def test_schema_and_known_types() -> None:
    found = schemas.schema("AWS::SQS::Queue")
    assert found is not None and found["typeName"] == "AWS::SQS::Queue"
    assert schemas.is_known_type("Custom::Anything")
    assert not schemas.is_known_type("AWS::Foo::Bar")
    assert isinstance(schemas.conditional_create_only_properties("AWS::SQS::Queue"), tuple)
