from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, Secret, resolve_value
from stackyard.unknown import Unknown

from .conftest import FakeAWS, MakeCtx


@pytest.mark.parametrize("arg", ["aGVsbG8=", "us-east-1@aGVsbG8=", "file://secret.txt"])
def test_valid_arguments(registry: LookupRegistry, arg: str) -> None:
    registry.get("kms").validate(arg)


@pytest.mark.parametrize("arg", ["", "us-east-1@", "not base64!", "us-east-1@abc"])
def test_malformed_arguments(registry: LookupRegistry, arg: str) -> None:
    with pytest.raises(LookupError_, match="not base64"):
        registry.get("kms").validate(arg)


@pytest.mark.parametrize(
    ("text", "blob", "region"),
    [
        ("${kms aGVsbG8=}", "aGVsbG8=", "eu-west-1"),
        ("${kms us-east-2@aGVsbG8=}", "aGVsbG8=", "us-east-2"),
    ],
)
def test_decrypts_into_a_secret(
    registry: LookupRegistry,
    make_ctx: MakeCtx,
    fake_aws: FakeAWS,
    text: str,
    blob: str,
    region: str,
) -> None:
    value = resolve_value(text, registry, make_ctx(aws=fake_aws, region="eu-west-1"))
    assert isinstance(value, Secret) and value == f"plain-{blob}"
    assert fake_aws.calls == [("kms_decrypt", blob, region)]


def test_file_form_relative_to_config(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS, tmp_path: Path
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "blob.txt").write_text("us-west-2@aGVs\nbG8=\n")
    ctx = make_ctx(aws=fake_aws, config_dir=tmp_path / "conf")
    assert resolve_value("${kms file://blob.txt}", registry, ctx) == "plain-aGVsbG8="
    assert fake_aws.calls == [("kms_decrypt", "aGVsbG8=", "us-west-2")]


def test_missing_file_is_a_lookup_error(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    with pytest.raises(LookupError_, match=r"cannot read nope\.txt") as info:
        resolve_value("${kms file://nope.txt}", registry, make_ctx(aws=fake_aws))
    assert info.value.hint is not None and "relative" in info.value.hint


def test_without_aws_is_unknown(registry: LookupRegistry, make_ctx: MakeCtx) -> None:
    assert isinstance(resolve_value("${kms aGVsbG8=}", registry, make_ctx()), Unknown)
