"""Desired state: what one stack should look like on AWS, rendered from the config.

A ``DesiredStack`` is plain data: the rendered template, parameter values,
tags and stack settings. The planner compares it with the deployed stack; the
engine submits it. Values that need AWS and are not known yet are
``Unknown`` (see ``stackyard.unknown``); secrets from lookups are ``Secret``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from stackyard.unknown import is_unknown

__all__ = ["DesiredStack", "parameter_text"]


def parameter_text(value: Any) -> str:
    """A parameter value as CloudFormation takes it: lists comma-joined, booleans lower case.

    The one conversion diff, compare, fingerprints and submissions share; ``Secret`` and
    ``Unknown`` values give their plain text (callers mask or refuse them first).
    """
    if isinstance(value, list | tuple):
        return ",".join(parameter_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str.__str__(value)
    return str(value)


@dataclass(frozen=True)
class DesiredStack:
    """One stack as the config wants it."""

    name: str  # the name in the config
    fqn: str  # the CloudFormation stack name
    region: str | None
    profile: str | None
    template_body: str  # JSON text, byte-stable for the same input
    parameters: dict[str, Any]  # values for the template's parameters the config sets
    declared_parameters: frozenset[str]  # every parameter the template declares
    no_echo: frozenset[str]  # parameters whose values must never be shown
    tags: dict[str, str]
    description: str | None = None
    stack_policy: str | None = None  # JSON text from stack_policy_path
    termination_protection: bool = False
    notification_arns: tuple[str, ...] = ()
    service_role: str | None = None
    locked: bool = False
    protected: bool | tuple[str, ...] = False
    in_progress_behavior: str | None = None
    requires_change_set: bool = False  # the template uses a transform
    # Parameters with no value and no Default: only a deployed stack that has them can keep
    # them (UsePreviousValue, as stacker keeps them); creating the stack needs a value.
    kept_parameters: frozenset[str] = frozenset()
    capabilities: tuple[str, ...] = field(default=())

    @property
    def template_hash(self) -> str:
        """A short content hash of the template, for keys and fingerprints."""
        return hashlib.sha256(self.template_body.encode()).hexdigest()[:16]

    @property
    def has_unknowns(self) -> bool:
        """True when some value is known only after an upstream stack is applied."""
        return is_unknown(self.parameters) or "(known after apply:" in self.template_body
