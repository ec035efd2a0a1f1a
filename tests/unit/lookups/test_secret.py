from __future__ import annotations

from typing import Any

import pytest

from stackyard.lookups.secret import MASK, Secret, is_secret, mask_secrets, taint
from stackyard.unknown import Unknown


def test_secret_is_a_masked_str() -> None:
    secret = Secret("hunter2")
    assert secret == "hunter2"
    assert f"{secret}" == "hunter2"  # flows into templates unchanged
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in repr({"pw": secret})
    assert secret.mask() == MASK
    assert type(secret.reveal()) is str and secret.reveal() == "hunter2"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Secret("s"), True),
        ({"a": [1, Secret("s")]}, True),
        (("x", Secret("s")), True),
        ({"a": ["s"]}, False),
        ("s", False),
    ],
)
def test_is_secret(value: object, expected: bool) -> None:
    assert is_secret(value) is expected


def test_mask_secrets_copies() -> None:
    value: dict[str, Any] = {"a": [Secret("s"), "t"], "b": (Secret("u"),), "c": 1}
    assert mask_secrets(value) == {"a": [MASK, "t"], "b": (MASK,), "c": 1}
    assert value["a"][0] == "s"


def test_taint_marks_strings_but_keeps_unknowns() -> None:
    tainted = taint({"a": ["x", 1], "b": Unknown("later")})
    assert isinstance(tainted["a"][0], Secret)
    assert tainted["a"][1] == 1
    assert isinstance(tainted["b"], Unknown)
