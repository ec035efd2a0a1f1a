from __future__ import annotations

from typing import Any

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, resolve_value
from stackyard.lookups.ami import AmiLookup, AmiQuery, newest_matching_image

from .conftest import FakeAWS, MakeCtx


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        (
            "owners:self,amazon name_regex:web-[0-9]+",
            AmiQuery(None, ("self", "amazon"), "web-[0-9]+", (), {}),
        ),
        (
            "us-west-2@owners:123456789012 name_regex:base executable_users:self "
            "architecture:x86_64,arm64",
            AmiQuery(
                "us-west-2",
                ("123456789012",),
                "base",
                ("self",),
                {"architecture": ("x86_64", "arm64")},
            ),
        ),
    ],
)
def test_parse(arg: str, expected: AmiQuery) -> None:
    assert AmiLookup().parse(arg) == expected


@pytest.mark.parametrize(
    ("arg", "problem"),
    [
        ("name_regex:x", "'owners' is required"),
        ("owners:self", "'name_regex' is required"),
        ("owners:self name_regex:x stray", "'stray' is not KEY:VALUE"),
        ("owners:self name_regex:x owners:amazon", "'owners' is given twice"),
        ("owners:self name_regex:web-[", "not a valid regular expression"),
    ],
)
def test_malformed_arguments(registry: LookupRegistry, arg: str, problem: str) -> None:
    with pytest.raises(LookupError_, match=problem):
        registry.get("ami").validate(arg)


def test_resolve_passes_the_query(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    text = "${ami owners:amazon name_regex:al2-.* architecture:x86_64}"
    assert resolve_value(text, registry, make_ctx(aws=fake_aws, region="eu-west-1")) == "ami-123"
    assert fake_aws.calls == [
        ("ami_search", ("amazon",), {"architecture": ("x86_64",)}, "al2-.*", "eu-west-1", ())
    ]


IMAGES: list[dict[str, Any]] = [
    {"ImageId": "ami-old", "Name": "web-1", "CreationDate": "2020-01-01T00:00:00.000Z"},
    {"ImageId": "ami-new", "Name": "web-2", "CreationDate": "2021-01-01T00:00:00.000Z"},
    {"ImageId": "ami-other", "Name": "web-2-debug", "CreationDate": "2022-01-01T00:00:00.000Z"},
]


@pytest.mark.parametrize(
    ("regex", "expected"),
    [("web-[0-9]+", "ami-new"), ("web-1", "ami-old"), ("web-.*", "ami-other"), ("db", None)],
)
def test_newest_matching_image_matches_the_whole_name(regex: str, expected: str | None) -> None:
    assert newest_matching_image(IMAGES, regex) == expected
