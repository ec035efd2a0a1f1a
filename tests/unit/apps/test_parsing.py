"""Scale specs, config var assignments and image pinning."""

from __future__ import annotations

from typing import Any

import pytest

from stackyard.apps.config_vars import parse_assignments, split
from stackyard.apps.formation import Scale, parse_scale
from stackyard.apps.images import resolve_image
from stackyard.errors import UsageError


@pytest.mark.parametrize(
    ("spec", "scale"),
    [
        ("web=3", Scale("web", 3)),
        ("worker=2:512", Scale("worker", 2, 512)),
        ("worker=2:512:1024", Scale("worker", 2, 512, 1024)),
        ("web=10:256:2gb", Scale("web", 10, 256, 2048)),
        ("web=0", Scale("web", 0)),
    ],
)
def test_scale_specs(spec: str, scale: Scale) -> None:
    assert parse_scale(spec) == scale


@pytest.mark.parametrize("spec", ["web", "web=-1", "web=a", "=3", "web=1:2:3:4"])
def test_bad_scale_specs(spec: str) -> None:
    with pytest.raises(UsageError):
        parse_scale(spec)


def test_assignments_keep_secrets_as_references() -> None:
    values = parse_assignments(["A=1", "DB=secret:/ns/app/db", "EMPTY="])
    assert split(values) == ({"A": "1", "EMPTY": ""}, {"DB": "/ns/app/db"})


@pytest.mark.parametrize("pair", ["NOEQUALS", "1A=x", "DB=secret:relative", "DB=secret:/ns/*"])
def test_bad_assignments(pair: str) -> None:
    with pytest.raises(UsageError):
        parse_assignments([pair])


class _Ecr:
    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def describe_images(self, **kwargs: Any) -> dict[str, Any]:
        self.asked.append(kwargs)
        return {"imageDetails": [{"imageDigest": "sha256:abc"}]}


def test_an_ecr_tag_is_pinned_to_its_digest() -> None:
    ecr = _Ecr()
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:v7"
    assert resolve_image(image, ecr) == (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api@sha256:abc"
    )
    assert ecr.asked == [
        {
            "registryId": "123456789012",
            "repositoryName": "team/api",
            "imageIds": [{"imageTag": "v7"}],
        }
    ]


@pytest.mark.parametrize("image", ["nginx:1", "ghcr.io/x/y:2", "repo@sha256:def"])
def test_other_images_are_left_as_given(image: str) -> None:
    ecr = _Ecr()
    assert resolve_image(image, ecr) == image
    assert ecr.asked == []
