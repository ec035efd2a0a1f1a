"""How long the local CloudFormation takes per resource.

A latency spec is a comma-separated list of ``key=value`` items::

    resource=1.5s,jitter=0.2,AWS::RDS::DBInstance=20s

``resource`` is the default time per resource operation, ``jitter`` a fraction (0 to 1) by
which each time varies at random, and any ``AWS::...`` or ``Custom::...`` key sets the time of
that type. ``changeset`` is the time CloudFormation takes to compute a change set
(``CREATE_PENDING``, then ``CREATE_IN_PROGRESS``); it defaults to ``resource``. Durations
accept ``ms``, ``s`` and ``m`` suffixes; a bare number is seconds.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from stackyard.errors import UsageError

__all__ = ["DEFAULT_RESOURCE_SECONDS", "LatencySpec"]

DEFAULT_RESOURCE_SECONDS = 0.05

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}


def _parse_duration(text: str, item: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise UsageError(
            f"latency spec: {item!r} has an invalid duration {text!r}",
            hint="use a number with an optional unit, e.g. 1.5s, 200ms or 2m",
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class LatencySpec:
    """Per-resource operation times: a default, per-type overrides and a jitter fraction."""

    resource: float = DEFAULT_RESOURCE_SECONDS
    jitter: float = 0.0
    per_type: dict[str, float] = field(default_factory=dict)
    change_set: float | None = None

    @property
    def change_set_seconds(self) -> float:
        """How long a change set takes to compute (``changeset``, else ``resource``)."""
        return self.resource if self.change_set is None else self.change_set

    @classmethod
    def parse(cls, spec: str | None) -> LatencySpec:
        """Parse a spec such as ``resource=1.5s,jitter=0.2,AWS::RDS::DBInstance=20s``."""
        if spec is None or not spec.strip():
            return cls()
        resource = DEFAULT_RESOURCE_SECONDS
        jitter = 0.0
        per_type: dict[str, float] = {}
        change_set: float | None = None
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise UsageError(
                    f"latency spec: {item!r} is not key=value",
                    hint="e.g. resource=1.5s,jitter=0.2,AWS::RDS::DBInstance=20s",
                )
            if key == "resource":
                resource = _parse_duration(value, item)
            elif key == "changeset":
                change_set = _parse_duration(value, item)
            elif key == "jitter":
                try:
                    jitter = float(value)
                except ValueError:
                    jitter = -1.0
                if not 0.0 <= jitter <= 1.0:
                    raise UsageError(
                        f"latency spec: jitter must be a fraction between 0 and 1, got {value!r}"
                    )
            elif key.startswith(("AWS::", "Custom::", "Alexa::")) and key.count("::") >= 1:
                per_type[key] = _parse_duration(value, item)
            else:
                raise UsageError(
                    f"latency spec: unknown key {key!r}",
                    hint="keys are 'resource', 'jitter', 'changeset' or a resource type such as "
                    "AWS::S3::Bucket",
                )
        return cls(resource=resource, jitter=jitter, per_type=per_type, change_set=change_set)

    def base_seconds(self, resource_type: str) -> float:
        """The time for one operation on ``resource_type``, before jitter."""
        return self.per_type.get(resource_type, self.resource)

    def seconds_for(self, resource_type: str, rng: random.Random | None = None) -> float:
        """The time for one operation on ``resource_type``, with jitter applied."""
        base = self.base_seconds(resource_type)
        if not self.jitter or not base:
            return base
        draw = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, base * (1.0 + draw))
