"""Shared fixtures for the blueprint tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.loader import load_blueprint
from stackyard.context import Context

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def context() -> Context:
    """A run context whose config file sits in the fixtures directory."""
    return Context(namespace="acme", config_path=str(FIXTURES / "stackyard.yaml"))


@pytest.fixture
def load(context: Context) -> Any:
    """Load a fixture blueprint by class_path or template_path, as the config layer would."""

    def _load(
        class_path: str | None = None,
        template_path: str | None = None,
        *,
        mappings: dict[str, Any] | None = None,
        description: str | None = None,
        stack_name: str = "app",
    ) -> Blueprint:
        return load_blueprint(
            stack_name=stack_name,
            class_path=class_path,
            template_path=template_path,
            context=context,
            description=description,
            mappings=mappings,
            sys_path=["."],
            base_dir=FIXTURES,
        )

    return _load
