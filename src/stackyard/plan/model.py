"""The plan as data: what would change, stack by stack, resource by resource.

Everything here is a frozen dataclass built once by :mod:`stackyard.plan.diff`,
rendered by :mod:`stackyard.ui.diff`, approved with
:mod:`stackyard.plan.protection` and executed by the engine. Nothing here calls
AWS or reads config.

Each change carries an action (an enum, for code) and separately a reason (text,
for people; code never branches on it). Values are already masked: NoEcho
parameters and secrets appear as ``****``; values known only after apply carry
``known_after_apply``.

The JSON form (``Plan.to_json``/``Plan.from_json``) is stable and versioned:
``{"format": "stackyard-plan", "version": 1, ...}`` with sorted keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from stackyard.errors import StackyardError
from stackyard.lookups.secret import MASK, mask_secrets

__all__ = [
    "FORMAT",
    "MASK",
    "VERSION",
    "ApprovalItem",
    "ChangeAction",
    "DeployedFingerprint",
    "DesiredFingerprint",
    "Disagreement",
    "LockedDelta",
    "OutputChange",
    "ParameterChange",
    "Plan",
    "PlanInputs",
    "PropertyDiff",
    "ProtectionVerdict",
    "Replacement",
    "ResourceChange",
    "Risk",
    "RiskKind",
    "SecurityChange",
    "Setting",
    "SettingChange",
    "StackAction",
    "StackFingerprint",
    "StackPlan",
    "TagChange",
]

FORMAT = "stackyard-plan"
VERSION = 2  # 2: approval ids, plan inputs, unknowns, setting ids


class StackAction(StrEnum):
    """What happens to a whole stack: the one action enum of the project (the planner
    decides it, the engine executes it, the UI shows it)."""

    CREATE = "create"
    UPDATE = "update"
    NO_CHANGE = "no change"
    SKIP_LOCKED = "skipped: locked"
    RECREATE = "recreate failed"
    WAIT = "wait"
    BLOCKED = "blocked"
    DELETE = "delete"


class ChangeAction(StrEnum):
    """What happens to one resource, output or property."""

    ADD = "add"
    MODIFY = "modify"
    REMOVE = "remove"
    REPLACE = "replace"


class Replacement(StrEnum):
    """Whether a modification replaces the resource, in CloudFormation's words."""

    TRUE = "True"
    CONDITIONAL = "Conditional"
    FALSE = "False"

    @property
    def rank(self) -> int:
        """0 for False, 1 for Conditional, 2 for True: for taking the worse of two."""
        return {"False": 0, "Conditional": 1, "True": 2}[self.value]


class RiskKind(StrEnum):
    """How a change is graded."""

    DESTRUCTIVE = "destructive"
    SECURITY = "security"
    ROUTINE = "routine"


@dataclass(frozen=True)
class Risk:
    """One reason a change is risky; ``stateful`` marks data that a replacement loses."""

    kind: RiskKind
    reason: str
    stateful: bool = False


@dataclass(frozen=True)
class SecurityChange:
    """One row of the security table: a permission or an ingress rule, added or removed.

    ``kind`` is ``statement`` (a policy statement), ``managed-policy`` or ``ingress``;
    ``sign`` is ``+`` or ``-``; ``broadening`` says whether it grants more than before.
    """

    kind: str
    sign: str
    logical_id: str
    effect: str = "Allow"
    actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    condition: str | None = None
    broadening: bool = False
    reason: str = ""


@dataclass(frozen=True)
class PropertyDiff:
    """One changed value inside a resource, at ``path`` (e.g. ``Properties.Tags[0].Value``).

    ``before``/``after`` are JSON values, None when absent (``action`` says which).
    ``cause`` names what changed it when the template text did not ("parameter Env").
    """

    path: str
    action: ChangeAction
    before: Any = None
    after: Any = None
    known_after_apply: bool = False
    masked: bool = False
    cause: str | None = None
    replacement: Replacement = Replacement.FALSE


