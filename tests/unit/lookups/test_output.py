from __future__ import annotations

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, resolve_value

from .conftest import FakeAWS, MakeCtx


@pytest.mark.parametrize("name", ["output", "xref", "rxref"])
@pytest.mark.parametrize("arg", ["vpc::Id", " vpc::Id ", "a-b.c::Out_1"])
def test_valid_arguments(registry: LookupRegistry, name: str, arg: str) -> None:
    registry.get(name).validate(arg)


@pytest.mark.parametrize("name", ["output", "xref", "rxref"])
@pytest.mark.parametrize("arg", ["vpc", "vpc::", "::Id", "a::b::c", ""])
def test_malformed_arguments(registry: LookupRegistry, name: str, arg: str) -> None:
    with pytest.raises(LookupError_, match="STACK::OUTPUT") as info:
        registry.get(name).validate(arg)
    assert info.value.hint == f"write ${{{name} STACK::OUTPUT}}"


@pytest.mark.parametrize(
    ("name", "arg", "deps"),
    [("output", "vpc::Id", {"vpc"}), ("xref", "vpc::Id", set()), ("rxref", "vpc::Id", set())],
)
def test_only_output_adds_a_dependency(
    registry: LookupRegistry, name: str, arg: str, deps: set[str]
) -> None:
    assert registry.get(name).dependencies(arg) == deps


@pytest.mark.parametrize(
    ("text", "fqn"),
    [
        ("${output vpc::Id}", "ns-vpc"),
        ("${rxref vpc::Id}", "ns-vpc"),
        ("${xref other-vpc::Id}", "other-vpc"),
        ("${output ns-vpc::Id}", "ns-vpc"),
    ],
)
def test_stack_names_on_aws(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS, text: str, fqn: str
) -> None:
    fake_aws.outputs[fqn] = {"Id": "vpc-9"}
    assert resolve_value(text, registry, make_ctx(aws=fake_aws, region="eu-west-1")) == "vpc-9"
    assert fake_aws.calls == [("stack_outputs", fqn, "eu-west-1")]


def test_output_uses_the_config_stack_name_and_region(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    fake_aws.outputs["custom-vpc-name"] = {"Id": "vpc-2"}
    ctx = make_ctx(
        aws=fake_aws,
        stack_fqns={"vpc": "custom-vpc-name"},
        stack_regions={"vpc": "us-west-2"},
    )
    assert resolve_value("${output vpc::Id}", registry, ctx) == "vpc-2"
    assert fake_aws.calls == [("stack_outputs", "custom-vpc-name", "us-west-2")]


def test_missing_output_suggests_close_names(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    fake_aws.outputs["ns-vpc"] = {"VpcId": "v", "SubnetIds": "s"}
    with pytest.raises(LookupError_, match="no output 'VpcID'") as info:
        resolve_value({"Vpc": "${output vpc::VpcID}"}, registry, make_ctx(aws=fake_aws))
    assert info.value.hint == "did you mean VpcId?"
    assert info.value.key == "Vpc"
