from __future__ import annotations

from typing import Any

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import (
    LookupRegistry,
    Secret,
    dependencies_of,
    lookups_in,
    resolve_value,
    validate_value,
)
from stackyard.unknown import Unknown, is_unknown

from .conftest import FakeAWS, MakeCtx


def test_single_lookup_keeps_its_type(registry: LookupRegistry, make_ctx: MakeCtx) -> None:
    assert resolve_value("${split ,::a,b}", registry, make_ctx()) == ["a", "b"]


def test_lookups_inside_text_are_interpolated(registry: LookupRegistry, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(environment={"env": "prod"})
    assert resolve_value("app-${default env::dev}-${default x::y}", registry, ctx) == "app-prod-y"


def test_walks_dicts_and_lists_and_leaves_other_values(
    registry: LookupRegistry, make_ctx: MakeCtx
) -> None:
    value = {"a": ["${default k::v}", 3, None], "b": {"c": True, "d": "${split ,::x}"}}
    assert resolve_value(value, registry, make_ctx()) == {
        "a": ["v", 3, None],
        "b": {"c": True, "d": ["x"]},
    }


def test_nested_lookup_resolves_inner_first(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    fake_aws.outputs["ns-vpc-blue"] = {"VpcId": "vpc-1"}
    ctx = make_ctx(environment={"source": "vpc-blue"}, aws=fake_aws)
    text = "${output ${default source::vpc}::VpcId}"
    assert resolve_value(text, registry, ctx) == "vpc-1"


def test_nested_output_inside_split(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    fake_aws.outputs["ns-vpc"] = {"Subnets": "s-1,s-2"}
    value = "${split ,::${output vpc::Subnets}}"
    assert resolve_value(value, registry, make_ctx(aws=fake_aws)) == ["s-1", "s-2"]


def test_without_aws_aws_lookups_are_unknown(registry: LookupRegistry, make_ctx: MakeCtx) -> None:
    ctx = make_ctx()
    single = resolve_value("${output vpc::VpcId}", registry, ctx)
    assert isinstance(single, Unknown) and single.reason == "output vpc::VpcId"
    mixed = resolve_value("arn:${output vpc::Arn}/x", registry, ctx)
    assert isinstance(mixed, Unknown) and mixed.reason == "arn:${output vpc::Arn}/x"
    nested = resolve_value("${split ,::${output vpc::Subnets}}", registry, ctx)
    assert is_unknown(nested)


def test_without_aws_arguments_are_still_validated(
    registry: LookupRegistry, make_ctx: MakeCtx
) -> None:
    with pytest.raises(LookupError_, match="STACK::OUTPUT"):
        resolve_value({"Vpc": "${output vpc}"}, registry, make_ctx())


def test_output_of_a_pending_stack_is_unknown(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    ctx = make_ctx(aws=fake_aws, pending_stacks=frozenset({"vpc"}))
    assert isinstance(resolve_value("${output vpc::Id}", registry, ctx), Unknown)
    assert fake_aws.calls == []


def test_non_text_value_cannot_be_joined(registry: LookupRegistry, make_ctx: MakeCtx) -> None:
    with pytest.raises(LookupError_, match="list") as info:
        resolve_value({"Subnets": ["x-${split ,::a,b}"]}, registry, make_ctx())
    assert info.value.key == "Subnets[0]"
    assert info.value.hint is not None


def test_secret_taints_interpolation_and_nested_results(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    fake_aws.parameters["db"] = ("pw1,pw2", "SecureString")
    ctx = make_ctx(aws=fake_aws)
    joined = resolve_value("user:${ssm db}", registry, ctx)
    assert isinstance(joined, Secret) and joined == "user:pw1,pw2"
    split = resolve_value("${split ,::${ssm db}}", registry, ctx)
    assert split == ["pw1", "pw2"] and all(isinstance(s, Secret) for s in split)


def test_failure_with_secret_argument_withholds_details(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    fake_aws.parameters["db"] = ("hunter2", "SecureString")
    with pytest.raises(LookupError_) as info:
        resolve_value("${envvar ${ssm db}}", registry, make_ctx(aws=fake_aws))
    assert "hunter2" not in str(info.value)
    assert "withheld" in str(info.value)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ({"Subnets": ["ok", "${nope x}"]}, "Subnets[1]"),
        ({"Tags": {"Name": "${ouptut a::b}"}}, "Tags.Name"),
        ({"Vpc": "${output a::b"}, "Vpc"),
        ({"Vpc": "${split a}"}, "Vpc"),
    ],
)
def test_validate_value_sets_the_key_path(
    registry: LookupRegistry, value: dict[str, Any], key: str
) -> None:
    with pytest.raises(LookupError_) as info:
        validate_value(value, registry)
    assert info.value.key == key


def test_validate_value_with_key_prefix(registry: LookupRegistry) -> None:
    with pytest.raises(LookupError_) as info:
        validate_value(["${output bad}"], registry, key="Subnets")
    assert info.value.key == "Subnets[0]"


def test_validate_value_accepts_good_values(registry: LookupRegistry) -> None:
    validate_value(
        {
            "a": "${output vpc::Id}",
            "b": ["${file plain:file://x.txt}", 1],
            "c": "${output ${default s::vpc}::Id}",
        },
        registry,
    )


def test_unknown_lookup_suggests_a_name(registry: LookupRegistry) -> None:
    with pytest.raises(LookupError_) as info:
        validate_value({"v": "${ouptut vpc::Id}"}, registry)
    assert info.value.hint == "did you mean 'output'?"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("${output vpc::Id}", {"vpc"}, id="plain"),
        pytest.param("${xref ns-vpc::Id} ${rxref vpc::Id}", set(), id="xref-rxref-none"),
        pytest.param("${split ,::${output vpc::Subnets}}", {"vpc"}, id="nested-in-split"),
        pytest.param(
            {"a": ["${output a::X}"], "b": {"c": "x-${output b::Y}"}}, {"a", "b"}, id="walks"
        ),
        pytest.param("${output vpc::${default k::Id}}", {"vpc"}, id="output-name-nested"),
        pytest.param("${output ${default k::vpc}::Id}", set(), id="stack-nested-no-ctx"),
        pytest.param("${default a::b}", set(), id="none"),
    ],
)
def test_dependencies_of(registry: LookupRegistry, value: Any, expected: set[str]) -> None:
    assert dependencies_of(value, registry) == expected


def test_dependencies_of_resolves_nested_stack_name_with_context(
    registry: LookupRegistry, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(environment={"k": "vpc-green"})
    assert dependencies_of("${output ${default k::vpc}::Id}", registry, ctx) == {"vpc-green"}
    assert dependencies_of("${output ${default other::vpc}::Id}", registry, ctx) == {"vpc"}


def test_dependencies_of_output_whose_stack_is_another_output(
    registry: LookupRegistry, make_ctx: MakeCtx
) -> None:
    value = "${output ${output names::Stack}::Id}"
    assert dependencies_of(value, registry, make_ctx()) == {"names"}


def test_dependencies_of_unknown_lookup_raises(registry: LookupRegistry) -> None:
    with pytest.raises(LookupError_, match="unknown lookup type"):
        dependencies_of({"x": "${nope a}"}, registry)


def test_hook_args_resolve_the_same_way(registry: LookupRegistry, make_ctx: MakeCtx) -> None:
    args = {"bucket": "${default bucket::b-1}", "keys": ["${split ,::k1,k2}"]}
    assert resolve_value(args, registry, make_ctx()) == {"bucket": "b-1", "keys": [["k1", "k2"]]}


def test_lookups_in_lists_every_call() -> None:
    calls = list(lookups_in({"a": ["${split ,::${output v::S}}"], "b": 1}))
    assert [c.type for c in calls] == ["split", "output"]


def test_literal_strings_are_returned_unchanged(
    registry: LookupRegistry, make_ctx: MakeCtx
) -> None:
    text = '{"Statement": [{"Effect": "Allow"}]}'
    assert resolve_value(text, registry, make_ctx()) is text
