"""stacker's exceptions that blueprints raise, as stackyard errors (so they are reported with
the stack, file and line like any other blueprint error)."""

from __future__ import annotations

from typing import Any

from stackyard.errors import BlueprintError, LookupError_, VariableError

__all__ = [
    "InvalidLookupCombination",
    "MissingVariable",
    "UnresolvedVariable",
    "ValidatorError",
    "VariableTypeRequired",
]


class ValidatorError(VariableError):
    """stacker's ``ValidatorError(variable, validator, value, exception=None)``."""

    def __init__(self, variable: str, validator: str, value: Any, exception: Any = None) -> None:
        text = f"validator {validator} failed for variable {variable} (value {value!r})"
        if exception is not None:
            text += f": {exception}"
        super().__init__(text)
        self.variable, self.validator, self.value = variable, validator, value


class MissingVariable(VariableError):
    """stacker's ``MissingVariable(blueprint_name, variable_name)``."""

    def __init__(self, blueprint_name: str, variable_name: str) -> None:
        super().__init__(f"variable {variable_name} is missing from blueprint {blueprint_name}")


class VariableTypeRequired(VariableError):
    """stacker's ``VariableTypeRequired(blueprint_name, variable_name)``."""

    def __init__(self, blueprint_name: str, variable_name: str) -> None:
        super().__init__(f"variable {variable_name} of blueprint {blueprint_name} needs a type")


class UnresolvedVariable(BlueprintError):
    """stacker's ``UnresolvedVariable(blueprint_name, variable)``."""

    def __init__(self, blueprint_name: str, variable: Any) -> None:
        name = getattr(variable, "name", variable)
        super().__init__(f"variable {name} of blueprint {blueprint_name} is not resolved")


class InvalidLookupCombination(LookupError_):
    """stacker's ``InvalidLookupCombination(lookup, lookups, value)``."""

    def __init__(self, lookup: Any, lookups: Any, value: Any) -> None:
        super().__init__(f"lookup {lookup} cannot be combined with other text in {value!r}")
