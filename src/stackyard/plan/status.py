"""``info``: each stack's deployed status, outputs, last change, and drift from the config.

``last_drift`` is CloudFormation's verdict from the last drift detection (``stackyard
drift``): what changed outside CloudFormation. Drift from the config is one word:
``in sync`` (a build would change nothing), ``changes pending`` (a build would create,
update or recreate it), ``missing`` (not deployed), or ``unknown`` (the config could not
be rendered; ``detail`` says why).
A locked stack with changes pending also carries its pending delta (how many changes, of
which risk, since when), so a lock never hides a growing delta.
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
from stackyard.plan.actions import UPDATABLE, compare
from stackyard.plan.model import LockedDelta, StackAction
from stackyard.plan.planner import with_protection_defaults

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
    locked_delta: LockedDelta | None = None
    # CloudFormation's last drift detection (``stackyard drift``): status and when.
    last_drift: str = "NOT_CHECKED"
    last_drift_checked: datetime | None = None

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
            "last_drift": {
                "status": self.last_drift,
                "checked": self.last_drift_checked.isoformat() if self.last_drift_checked else None,
            },
            "locked_delta": None
            if self.locked_delta is None
            else {
                "changes": self.locked_delta.changes,
                "by_risk": dict(self.locked_delta.by_risk),
                "since": self.locked_delta.since,
            },
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
        delta: LockedDelta | None = None
        if deployed.status in UPDATABLE:
            try:
                # What a build would deploy: protected stacks get termination protection.
                desired = with_protection_defaults(
                    project, project.render(name, project.resolve_context(aws=access)), deployed
                )
                action = compare(
                    desired,
                    deployed,
                    fetch_template=partial(gateway.get_template, fqn, location),
                    fetch_stack_policy=partial(gateway.get_stack_policy, fqn, location),
                )
                if desired.locked and action.kind is not StackAction.NO_CHANGE:
                    delta = _locked_delta(project, gateway, desired, deployed, location)
            except StackyardError as exc:
                drift, detail = "unknown", exc.message
            else:
                if action.kind is StackAction.NO_CHANGE:
                    drift = "in sync"
                elif delta is not None:
                    detail = _delta_text(delta)
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
                delta,
                deployed.drift_status,
                deployed.drift_checked,
            )
        )
    return out


def _locked_delta(
    project: Project,
    gateway: CloudFormationGateway,
    desired: Any,
    deployed: Any,
    location: Location,
) -> LockedDelta | None:
    from stackyard.plan.planner import plan_stack, with_protection_defaults

    policy = gateway.get_stack_policy(deployed.name, location) if desired.stack_policy else None
    plan = plan_stack(
        project,
        with_protection_defaults(project, desired, deployed),
        deployed,
        template=gateway.get_template(deployed.name, location),
        stack_policy=policy,
    )
    return plan.locked_delta


def _delta_text(delta: LockedDelta) -> str:
    """``locked: 3 pending (1 destructive, 2 routine) since 2024-01-01T00:00:00``."""
    risks = ", ".join(f"{n} {kind}" for kind, n in delta.by_risk)
    text = f"locked: {delta.changes} pending"
    if risks:
        text += f" ({risks})"
    if delta.since:
        text += f" since {delta.since}"
    return text
