"""The troposphere classes the Blueprint API adds: stacker's template, and an unknown value.

A module of their own so that ``stackyard.blueprints.base`` does not import troposphere:
a project of raw templates never needs it, and importing it costs a fair share of a
command's start (tens of milliseconds). Blueprints that build templates import it anyway.
"""

from __future__ import annotations

from typing import Any

from troposphere import AWSHelperFn, Template

from stackyard.unknown import Unknown


class StackerTemplate(Template):  # type: ignore[misc]
    """troposphere's ``Template`` plus the troposphere 2 names stacker blueprints call."""

    def add_description(self, description: str) -> None:
        """troposphere 2 name of ``set_description``."""
        self.set_description(description)

    def add_version(self, version: str = "2010-09-09") -> None:
        """troposphere 2 name of ``set_version``."""
        self.set_version(version)

    def add_metadata(self, metadata: dict[str, Any]) -> None:
        """troposphere 2 name of ``set_metadata``."""
        self.set_metadata(metadata)

    def add_transform(self, transform: Any) -> None:
        """troposphere 2 name of ``set_transform``."""
        self.set_transform(transform)


class UnknownValue(AWSHelperFn):  # type: ignore[misc]
    """An ``Unknown`` placed inside a troposphere object.

    troposphere does not type-check helper functions, so an unknown value may
    stand where it expects, say, an integer; it renders as the unknown's text.
    """

    def __init__(self, value: Unknown) -> None:
        self.data = str(value)
