"""Region names are checked before AWS; a new region shaped like one is left to AWS."""

from __future__ import annotations

import pytest

from stackyard.regions import region_problem


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-7", "xx-newplace-9"])
def test_usable(region: str) -> None:
    assert region_problem(region) is None


@pytest.mark.parametrize(
    ("region", "hint"),
    [("mars-1", "for example: us-east-1, eu-west-1"), ("us-east1", "did you mean 'us-east-1'?")],
)
def test_refused(region: str, hint: str) -> None:
    problem = region_problem(region)
    assert problem is not None and problem[1] == hint
