"""Custom lookups registered by import path, in each form stacker 1.7 accepted."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, dependencies_of, resolve_value
from stackyard.unknown import Unknown

from .conftest import FakeAWS, MakeCtx

MODULE = '''
from stackyard.lookups import Lookup, LookupHandler


class Reverse(LookupHandler):
    """Reverses its argument (new-style stacker handler)."""

    needs_aws = False

    @classmethod
    def handle(cls, value, context, provider, **kwargs):
        return value[::-1] + "@" + context.namespace

    @classmethod
    def dependencies(cls, lookup_data):
        for item in lookup_data:
            if item.resolved() and item.value().startswith("dep:"):
                return {item.value()[4:]}
        return set()


class Region(LookupHandler):
    @classmethod
    def handle(cls, value, context, provider, **kwargs):
        return provider.region + ":" + provider.get_output("ns-" + value, "Id")


def old_style(value, **kwargs):
    """Upper-cases (old-style function)."""
    return value.upper() + "/" + kwargs["context"].namespace


old_style.needs_aws = False


def broken(value, **kwargs):
    raise RuntimeError("boom " + value)


broken.needs_aws = False


class Native(Lookup):
    name = "native"
    description = "a stackyard lookup"

    def resolve(self, arg, ctx):
        return {"arg": arg}


NOT_A_LOOKUP = 42
'''


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LookupRegistry:
    (tmp_path / "custom_lookups_for_test.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = LookupRegistry.with_builtins()
    registry.register_custom(
        {
            "reverse": "custom_lookups_for_test.Reverse",
            "region": "custom_lookups_for_test.Region",
            "shout": "custom_lookups_for_test.old_style",
            "broken": "custom_lookups_for_test.broken",
            "mine": "custom_lookups_for_test:Native",
        }
    )
    return registry


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${reverse abc}", "cba@ns"),
        ("${shout abc}", "ABC/ns"),
        ("${mine x y}", {"arg": "x y"}),
        ("${split ,::${reverse b,a}}", ["a", "b@ns"]),
    ],
)
def test_custom_forms_resolve(
    registry: LookupRegistry, make_ctx: MakeCtx, text: str, expected: object
) -> None:
    assert resolve_value(text, registry, make_ctx()) == expected


def test_provider_shim_reads_outputs(
    registry: LookupRegistry, make_ctx: MakeCtx, fake_aws: FakeAWS
) -> None:
    fake_aws.outputs["ns-vpc"] = {"Id": "vpc-1"}
    ctx = make_ctx(aws=fake_aws, region="eu-west-1")
    assert resolve_value("${region vpc}", registry, ctx) == "eu-west-1:vpc-1"


def test_custom_lookups_need_aws_unless_they_say_not(
    registry: LookupRegistry, make_ctx: MakeCtx
) -> None:
    assert registry.get("region").needs_aws is True
    assert registry.get("reverse").needs_aws is False
    assert isinstance(resolve_value("${region vpc}", registry, make_ctx()), Unknown)


def test_descriptions_come_from_docstrings(registry: LookupRegistry) -> None:
    assert registry.get("reverse").description.startswith("Reverses its argument")
    assert registry.get("shout").description.startswith("Upper-cases")
    assert registry.get("mine").name == "mine"


def test_stacker_dependencies_classmethod(registry: LookupRegistry) -> None:
    assert dependencies_of("${reverse dep:vpc}", registry) == {"vpc"}
    assert dependencies_of("${shout dep:vpc}", registry) == set()


def test_raising_custom_lookup_becomes_a_reported_error(
    registry: LookupRegistry, make_ctx: MakeCtx
) -> None:
    with pytest.raises(LookupError_) as info:
        resolve_value({"Name": "${broken x}"}, registry, make_ctx())
    error = info.value
    assert "${broken x}" in error.message and "RuntimeError: boom x" in error.message
    assert error.key == "Name"
    assert isinstance(error.__cause__, RuntimeError)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("custom_lookups_for_test.Nope", "has no 'Nope'"),
        ("no_such_module_xyz.Handler", "cannot import no_such_module_xyz"),
        ("Handler", "is not an import path"),
        ("custom_lookups_for_test.NOT_A_LOOKUP", "is not a lookup"),
    ],
)
def test_bad_import_paths(registry: LookupRegistry, path: str, problem: str) -> None:
    with pytest.raises(LookupError_, match=problem) as info:
        registry.register_path("custom", path)
    assert "'custom'" in info.value.message


def test_module_that_fails_to_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "explodes_on_import.py").write_text("raise ValueError('bad module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(LookupError_, match="ValueError: bad module"):
        LookupRegistry().register_path("x", "explodes_on_import.Handler")
