from __future__ import annotations

from typing import Any

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups import Lookup, LookupRegistry, ResolveContext
from stackyard.lookups import registry as registry_module

ALL_BUILTINS = [
    "ami",
    "default",
    "dynamodb",
    "envvar",
    "file",
    "hook_data",
    "kms",
    "output",
    "rxref",
    "split",
    "ssm",
    "ssmstore",
    "xref",
]


def test_builtins(registry: LookupRegistry) -> None:
    assert registry.names() == ALL_BUILTINS
    for name in ALL_BUILTINS:
        lookup = registry.get(name)
        assert lookup.name == name
        assert lookup.description


@pytest.mark.parametrize(
    ("name", "needs_aws"),
    [
        ("output", True),
        ("xref", True),
        ("rxref", True),
        ("ssmstore", True),
        ("ssm", True),
        ("kms", True),
        ("ami", True),
        ("dynamodb", True),
        ("hook_data", True),
        ("envvar", False),
        ("file", False),
        ("default", False),
        ("split", False),
    ],
)
def test_needs_aws_metadata(registry: LookupRegistry, name: str, needs_aws: bool) -> None:
    assert registry.get(name).needs_aws is needs_aws


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("ouput", "did you mean 'output'?"),
        ("ssmstor", "did you mean 'ssmstore'?"),
        ("vpc::VpcId", "${output STACK::OUTPUT}"),
        ("zzz", "known lookups: ami, default"),
    ],
)
def test_unknown_lookup_hints(registry: LookupRegistry, name: str, hint: str) -> None:
    with pytest.raises(LookupError_, match="unknown lookup type") as info:
        registry.get(name)
    assert info.value.hint is not None and hint in info.value.hint


class Upper(Lookup):
    name = "upper"
    description = "upper-cases its argument"

    def resolve(self, arg: str, ctx: ResolveContext) -> Any:
        return arg.upper()


class FakeEntryPoint:
    def __init__(self, name: str, target: Any, error: Exception | None = None) -> None:
        self.name, self.value, self._target, self._error = name, f"tests:{name}", target, error

    def load(self) -> Any:
        if self._error:
            raise self._error
        return self._target


def test_entry_points_add_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [FakeEntryPoint("upper", Upper), FakeEntryPoint("split", Upper)]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: points)
    registry = LookupRegistry.with_builtins()
    assert "upper" in registry
    assert isinstance(registry.get("split"), Lookup)
    assert registry.get("split").description == "upper-cases its argument"
    assert registry.get("output").name == "output"  # the fallback table fills the rest


def test_broken_entry_point_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [FakeEntryPoint("bad", None, ImportError("no module named nowhere"))]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: points)
    # Plugins load when first used: a broken one fails only the configs that use it.
    registry = LookupRegistry.with_builtins()
    assert "bad" in registry and registry.get("envvar").name == "envvar"
    with pytest.raises(LookupError_, match=r"'bad' from entry point .* cannot be loaded"):
        registry.get("bad")


def test_builtins_are_imported_when_first_used() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from stackyard.lookups.registry import LookupRegistry\n"
        "r = LookupRegistry.with_builtins()\n"
        "print('stackyard.lookups.dynamodb' in sys.modules, 'kms' in r)\n"
        "r.get('dynamodb')\n"
        "print('stackyard.lookups.dynamodb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "True", "True"], out.stderr


def test_registries_are_independent() -> None:
    first, second = LookupRegistry.with_builtins(), LookupRegistry.with_builtins()
    first.register("upper", Upper)
    assert "upper" in first and "upper" not in second


@pytest.mark.parametrize("name", ["", "two words", "${x}"])
def test_bad_names(name: str) -> None:
    with pytest.raises(LookupError_, match="cannot be a lookup name"):
        LookupRegistry().register(name, Upper)


def test_register_instance_under_another_name() -> None:
    registry = LookupRegistry()
    registry.register("shout", Upper())
    assert registry.get("shout").name == "shout"
    assert registry.names() == ["shout"]


def test_entry_point_table_matches_builtins() -> None:
    assert sorted(registry_module.BUILTINS) == ALL_BUILTINS
