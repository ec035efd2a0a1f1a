"""What a stack is sent with: stackyard's own tags, the protection it was deployed under."""

from __future__ import annotations

import re

import pytest

from stackyard.desired import DesiredStack
from stackyard.submission import (
    OWNER_TAG,
    PROTECTION_TAG,
    STACK_TAG,
    protection_from_tag,
    protection_tag,
    submitted_tags,
)

# What IAM accepts in a tag value: stack tags reach IAM roles too.
IAM_TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]*$")


@pytest.mark.parametrize(
    "protected",
    [
        True,
        ("Database",),
        ("destructive & stateful", "AWS::Route53::*", "Prod*"),
    ],
    ids=["true", "one-id", "rules-with-symbols"],
)
def test_protection_tag_round_trips_in_characters_iam_accepts(
    protected: bool | tuple[str, ...],
) -> None:
    value = protection_tag(protected)
    assert value is not None and IAM_TAG_VALUE.match(value) and len(value) <= 256
    assert protection_from_tag(value) == protected


def test_no_protection_no_tag_and_an_unreadable_tag_counts_as_protected() -> None:
    assert protection_tag(False) is None and protection_tag(()) is None
    assert protection_from_tag(None) is False
    assert protection_from_tag("rules:!!!") is True
    assert protection_from_tag("something else") is True


def _desired(**kw: object) -> DesiredStack:
    base: dict[str, object] = {
        "name": "a",
        "fqn": "ns-a",
        "region": None,
        "profile": None,
        "template_body": "{}",
        "parameters": {},
        "declared_parameters": frozenset(),
        "no_echo": frozenset(),
        "tags": {"team": "x"},
    }
    base.update(kw)
    return DesiredStack(**base)  # type: ignore[arg-type]


def test_the_protection_tag_follows_the_config_on_every_submission() -> None:
    from stackyard.aws.cloudformation import DeployedStack

    created = submitted_tags(_desired(), None, "ns", protection="true")
    assert created == {"team": "x", OWNER_TAG: "ns", STACK_TAG: "a", PROTECTION_TAG: "true"}
    deployed = DeployedStack("ns-a", "id", "UPDATE_COMPLETE", tags=created)
    # No longer protected in the config: the tag goes with the (approved) update.
    assert submitted_tags(_desired(), deployed, "ns") == {
        "team": "x",
        OWNER_TAG: "ns",
        STACK_TAG: "a",
    }
