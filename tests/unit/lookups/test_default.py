from __future__ import annotations

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, resolve_value

from .conftest import MakeCtx


@pytest.mark.parametrize("arg", ["k::v", "k::", "k::a::b", "k::sg-1,sg-2"])
def test_valid_arguments(registry: LookupRegistry, arg: str) -> None:
    registry.get("default").validate(arg)


@pytest.mark.parametrize(("arg", "problem"), [("k", "KEY::FALLBACK"), ("::v", "key before")])
def test_malformed_arguments(registry: LookupRegistry, arg: str, problem: str) -> None:
    with pytest.raises(LookupError_, match=problem):
        registry.get("default").validate(arg)


@pytest.mark.parametrize(
    ("text", "environment", "expected"),
    [
        ("${default groups::sg-1,sg-2}", {}, "sg-1,sg-2"),
        ("${default groups::sg-1}", {"groups": "sg-9"}, "sg-9"),
        ("${default k::a::b}", {}, "a::b"),
        ("${default k::}", {}, ""),
        ("${default count::1}", {"count": 3}, 3),
    ],
)
def test_environment_or_fallback(
    registry: LookupRegistry,
    make_ctx: MakeCtx,
    text: str,
    environment: dict[str, object],
    expected: object,
) -> None:
    assert resolve_value(text, registry, make_ctx(environment=environment)) == expected
