"""CloudFormation drift detection for many stacks: start all, wait for all, read the diffs.

Every call goes through the gateway (paced by its rate limiter, counted in its stats).
Detection is started for every stack first, then the detections still running are polled
round by round (one DescribeStackDriftDetectionStatus each, with a growing pause between
rounds), and only the stacks found drifted have their resource drifts read (only the
``MODIFIED`` and ``DELETED`` ones). Clock and sleep are passed in.

Property values can hold secrets the template was given (a NoEcho parameter's value in a
password property): values at paths that name a secret, and every value of a SecureString
parameter, are masked before they leave this module.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stackyard.aws.cloudformation import CloudFormationGateway
from stackyard.aws.errors import AWSCallError
from stackyard.aws.session import Location
from stackyard.lookups.secret import MASK

__all__ = ["DriftTarget", "PropertyDrift", "ResourceDrift", "StackDrift", "detect_drift"]

_DONE = frozenset({"DETECTION_COMPLETE", "DETECTION_FAILED"})
_SECRET_PATH = re.compile(r"password|secret|token|private|credential", re.IGNORECASE)


@dataclass(frozen=True)
class DriftTarget:
    """A stack to check: its name in the config, its CloudFormation name and location."""

    name: str
    fqn: str
    location: Location


@dataclass(frozen=True)
class PropertyDrift:
    """One property that differs: ``kind`` is ADD, REMOVE or NOT_EQUAL."""

    path: str
    expected: Any
    actual: Any
    kind: str


@dataclass(frozen=True)
class ResourceDrift:
    """One drifted resource: MODIFIED (with its property differences) or DELETED."""

    logical_id: str
    resource_type: str
    physical_id: str
    status: str
    differences: tuple[PropertyDrift, ...] = ()


@dataclass(frozen=True)
class StackDrift:
    """One stack's verdict: IN_SYNC, DRIFTED, UNKNOWN (detection failed) or NOT_DEPLOYED."""

    name: str
    fqn: str
    status: str
    resources: tuple[ResourceDrift, ...] = ()
    reason: str = ""
    checked: str | None = None
    drifted_count: int = 0

    @property
    def drifted(self) -> bool:
        """True when some resource differs from what the stack set."""
        return self.status == "DRIFTED"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "name": self.name,
            "stack_name": self.fqn,
            "status": self.status,
            "reason": self.reason,
            "checked": self.checked,
            "resources": [
                {
                    "logical_id": r.logical_id,
                    "type": r.resource_type,
                    "physical_id": r.physical_id,
                    "status": r.status,
                    "differences": [
                        {"path": d.path, "expected": d.expected, "actual": d.actual, "kind": d.kind}
                        for d in r.differences
                    ],
                }
                for r in self.resources
            ],
        }


def _value(text: Any) -> Any:
    """A difference's value: JSON where it is JSON, else the text."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _secure(raw: dict[str, Any]) -> bool:
    if raw.get("ResourceType") != "AWS::SSM::Parameter":
        return False
    expected = _value(raw.get("ExpectedProperties") or "{}")
    return isinstance(expected, dict) and expected.get("Type") == "SecureString"


def _resource(raw: dict[str, Any]) -> ResourceDrift:
    masked = _secure(raw)
    differences = []
    for d in raw.get("PropertyDifferences") or []:
        path = str(d.get("PropertyPath", ""))
        hide = masked or bool(_SECRET_PATH.search(path))
        differences.append(
            PropertyDrift(
                path=path,
                expected=MASK if hide else _value(d.get("ExpectedValue")),
                actual=MASK if hide else _value(d.get("ActualValue")),
                kind=str(d.get("DifferenceType", "")),
            )
        )
    return ResourceDrift(
        logical_id=str(raw.get("LogicalResourceId", "")),
        resource_type=str(raw.get("ResourceType", "")),
        physical_id=str(raw.get("PhysicalResourceId", "")),
        status=str(raw.get("StackResourceDriftStatus", "")),
        differences=tuple(differences),
    )


def detect_drift(
    gateway: CloudFormationGateway,
    targets: Sequence[DriftTarget],
    *,
    timeout: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[StackDrift]:
    """Detect drift on every target (in the order given) and read what drifted."""
    results: dict[str, StackDrift] = {}
    running: dict[str, str] = {}  # name -> detection id
    by_name = {t.name: t for t in targets}
    for target in targets:
        if gateway.cached(target.fqn, target.location) is None:
            results[target.name] = StackDrift(target.name, target.fqn, "NOT_DEPLOYED")
            continue
        try:
            running[target.name] = gateway.detect_stack_drift(target.fqn, target.location)
        except AWSCallError as exc:
            results[target.name] = StackDrift(target.name, target.fqn, "UNKNOWN", reason=str(exc))
    deadline = clock() + timeout
    pause = 0.2
    while running:
        for name, detection in list(running.items()):
            target = by_name[name]
            status = gateway.drift_detection_status(detection, target.location)
            if status.get("DetectionStatus") not in _DONE:
                continue
            del running[name]
            results[name] = _finished(gateway, target, status)
        if not running:
            break
        if clock() > deadline:
            for name in running:
                target = by_name[name]
                reason = f"detection still running after {timeout:.0f}s"
                results[name] = StackDrift(name, target.fqn, "UNKNOWN", reason=reason)
            break
        sleep(pause)
        pause = min(pause * 2, 5.0)
    return [results[t.name] for t in targets]


def _finished(
    gateway: CloudFormationGateway, target: DriftTarget, status: dict[str, Any]
) -> StackDrift:
    verdict = str(status.get("StackDriftStatus") or "UNKNOWN")
    checked: Any = status.get("Timestamp")
    shown = checked.isoformat() if isinstance(checked, datetime) else checked
    if status.get("DetectionStatus") == "DETECTION_FAILED" and verdict != "DRIFTED":
        reason = str(status.get("DetectionStatusReason") or "detection failed")
        return StackDrift(target.name, target.fqn, "UNKNOWN", reason=reason, checked=shown)
    resources: tuple[ResourceDrift, ...] = ()
    if verdict == "DRIFTED":
        raw = gateway.stack_resource_drifts(target.fqn, target.location, ("MODIFIED", "DELETED"))
        resources = tuple(_resource(r) for r in raw)
    return StackDrift(
        target.name,
        target.fqn,
        verdict,
        resources,
        checked=shown,
        drifted_count=int(status.get("DriftedStackResourceCount") or len(resources)),
    )
