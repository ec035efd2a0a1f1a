from __future__ import annotations

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, resolve_value

from .conftest import MakeCtx


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${split ,::a,b,c}", ["a", "b", "c"]),
        ("${split ,::a}", ["a"]),
        ("${split ;::a;b}", ["a", "b"]),
        ("${split ,::}", [""]),
    ],
)
def test_splits(
    registry: LookupRegistry, make_ctx: MakeCtx, text: str, expected: list[str]
) -> None:
    assert resolve_value(text, registry, make_ctx()) == expected


@pytest.mark.parametrize(("arg", "problem"), [("a,b", "DELIMITER::TEXT"), ("::a,b", "empty")])
def test_malformed_arguments(registry: LookupRegistry, arg: str, problem: str) -> None:
    with pytest.raises(LookupError_, match=problem):
        registry.get("split").validate(arg)
