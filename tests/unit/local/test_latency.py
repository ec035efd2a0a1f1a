"""Latency specs: parsing, errors, per-type times and jitter."""

from __future__ import annotations

import random

import pytest

from stackyard.errors import UsageError
from stackyard.local.latency import DEFAULT_RESOURCE_SECONDS, LatencySpec


def test_default_is_small() -> None:
    spec = LatencySpec.parse(None)
    assert spec.base_seconds("AWS::S3::Bucket") == DEFAULT_RESOURCE_SECONDS <= 0.1


def test_full_spec() -> None:
    spec = LatencySpec.parse("resource=1.5s,jitter=0.2,AWS::RDS::DBInstance=20s")
    assert spec.base_seconds("AWS::S3::Bucket") == 1.5
    assert spec.base_seconds("AWS::RDS::DBInstance") == 20.0
    rng = random.Random(1)
    for _ in range(50):
        assert 1.2 <= spec.seconds_for("AWS::S3::Bucket", rng) <= 1.8


@pytest.mark.parametrize(("text", "seconds"), [("200ms", 0.2), ("2m", 120.0), ("0", 0.0), ("3", 3)])
def test_units(text: str, seconds: float) -> None:
    assert LatencySpec.parse(f"resource={text}").resource == pytest.approx(seconds)


@pytest.mark.parametrize(
    "bad", ["resource", "resource=fast", "jitter=2", "speed=1s", "AWS::S3::Bucket=-1s"]
)
def test_bad_specs_are_clear_errors(bad: str) -> None:
    with pytest.raises(UsageError, match="latency spec"):
        LatencySpec.parse(bad)


def test_change_set_time_defaults_to_the_resource_time() -> None:
    from stackyard.local.latency import LatencySpec

    assert LatencySpec.parse("resource=2s").change_set_seconds == 2.0
    assert LatencySpec.parse("resource=2s,changeset=300ms").change_set_seconds == 0.3
