"""The pre-flight check of one rendered stack, located for the person who must fix it.

:mod:`stackyard.template_check` finds problems by template path; this module says where
they live: for a raw template its file and line, for a Python blueprint the class and its
file. Errors block the stack (:class:`~stackyard.errors.TemplateCheckError`, exit 2);
warnings are returned for the caller to show.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stackyard.errors import TemplateCheckError
from stackyard.template_check import TemplateFinding, check_template

if TYPE_CHECKING:
    from stackyard.blueprints.base import Blueprint

__all__ = ["MAX_SHOWN", "located", "place", "preflight"]

#: Findings listed in one error; the rest are counted.
MAX_SHOWN = 20


def preflight(
    stack: str, blueprint: Blueprint, template: Mapping[str, Any], region: str | None
) -> list[str]:
    """Check ``template`` (what ``blueprint`` rendered for ``stack``); return the warnings.

    Raises TemplateCheckError naming every error finding (up to :data:`MAX_SHOWN`).
    """
    findings = check_template(template, region)
    if not findings:
        return []
    errors = [f for f in findings if f.is_error]
    warnings = [f"stack {stack!r}: {located(f, blueprint)}" for f in findings if not f.is_error]
    if not errors:
        return warnings
    first = errors[0]
    file, line = place(first.path, blueprint)
    message = f"{first.message}{_owner(blueprint)}"
    for extra in errors[1:MAX_SHOWN]:
        message += f"\n  also: {located(extra, blueprint)}"
    if len(errors) > MAX_SHOWN:
        message += f"\n  ... and {len(errors) - MAX_SHOWN} more"
    raise TemplateCheckError(
        message, file=file, line=line, key=first.where(), stack=stack, hint=first.hint
    )


def located(finding: TemplateFinding, blueprint: Blueprint) -> str:
    """One line: ``file:line, key 'Resources.X.Properties.Y': message (hint)``."""
    file, line = place(finding.path, blueprint)
    where = f"{file}:{line}" if line else (file or "")
    hint = f" ({finding.hint})" if finding.hint else ""
    return f"{where}, key {finding.where()!r}: {finding.message}{hint}"


def _owner(blueprint: Blueprint) -> str:
    from stackyard.blueprints.raw import RawTemplateBlueprint

    if isinstance(blueprint, RawTemplateBlueprint):
        return ""
    cls = type(blueprint)
    return f" (rendered by blueprint {cls.__module__}.{cls.__qualname__})"


def place(path: tuple[str | int, ...], blueprint: Blueprint) -> tuple[str | None, int | None]:
    """Where a template path comes from: the raw template's file and line, or the
    blueprint class's file and the line of its ``class`` statement."""
    from stackyard.blueprints.raw import RawTemplateBlueprint

    if isinstance(blueprint, RawTemplateBlueprint):
        return blueprint.source_file, blueprint.source_line(path)
    cls = type(blueprint)
    try:
        return inspect.getsourcefile(cls), inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None, None
