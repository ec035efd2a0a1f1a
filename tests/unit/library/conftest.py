"""Shared helpers for the library blueprint tests: render with variables, lint, inspect."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stackyard.context import Context
from stackyard.lint import lint_template

REGION = "us-east-1"


class Rendered:
    """A rendered template: its JSON text, parsed body and quick accessors."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.template: dict[str, Any] = json.loads(body)

    @property
    def resources(self) -> dict[str, Any]:
        return self.template.get("Resources", {})

    @property
    def outputs(self) -> dict[str, Any]:
        return self.template.get("Outputs", {})

    @property
    def parameters(self) -> dict[str, Any]:
        return self.template.get("Parameters", {})

    def of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        """Logical id to resource, for every resource of ``type_name``."""
        return {k: r for k, r in self.resources.items() if r["Type"] == type_name}

    def one(self, type_name: str) -> dict[str, Any]:
        """The properties of the only resource of ``type_name``."""
        found = self.of_type(type_name)
        assert len(found) == 1, f"expected one {type_name}, found {sorted(found)}"
        return next(iter(found.values())).get("Properties", {})

    def lint_errors(self) -> list[str]:
        return [str(f) for f in lint_template(self.body, REGION) if f.is_error]


@pytest.fixture
def context() -> Context:
    return Context(namespace="ops-test")


@pytest.fixture
def render(context: Context) -> Any:
    """``render(BlueprintClass, {variables})`` -> :class:`Rendered` (CFN parameters optional)."""

    def _render(cls: type[Any], variables: dict[str, Any], name: str = "stack") -> Rendered:
        blueprint = cls(name, context)
        return Rendered(blueprint.to_json(variables))

    return _render
