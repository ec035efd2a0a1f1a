"""docs/config.md and docs/cli.md are generated; these fail when either is out of date.

Regenerate with:
    python -m stackyard.config.reference > docs/config.md
    python -m stackyard.cli.reference > docs/cli.md
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from stackyard.cli.reference import render_reference as cli_reference
from stackyard.config.reference import SECTIONS
from stackyard.config.reference import render_reference as config_reference

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_config_reference_is_up_to_date() -> None:
    assert (DOCS / "config.md").read_text() == config_reference(), (
        "docs/config.md is stale: python -m stackyard.config.reference > docs/config.md"
    )


def test_cli_reference_is_up_to_date() -> None:
    assert (DOCS / "cli.md").read_text() == cli_reference(), (
        "docs/cli.md is stale: python -m stackyard.cli.reference > docs/cli.md"
    )


@pytest.mark.parametrize("model", [model for _, model, _ in SECTIONS], ids=lambda m: m.__name__)
def test_every_config_key_is_described(model: type[BaseModel]) -> None:
    missing = [name for name, info in model.model_fields.items() if not info.description]
    assert missing == []


def test_the_reference_names_the_keys_that_were_only_in_the_source() -> None:
    text = config_reference()
    for key in ("`protected`", "`rules`", "`termination_protection`", "`locked`"):
        assert key in text
