from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, Secret, resolve_value

from .conftest import FakeAWS, MakeCtx


@pytest.mark.parametrize("name", ["ssmstore", "ssm"])
@pytest.mark.parametrize("arg", ["/app/db", "us-west-2@/app/db", "plain", "file://param.txt"])
def test_valid_arguments(registry: LookupRegistry, name: str, arg: str) -> None:
    registry.get(name).validate(arg)


@pytest.mark.parametrize("name", ["ssmstore", "ssm"])
@pytest.mark.parametrize("arg", ["", "us-east-1@", "two words"])
def test_malformed_arguments(registry: LookupRegistry, name: str, arg: str) -> None:
    with pytest.raises(LookupError_, match="PARAMETER_NAME"):
        registry.get(name).validate(arg)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("${ssmstore /app/name}", "us-east-1"),  # stacker's default for ssmstore
        ("${ssm /app/name}", "eu-west-1"),  # the run's region
        ("${ssm ap-south-1@/app/name}", "ap-south-1"),
        ("${ssmstore ap-south-1@/app/name}", "ap-south-1"),
    ],
)
def test_regions(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS, text: str, region: str
) -> None:
    fake_aws.parameters["/app/name"] = ("web", "String")
    value = resolve_value(text, registry, make_ctx(aws=fake_aws, region="eu-west-1"))
    assert value == "web" and not isinstance(value, Secret)
    assert fake_aws.calls == [("ssm_parameter", "/app/name", region)]


def test_secure_string_is_secret(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    fake_aws.parameters["/db/pw"] = ("hunter2", "SecureString")
    value = resolve_value("${ssm /db/pw}", registry, make_ctx(aws=fake_aws))
    assert isinstance(value, Secret) and value == "hunter2"
    assert "hunter2" not in repr(value)


def test_file_form(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS, tmp_path: Path
) -> None:
    (tmp_path / "p.txt").write_text("us-west-1@/from/file\n")
    fake_aws.parameters["/from/file"] = ("v", "String")
    assert resolve_value("${ssmstore file://p.txt}", registry, make_ctx(aws=fake_aws)) == "v"
    assert fake_aws.calls == [("ssm_parameter", "/from/file", "us-west-1")]
