from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, resolve_value

from .conftest import MakeCtx


@pytest.mark.parametrize("arg", ["HOME", "file://name.txt"])
def test_valid_arguments(registry: LookupRegistry, arg: str) -> None:
    registry.get("envvar").validate(arg)


@pytest.mark.parametrize("arg", ["", "TWO NAMES"])
def test_malformed_arguments(registry: LookupRegistry, arg: str) -> None:
    with pytest.raises(LookupError_, match="one variable name"):
        registry.get("envvar").validate(arg)


def test_reads_the_process_environment(registry: LookupRegistry, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(environ={"APP_ENV": "prod"})
    assert resolve_value("${envvar APP_ENV}", registry, ctx) == "prod"


def test_name_from_a_file(registry: LookupRegistry, make_ctx: MakeCtx, tmp_path: Path) -> None:
    (tmp_path / "name.txt").write_text("APP_ENV\n")
    ctx = make_ctx(environ={"APP_ENV": "stage"})
    assert resolve_value("${envvar file://name.txt}", registry, ctx) == "stage"


def test_missing_variable_suggests(registry: LookupRegistry, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(environ={"APP_ENV": "prod"})
    with pytest.raises(LookupError_, match="'APP_EN' is not set") as info:
        resolve_value("${envvar APP_EN}", registry, ctx)
    assert info.value.hint == "did you mean APP_ENV?"


def test_needs_no_aws(registry: LookupRegistry) -> None:
    assert registry.get("envvar").needs_aws is False
