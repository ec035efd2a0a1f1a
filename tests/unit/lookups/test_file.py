from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from troposphere import AWSHelperFn, Base64, GenericHelperFn

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, resolve_value
from stackyard.lookups.file import CODECS

from .conftest import MakeCtx

USER_DATA = "#!/bin/sh\naws s3 sync s3://{{BucketName}}/x /x --region {{AWS::Region}}\n"
JOINED = {
    "Fn::Join": [
        "",
        [
            "#!/bin/sh\naws s3 sync s3://",
            {"Ref": "BucketName"},
            "/x /x --region ",
            {"Ref": "AWS::Region"},
            "\n",
        ],
    ]
}


def rendered(value: Any) -> Any:
    """A value as it would appear in a template (troposphere objects to plain JSON data)."""
    return json.loads(json.dumps(value, default=lambda o: o.to_dict()))


@pytest.fixture
def ctx(make_ctx: MakeCtx, tmp_path: Path) -> Any:
    (tmp_path / "user_data.sh").write_text(USER_DATA)
    (tmp_path / "static.txt").write_text("hello there\n")
    (tmp_path / "policy.json").write_text('{"Bucket": "{{BucketName}}", "Count": 2, "L": ["a"]}')
    (tmp_path / "policy.yaml").write_text("Bucket: '{{BucketName}}'\nCount: 2\nL: [a]\n")
    return make_ctx()


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        pytest.param("plain:file://static.txt", "hello there\n", id="plain"),
        pytest.param("base64:file://static.txt", "aGVsbG8gdGhlcmUK", id="base64"),
        pytest.param("plain:inline text", "inline text", id="plain-inline-like-stacker"),
        pytest.param(
            "json:file://policy.json",
            {"Bucket": "{{BucketName}}", "Count": 2, "L": ["a"]},
            id="json",
        ),
        pytest.param(
            "yaml:file://policy.yaml",
            {"Bucket": "{{BucketName}}", "Count": 2, "L": ["a"]},
            id="yaml",
        ),
    ],
)
def test_plain_data_codecs(registry: LookupRegistry, ctx: Any, arg: str, expected: Any) -> None:
    assert resolve_value(f"${{file {arg}}}", registry, ctx) == expected


def test_parameterized(registry: LookupRegistry, ctx: Any) -> None:
    value = resolve_value("${file parameterized:file://user_data.sh}", registry, ctx)
    assert isinstance(value, GenericHelperFn)
    assert rendered(value) == JOINED


def test_parameterized_without_placeholders_is_the_text(registry: LookupRegistry, ctx: Any) -> None:
    value = resolve_value("${file parameterized:file://static.txt}", registry, ctx)
    assert isinstance(value, GenericHelperFn)
    assert rendered(value) == "hello there\n"


def test_parameterized_b64(registry: LookupRegistry, ctx: Any) -> None:
    value = resolve_value("${file parameterized-b64:file://user_data.sh}", registry, ctx)
    assert isinstance(value, Base64) and isinstance(value, AWSHelperFn)
    assert rendered(value) == {"Fn::Base64": JOINED}


@pytest.mark.parametrize("codec", ["json-parameterized", "yaml-parameterized"])
def test_data_parameterized(registry: LookupRegistry, ctx: Any, codec: str) -> None:
    ext = codec.split("-")[0]
    value = resolve_value(f"${{file {codec}:file://policy.{ext}}}", registry, ctx)
    assert isinstance(value["Bucket"], GenericHelperFn)
    assert value["Count"] == 2
    assert rendered(value) == {
        "Bucket": {"Fn::Join": ["", ["", {"Ref": "BucketName"}, ""]]},
        "Count": 2,
        "L": ["a"],
    }


def test_every_stacker_codec_is_supported() -> None:
    assert set(CODECS) == {
        "plain",
        "base64",
        "parameterized",
        "parameterized-b64",
        "json",
        "json-parameterized",
        "yaml",
        "yaml-parameterized",
    }


@pytest.mark.parametrize(
    ("arg", "problem", "hint"),
    [
        ("file://x.txt", "unknown codec 'file'", None),
        ("plain", "CODEC:file://PATH", None),
        ("jsn:file://x.json", "unknown codec 'jsn'", "did you mean json?"),
    ],
)
def test_malformed_arguments(
    registry: LookupRegistry, arg: str, problem: str, hint: str | None
) -> None:
    with pytest.raises(LookupError_, match=problem) as info:
        registry.get("file").validate(arg)
    if hint:
        assert info.value.hint == hint


@pytest.mark.parametrize(
    ("arg", "problem"),
    [
        ("plain:file://missing.txt", "cannot read missing.txt"),
        ("json:file://static.txt", "cannot decode as json"),
        ("yaml:inline: [", "cannot decode as yaml"),
    ],
)
def test_resolve_errors(registry: LookupRegistry, ctx: Any, arg: str, problem: str) -> None:
    with pytest.raises(LookupError_, match=problem):
        resolve_value(f"${{file {arg}}}", registry, ctx)


def test_absolute_path(registry: LookupRegistry, make_ctx: MakeCtx, tmp_path: Path) -> None:
    target = tmp_path / "abs.txt"
    target.write_text("abs")
    ctx = make_ctx(config_dir=tmp_path / "elsewhere")
    assert resolve_value(f"${{file plain:file://{target}}}", registry, ctx) == "abs"
