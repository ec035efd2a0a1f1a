from __future__ import annotations

from typing import Any

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, resolve_value
from stackyard.lookups.dynamodb import DynamodbLookup, DynamoQuery

from .conftest import FakeAWS, MakeCtx

ITEM: dict[str, Any] = {
    "Id": {"S": "prod"},
    "Name": {"S": "web"},
    "Port": {"N": "8080"},
    "Ratio": {"N": "0.5"},
    "Hosts": {"L": [{"S": "a"}, {"S": "b"}]},
    "Settings": {"M": {"Port": {"N": "443"}, "Tls": {"M": {"Cipher": {"S": "aes"}}}}},
}


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        (
            "us-east-1:Config@Id:prod.Name",
            DynamoQuery("us-east-1", "Config", {"Id": {"S": "prod"}}, (("Name", "S"),)),
        ),
        (
            "Config@Id:prod.Settings[M].Port[N]",
            DynamoQuery(None, "Config", {"Id": {"S": "prod"}}, (("Settings", "M"), ("Port", "N"))),
        ),
        (
            "Config@Num:7[N].Hosts[L]",
            DynamoQuery(None, "Config", {"Num": {"N": "7"}}, (("Hosts", "L"),)),
        ),
    ],
)
def test_parse(arg: str, expected: DynamoQuery) -> None:
    assert DynamodbLookup().parse(arg) == expected


@pytest.mark.parametrize(
    ("arg", "problem"),
    [
        ("Config", "expected"),
        ("@Id:prod.Name", "expected"),
        ("Config@Id", "expected"),
        ("Config@Id:prod", "expected"),
        ("Config@:prod.Name", "expected"),
        ("Config@Id:prod..Name", "expected"),
        ("Config@Id:prod.Name[X]", "unsupported DynamoDB type 'X'"),
        ("Config@Id:prod.Na[me", "is not NAME or NAME"),
    ],
)
def test_malformed_arguments(registry: LookupRegistry, arg: str, problem: str) -> None:
    with pytest.raises(LookupError_, match=problem):
        registry.get("dynamodb").validate(arg)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Name", "web"),
        ("Port[N]", 8080),
        ("Ratio[N]", 0.5),
        ("Hosts[L]", ["a", "b"]),
        ("Settings[M].Port[N]", 443),
        ("Settings[M].Tls[M].Cipher", "aes"),
        ("Settings[M]", {"Port": 443, "Tls": {"Cipher": "aes"}}),
    ],
)
def test_values(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS, path: str, expected: Any
) -> None:
    fake_aws.items["Config"] = ITEM
    ctx = make_ctx(aws=fake_aws, region="eu-west-1")
    assert resolve_value(f"${{dynamodb Config@Id:prod.{path}}}", registry, ctx) == expected
    assert fake_aws.calls[0] == ("dynamodb_item", "Config", {"Id": {"S": "prod"}}, "eu-west-1")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("${dynamodb Missing@Id:x.Name}", "has no item"),
        ("${dynamodb Config@Id:prod.Nope}", "no attribute 'Nope'"),
        ("${dynamodb Config@Id:prod.Name[N]}", "not of type N"),
    ],
)
def test_errors(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS, text: str, problem: str
) -> None:
    fake_aws.items["Config"] = ITEM
    with pytest.raises(LookupError_, match=problem):
        resolve_value(text, registry, make_ctx(aws=fake_aws))
