"""``info``: each stack's deployed status, outputs, last change, and drift from the config.

Drift is one word: ``in sync`` (a build would change nothing), ``changes
pending`` (a build would create, update or recreate it), ``missing`` (not
deployed), or ``unknown`` (the config could not be rendered; ``detail`` says why).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from stackyard.aws.cloudformation import CloudFormationGateway
from stackyard.aws.session import Location
from stackyard.errors import StackyardError
from stackyard.plan.actions import UPDATABLE, ActionKind, compare

if TYPE_CHECKING:
    from stackyard.lookups.context import AWSAccess
    from stackyard.project import Project

__all__ = ["StackInfo", "stack_info"]


@dataclass(frozen=True)
class StackInfo:
    """What ``info`` shows about one stack."""

    name: str
    fqn: str
    region: str | None
    status: str  # CloudFormation's status, or "NOT_DEPLOYED"
    drift: str  # in sync | changes pending | missing | unknown
    outputs: Mapping[str, str] = field(default_factory=dict)
    last_change: datetime | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "stack_name": self.fqn,
            "region": self.region,
            "status": self.status,
            "drift": self.drift,
            "outputs": dict(self.outputs),
            "last_change": self.last_change.isoformat() if self.last_change else None,
            "detail": self.detail,
        }


def stack_info(
    project: Project,
    gateway: CloudFormationGateway,
    access: AWSAccess,
    names: Iterable[str],
    locations: Mapping[str, Location],
) -> list[StackInfo]:
    """Info on each of ``names`` (one listing per location, one GetTemplate per stack)."""
    out: list[StackInfo] = []
    for name in names:
        fqn = project.fqn(name)
        location = locations[name]
        deployed = gateway.cached(fqn, location)
        if deployed is None:
            out.append(StackInfo(name, fqn, location.region, "NOT_DEPLOYED", "missing"))
            continue
        drift, detail = "changes pending", ""
        if deployed.status in UPDATABLE:
            try:
                desired = project.render(name, project.resolve_context(aws=access))
                action = compare(
                    desired,
                    deployed,
                    fetch_template=partial(gateway.get_template, fqn, location),
                    fetch_stack_policy=partial(gateway.get_stack_policy, fqn, location),
                )
            except StackyardError as exc:
                drift, detail = "unknown", exc.message
            else:
                if action.kind is ActionKind.NO_CHANGE:
                    drift = "in sync"
                else:
                    detail = action.reason
        else:
            detail = f"stack is {deployed.status}"
        out.append(
            StackInfo(
                name,
                fqn,
                location.region,
                deployed.status,
                drift,
                dict(deployed.outputs),
                deployed.last_change,
                detail,
            )
        )
    return out
