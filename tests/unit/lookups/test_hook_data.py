from __future__ import annotations

from typing import Any

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, resolve_value
from stackyard.unknown import Unknown

from .conftest import FakeAWS, MakeCtx

HOOK_DATA: dict[str, Any] = {"lambda": {"code": {"bucket": "b", "key": "k"}, "count": 2}}


@pytest.mark.parametrize("arg", ["lambda::code", "lambda::code::bucket"])
def test_valid_arguments(registry: LookupRegistry, arg: str) -> None:
    registry.get("hook_data").validate(arg)


@pytest.mark.parametrize("arg", ["lambda", "lambda::", "::code", ""])
def test_malformed_arguments(registry: LookupRegistry, arg: str) -> None:
    with pytest.raises(LookupError_, match="DATA_KEY::KEY"):
        registry.get("hook_data").validate(arg)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${hook_data lambda::count}", 2),
        ("${hook_data lambda::code}", {"bucket": "b", "key": "k"}),
        ("${hook_data lambda::code::bucket}", "b"),
    ],
)
def test_reads_hook_data(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS, text: str, expected: Any
) -> None:
    ctx = make_ctx(hook_data=HOOK_DATA, aws=fake_aws)
    assert resolve_value(text, registry, ctx) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("${hook_data lambda::nope}", "lambda has no key 'nope'"),
        ("${hook_data other::code}", "hook data has no key 'other'"),
        ("${hook_data lambda::count::x}", "lambda::count has no key 'x'"),
    ],
)
def test_missing_keys(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS, text: str, problem: str
) -> None:
    with pytest.raises(LookupError_, match=problem):
        resolve_value(text, registry, make_ctx(hook_data=HOOK_DATA, aws=fake_aws))


def test_unknown_before_hooks_run(registry: LookupRegistry, make_ctx: MakeCtx) -> None:
    value = resolve_value("${hook_data lambda::code}", registry, make_ctx())
    assert isinstance(value, Unknown)