@dataclass(frozen=True)
class ResourceChange:
    """One resource that changes; ``replaced_by`` lists the property paths forcing replacement."""

    logical_id: str
    resource_type: str
    action: ChangeAction
    replacement: Replacement = Replacement.FALSE
    diffs: tuple[PropertyDiff, ...] = ()
    risks: tuple[Risk, ...] = ()
    replaced_by: tuple[str, ...] = ()
    security: tuple[SecurityChange, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def risk_kinds(self) -> frozenset[RiskKind]:
        """The kinds of risk; ``routine`` when there is none."""
        kinds = frozenset(r.kind for r in self.risks)
        return kinds or frozenset({RiskKind.ROUTINE})

    @property
    def destructive(self) -> bool:
        """True for a removal or a (possible) replacement."""
        return RiskKind.DESTRUCTIVE in self.risk_kinds

    @property
    def stateful(self) -> bool:
        """True when the resource holds data."""
        return any(r.stateful for r in self.risks)


@dataclass(frozen=True)
class ParameterChange:
    """A stack parameter whose value changes; values are ``****`` when ``masked``."""

    key: str
    action: ChangeAction
    before: str | None = None
    after: str | None = None
    masked: bool = False
    known_after_apply: bool = False


@dataclass(frozen=True)
class TagChange:
    """A stack tag that changes."""

    key: str
    action: ChangeAction
    before: str | None = None
    after: str | None = None


class Setting(StrEnum):
    """A stack setting; termination protection and the stack policy take calls of their own,
    the others go with the update."""

    TERMINATION_PROTECTION = "termination protection"
    STACK_POLICY = "stack policy"
    NOTIFICATION_ARNS = "notification ARNs"
    SERVICE_ROLE = "service role"

    @property
    def own_call(self) -> bool:
        """True when the setting is applied by a call of its own, not by an update."""
        return self in (Setting.TERMINATION_PROTECTION, Setting.STACK_POLICY)


@dataclass(frozen=True)
class SettingChange:
    """A stack setting that changes."""

    name: Setting
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class OutputChange:
    """A stack output that changes; ``before`` is the deployed value where known."""

    key: str
    action: ChangeAction
    before: Any = None
    after: Any = None
    known_after_apply: bool = False
    cause: str | None = None


@dataclass(frozen=True)
class ApprovalItem:
    """One change that needs approval.

    ``id`` is what code matches on (a reviewed plan approves the ids it shows): the stack,
    the subject (a logical id or ``stack``), ``rule_id``, the kind of change and the
    property paths forcing a replacement. ``rule`` and ``reason`` are words for people.
    """

    subject: str
    rule: str
    reason: str
    rule_id: str = ""
    id: str = ""


@dataclass(frozen=True)
class ProtectionVerdict:
    """Which changes of a stack touch a protected area."""

    items: tuple[ApprovalItem, ...] = ()
    rules: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def needs_approval(self) -> bool:
        """True when some change must be approved before it runs."""
        return bool(self.items)


@dataclass(frozen=True)
class LockedDelta:
    """What a locked stack would change if unlocked, and since when it has been waiting."""

    changes: int
    by_risk: tuple[tuple[str, int], ...] = ()
    since: str | None = None


@dataclass(frozen=True)
class Disagreement:
    """Where a change set and the schema-based plan differ about one resource."""

    logical_id: str
    field: str
    planned: str
    change_set: str


@dataclass(frozen=True)
class StackPlan:
    """Everything that would change in one stack."""

    name: str
    fqn: str
    action: StackAction
    reason: str = ""
    parameters: tuple[ParameterChange, ...] = ()
    tags: tuple[TagChange, ...] = ()
    settings: tuple[SettingChange, ...] = ()
    resources: tuple[ResourceChange, ...] = ()
    outputs: tuple[OutputChange, ...] = ()
    protection: ProtectionVerdict = field(default_factory=ProtectionVerdict)
    locked_delta: LockedDelta | None = None
    disagreements: tuple[Disagreement, ...] = ()
    hint: str | None = None
    # Lookups whose values are known only once an upstream stack is applied: the engine
    # resolves them, renders the stack again and checks the result against this plan.
    unknowns: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        """True when the stack differs from the config (even if locked or blocked)."""
        if self.will_change:
            return True
        return bool(self.parameters or self.tags or self.settings or self.resources or self.outputs)

    @property
    def will_change(self) -> bool:
        """True when executing the plan changes this stack (locked/blocked ones do not)."""
        return self.action in (
            StackAction.CREATE,
            StackAction.UPDATE,
            StackAction.RECREATE,
            StackAction.DELETE,
        )

    @property
    def needs_approval(self) -> bool:
        """True when executing this stack's plan runs a change in a protected area."""
        return self.will_change and self.protection.needs_approval

    @property
    def cannot_proceed(self) -> bool:
        """True when the stack differs from the config but cannot be changed (blocked)."""
        return self.action is StackAction.BLOCKED

    @property
    def needs_update_call(self) -> bool:
        """True when an update must go through CloudFormation (a change set), not only
        through the settings' own calls."""
        if self.action is not StackAction.UPDATE:
            return False
        if self.parameters or self.tags or self.resources or self.outputs:
            return True
        if any(not s.name.own_call for s in self.settings):
            return True
        # A template that differs only in what no resource, output or setting shows
        # (a description, metadata) still needs an update.
        return not self.settings

    def setting(self, name: Setting) -> SettingChange | None:
        """The change of one setting, if it changes."""
        return next((s for s in self.settings if s.name is name), None)

    def resource(self, logical_id: str) -> ResourceChange | None:
        """The change to ``logical_id``, if any."""
        return next((r for r in self.resources if r.logical_id == logical_id), None)


@dataclass(frozen=True)
class DesiredFingerprint:
    """Hashes of what the config wants: the rendered template and the parameter values."""

    template: str
    parameters: str


@dataclass(frozen=True)
class DeployedFingerprint:
    """What the deployed stack looked like: status, last update, template and parameters."""

    status: str
    last_updated: str | None
    template: str
    parameters: str


@dataclass(frozen=True)
class StackFingerprint:
    """Both sides of one stack as the plan saw them; None where a side did not exist."""

    fqn: str
    desired: DesiredFingerprint | None
    deployed: DeployedFingerprint | None


@dataclass(frozen=True)
class PlanInputs:
    """What a plan was made from, so ``apply PLANFILE`` needs no other argument.

    Paths are as the user gave them; ``digests`` maps each input file (the config, the
    environment file, every blueprint module and template) to its SHA-256.
    """

    config: str
    environment_file: str | None = None
    overrides: tuple[tuple[str, str], ...] = ()
    stacks: tuple[str, ...] = ()
    region: str | None = None
    profile: str | None = None
    recreate_failed: bool = False
    force: tuple[str, ...] = ()
    change_sets: bool = False
    destroy: bool = False
    disable_termination_protection: bool = False
    wait: bool = True
    prune: bool = False
    digests: tuple[tuple[str, str], ...] = ()
    # ``-e`` values that reached a NoEcho parameter or a secret: never stored, only a salted
    # digest, so ``apply`` asks for them again and checks them.
    secret_overrides: tuple[tuple[str, str], ...] = ()

    def overrides_text(self) -> str:
        """The ``-e`` options, as typed (``-e a=1 -e b=2``; secret ones masked), or ``""``."""
        shown = [f"-e {k}={v}" for k, v in self.overrides]
        shown += [f"-e {k}={MASK}" for k, _ in self.secret_overrides]
        return " ".join(shown)


@dataclass(frozen=True)
class Plan:
    """The plan for one run: stack plans in order, when it was made, what it saw, and
    (for a saved plan) what it was made from."""

    stacks: tuple[StackPlan, ...]
    created_at: str
    fingerprints: tuple[tuple[str, StackFingerprint], ...] = ()
    inputs: PlanInputs | None = None

    @classmethod
    def create(
        cls,
        stacks: tuple[StackPlan, ...] | list[StackPlan],
        *,
        now: datetime,
        fingerprints: Mapping[str, StackFingerprint] | None = None,
        inputs: PlanInputs | None = None,
    ) -> Plan:
        """A plan made at ``now`` (pass the clock in; plans are otherwise deterministic)."""
        return cls(
            stacks=tuple(stacks),
            created_at=now.isoformat(),
            fingerprints=tuple(sorted((fingerprints or {}).items())),
            inputs=inputs,
        )

    @property
    def cannot_proceed(self) -> tuple[StackPlan, ...]:
        """Stacks that differ from the config but cannot be changed (``diff -e`` exits 1)."""
        return tuple(s for s in self.stacks if s.cannot_proceed)

    @property
    def needing_approval(self) -> tuple[StackPlan, ...]:
        """Stacks whose changes touch a protected area, in plan order."""
        return tuple(s for s in self.stacks if s.needs_approval)

    @property
    def has_changes(self) -> bool:
        """True when executing the plan would change some stack (``diff
        --detailed-exitcode`` returns 2); locked and blocked stacks do not count."""
        return any(s.will_change for s in self.stacks)

    def stack(self, name: str) -> StackPlan | None:
        """The plan of the stack called ``name`` in the config."""
        return next((s for s in self.stacks if s.name == name), None)

    def fingerprint(self, name: str) -> StackFingerprint | None:
        """The fingerprint recorded for ``name``."""
        return dict(self.fingerprints).get(name)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data, every secret masked."""
        data: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": self.created_at,
            "stacks": [_encode(s) for s in self.stacks],
            "fingerprints": {name: _encode(fp) for name, fp in self.fingerprints},
        }
        if self.inputs is not None:
            data["inputs"] = _encode(self.inputs)
        masked: dict[str, Any] = mask_secrets(data)
        return masked

    def to_json(self, *, indent: int | None = 2) -> str:
        """The plan as JSON text with sorted keys (``--json`` and saved plans)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        """Read what ``to_dict`` wrote; refuses other formats and versions."""
        if data.get("format") != FORMAT:
            raise StackyardError("not a stackyard plan", exit_code=2)
        if data.get("version") != VERSION:
            raise StackyardError(
                f"plan format version {data.get('version')!r} is not supported "
                f"(this stackyard reads version {VERSION})",
                hint="make the plan again with this version of stackyard",
                exit_code=2,
            )
        try:
            return cls(
                stacks=tuple(_decode(StackPlan, s) for s in data["stacks"]),
                created_at=str(data["created_at"]),
                fingerprints=tuple(
                    sorted(
                        (name, _decode(StackFingerprint, fp))
                        for name, fp in data.get("fingerprints", {}).items()
                    )
                ),
                inputs=_decode_inputs(data.get("inputs")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StackyardError(f"malformed plan: {exc}", exit_code=2) from exc

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """Read a plan saved by ``to_json``."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise StackyardError(f"plan file is not JSON: {exc}", exit_code=2) from exc
        if not isinstance(data, dict):
            raise StackyardError("not a stackyard plan", exit_code=2)
        return cls.from_dict(data)


# --- generic (de)serialisation of the dataclasses above ------------------------------------

_NESTED: dict[tuple[type[Any], str], type[Any]] = {}
_ENUMS: dict[tuple[type[Any], str], type[StrEnum]] = {}


def _register() -> None:
    nested = {
        (StackPlan, "parameters"): ParameterChange,
        (StackPlan, "tags"): TagChange,
        (StackPlan, "settings"): SettingChange,
        (StackPlan, "resources"): ResourceChange,
        (StackPlan, "outputs"): OutputChange,
        (StackPlan, "protection"): ProtectionVerdict,
        (StackPlan, "locked_delta"): LockedDelta,
        (StackPlan, "disagreements"): Disagreement,
        (ResourceChange, "diffs"): PropertyDiff,
        (ResourceChange, "risks"): Risk,
        (ResourceChange, "security"): SecurityChange,
        (ProtectionVerdict, "items"): ApprovalItem,
        (StackFingerprint, "desired"): DesiredFingerprint,
        (StackFingerprint, "deployed"): DeployedFingerprint,
    }
    enums: dict[tuple[type[Any], str], type[StrEnum]] = {
        (StackPlan, "action"): StackAction,
        (SettingChange, "name"): Setting,
        (ResourceChange, "action"): ChangeAction,
        (ResourceChange, "replacement"): Replacement,
        (PropertyDiff, "action"): ChangeAction,
        (PropertyDiff, "replacement"): Replacement,
        (ParameterChange, "action"): ChangeAction,
        (TagChange, "action"): ChangeAction,
        (OutputChange, "action"): ChangeAction,
        (Risk, "kind"): RiskKind,
    }
    _NESTED.update(nested)
    _ENUMS.update(enums)


_register()


def _decode_inputs(data: Any) -> PlanInputs | None:
    if data is None:
        return None
    inputs: PlanInputs = _decode(PlanInputs, data)
    # Pairs come back as tuples of two-item tuples.
    return replace(
        inputs,
        overrides=tuple((str(k), str(v)) for k, v in inputs.overrides),
        digests=tuple((str(k), str(v)) for k, v in inputs.digests),
        secret_overrides=tuple((str(k), str(v)) for k, v in inputs.secret_overrides),
    )


def _encode(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: _encode(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, StrEnum):
        return obj.value
    if isinstance(obj, tuple | list):
        return [_encode(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _encode(v) for k, v in obj.items()}
    return obj


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


def _decode(cls: type[Any], data: Mapping[str, Any]) -> Any:
    if not isinstance(data, Mapping):
        raise TypeError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        nested = _NESTED.get((cls, f.name))
        enum = _ENUMS.get((cls, f.name))
        if value is None:
            kwargs[f.name] = None
        elif nested is not None:
            if isinstance(value, list):
                kwargs[f.name] = tuple(_decode(nested, v) for v in value)
            else:
                kwargs[f.name] = _decode(nested, value)
        elif enum is not None:
            kwargs[f.name] = enum(value)
        elif f.name in ("before", "after"):
            kwargs[f.name] = value  # JSON values keep their lists
        else:
            kwargs[f.name] = _tuplify(value)
    return cls(**kwargs)
