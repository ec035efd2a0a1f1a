"""Fingerprints for saved plans: what ``plan -o`` saw, so ``apply PLANFILE`` can refuse.

For each stack the plan records hashes of the desired template and parameter values and,
for the deployed stack, its status, last update time and hashes of its template and
parameters. :func:`moved` compares a saved fingerprint with a fresh one and names every
part that differs.

Secret parameter values are never stored, not even as plain hashes: they go through a
slow, salted key-derivation function so the fingerprint still changes when they do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack, parameter_text
from stackyard.lookups.secret import is_secret
from stackyard.plan.actions import normalise_template
from stackyard.plan.model import (
    DeployedFingerprint,
    DesiredFingerprint,
    Plan,
    StackFingerprint,
)
from stackyard.template_secrets import parameter_digest

__all__ = [
    "Moved",
    "deployed_fingerprint",
    "desired_fingerprint",
    "moved",
    "moved_in_plan",
    "stack_fingerprint",
]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def desired_fingerprint(desired: DesiredStack) -> DesiredFingerprint:
    """Hashes of the rendered template and the parameter values the config sets."""
    values: dict[str, str] = {}
    for key, value in sorted(desired.parameters.items()):
        text = parameter_text(value)
        if key in desired.no_echo or is_secret(value):
            text = "secret:" + parameter_digest(desired.fqn, key, text)
        values[key] = text
    return DesiredFingerprint(
        template=_digest(normalise_template(desired.template_body)),
        parameters=_digest(values),
    )


def deployed_fingerprint(deployed: DeployedStack) -> DeployedFingerprint:
    """Status, last update and hashes of the deployed template and parameters."""
    return DeployedFingerprint(
        status=deployed.status,
        last_updated=deployed.last_updated.isoformat() if deployed.last_updated else None,
        template=_digest(normalise_template(deployed.template)),
        parameters=_digest(dict(deployed.parameters)),
    )


def stack_fingerprint(
    desired: DesiredStack | None, deployed: DeployedStack | None
) -> StackFingerprint:
    """Both sides of one stack, as a plan records them."""
    fqn = desired.fqn if desired is not None else (deployed.fqn if deployed is not None else "")
    return StackFingerprint(
        fqn=fqn,
        desired=desired_fingerprint(desired) if desired is not None else None,
        deployed=deployed_fingerprint(deployed) if deployed is not None else None,
    )


@dataclass(frozen=True)
class Moved:
    """One part of one stack that differs from what the plan saw."""

    stack: str
    what: str
    saved: str | None
    current: str | None

    def __str__(self) -> str:
        if self.saved is not None or self.current is not None:
            return f"{self.stack}: {self.what} moved ({self.saved} → {self.current})"
        return f"{self.stack}: {self.what} changed since the plan was made"


def _exists(value: object | None) -> str:
    return "exists" if value is not None else "does not exist"


def moved(name: str, saved: StackFingerprint, current: StackFingerprint) -> tuple[Moved, ...]:
    """What differs between a saved fingerprint and a fresh one (empty when nothing does)."""
    out: list[Moved] = []
    if (saved.desired is None) != (current.desired is None):
        out.append(
            Moved(name, "stack in the config", _exists(saved.desired), _exists(current.desired))
        )
    elif saved.desired is not None and current.desired is not None:
        if saved.desired.template != current.desired.template:
            out.append(Moved(name, "desired template", None, None))
        if saved.desired.parameters != current.desired.parameters:
            out.append(Moved(name, "desired parameters", None, None))
    if (saved.deployed is None) != (current.deployed is None):
        out.append(
            Moved(
                name,
                "deployed stack",
                _exists(saved.deployed),
                _exists(current.deployed),
            )
        )
    elif saved.deployed is not None and current.deployed is not None:
        before, after = saved.deployed, current.deployed
        if before.status != after.status:
            out.append(Moved(name, "deployed status", before.status, after.status))
        if before.last_updated != after.last_updated:
            out.append(Moved(name, "deployed last update", before.last_updated, after.last_updated))
        if before.template != after.template:
            out.append(Moved(name, "deployed template", None, None))
        if before.parameters != after.parameters:
            out.append(Moved(name, "deployed parameters", None, None))
    return tuple(out)


def moved_in_plan(plan: Plan, current: Mapping[str, StackFingerprint]) -> tuple[Moved, ...]:
    """Everything that moved since ``plan`` was made, over every stack it recorded.

    A stack in ``current`` that the plan did not record, or the reverse, counts as moved.
    """
    saved = dict(plan.fingerprints)
    out: list[Moved] = []
    for name in sorted(set(saved) | set(current)):
        if name not in current:
            out.append(Moved(name, "stack selection", "in the plan", "not selected now"))
        elif name not in saved:
            out.append(Moved(name, "stack selection", "not in the plan", "selected now"))
        else:
            out += moved(name, saved[name], current[name])
    return tuple(out)
