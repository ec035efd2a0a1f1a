"""Protected areas: which changes of a stack must be approved before they run, and why.

A stack's ``protected`` setting is ``true`` (every change, creation and deletion
included) or a list of rules. A project adds its own rules for every stack
(:class:`ProjectProtection`). A rule is one or more terms joined by ``&``, all of which
must hold for a resource change:

- a change kind: ``create`` (``add``), ``modify`` (``update``), ``remove`` (``delete``),
  ``replace`` (a replacement, certain or conditional);
- a risk kind: ``destructive``, ``security``, ``routine``; ``stateful`` (types that hold
  data); ``any``;
- a resource-type pattern (contains ``::``, fnmatch): ``AWS::Route53::*``;
- otherwise a logical-ID pattern (fnmatch): ``Database``, ``Prod*``.

So ``[Database, "AWS::Route53::*", replace, security]`` protects every change to
``Database`` and to Route 53 resources, every replacement and every security change,
while the project default ``destructive & stateful`` protects removal or replacement of
data. Creates count too: an added resource that matches needs approval, and deleting a
stack that is protected, or has termination protection, always does.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from stackyard.plan.model import (
    ApprovalItem,
    ChangeAction,
    ProtectionVerdict,
    Replacement,
    ResourceChange,
    RiskKind,
    StackAction,
    StackPlan,
)
from stackyard.plan.risk import is_stateful

__all__ = [
    "DEFAULT_PROJECT_PROTECTION",
    "KEYWORDS",
    "RULE_PROTECTED",
    "RULE_TERMINATION_PROTECTION",
    "ProjectProtection",
    "assess",
    "matches",
    "merge_protection",
    "parse_rule",
]

# Rule ids (``ApprovalItem.rule_id``) that code matches on.
RULE_PROTECTED = "protected"
RULE_TERMINATION_PROTECTION = "termination-protection"


def _kinds(change: ResourceChange) -> frozenset[RiskKind]:
    return change.risk_kinds


KEYWORDS: dict[str, Callable[[ResourceChange], bool]] = {
    "any": lambda c: True,
    "create": lambda c: c.action is ChangeAction.ADD,
    "add": lambda c: c.action is ChangeAction.ADD,
    "modify": lambda c: c.action in (ChangeAction.MODIFY, ChangeAction.REPLACE),
    "update": lambda c: c.action in (ChangeAction.MODIFY, ChangeAction.REPLACE),
    "remove": lambda c: c.action is ChangeAction.REMOVE,
    "delete": lambda c: c.action is ChangeAction.REMOVE,
    "replace": lambda c: c.replacement is not Replacement.FALSE,
    "destructive": lambda c: RiskKind.DESTRUCTIVE in _kinds(c),
    "security": lambda c: RiskKind.SECURITY in _kinds(c),
    "routine": lambda c: _kinds(c) == {RiskKind.ROUTINE},
    "stateful": lambda c: is_stateful(c.resource_type),
}


@dataclass(frozen=True)
class ProjectProtection:
    """Project-wide protection, applied to every stack on top of its own ``protected``.

    Proposed config key: ``protection: {rules: [...], deletion: true}``.
    """

    rules: tuple[str, ...] = ("destructive & stateful",)
    # Deleting a stack with termination protection on needs approval.
    deletion: bool = True


DEFAULT_PROJECT_PROTECTION = ProjectProtection()


def parse_rule(rule: str) -> tuple[str, ...]:
    """The terms of a rule: ``"destructive & stateful"`` → ``("destructive", "stateful")``."""
    return tuple(t.strip() for t in rule.split("&") if t.strip())


def _term_matches(term: str, change: ResourceChange) -> bool:
    test = KEYWORDS.get(term.lower())
    if test is not None:
        return test(change)
    if "::" in term:
        return fnmatch.fnmatchcase(change.resource_type, term)
    return fnmatch.fnmatchcase(change.logical_id, term)


def matches(rule: str, change: ResourceChange) -> bool:
    """True when every term of ``rule`` holds for ``change``."""
    terms = parse_rule(rule)
    return bool(terms) and all(_term_matches(t, change) for t in terms)


def _describe(change: ResourceChange) -> str:
    verb = {
        ChangeAction.ADD: "creates",
        ChangeAction.MODIFY: "modifies",
        ChangeAction.REMOVE: "removes",
        ChangeAction.REPLACE: "replaces",
    }[change.action]
    if change.action is ChangeAction.MODIFY and change.replacement is Replacement.CONDITIONAL:
        verb = "modifies (may replace)"
    text = f"{verb} {change.logical_id} ({change.resource_type})"
    notes = [r.reason for r in change.risks]
    return text + (": " + "; ".join(notes) if notes else "")


def _stack_level(plan: StackPlan) -> list[str]:
    parts: list[str] = []
    if plan.parameters:
        parts.append("parameters: " + ", ".join(p.key for p in plan.parameters))
    if plan.tags:
        parts.append("tags: " + ", ".join(t.key for t in plan.tags))
    parts += [s.name for s in plan.settings]
    if plan.outputs:
        parts.append("outputs: " + ", ".join(o.key for o in plan.outputs))
    return parts


def _warnings(rules: Iterable[str], logical_ids: Iterable[str] | None) -> tuple[str, ...]:
    if logical_ids is None:
        return ()
    ids = set(logical_ids)
    out: list[str] = []
    for rule in rules:
        for term in parse_rule(rule):
            if term.lower() in KEYWORDS or "::" in term:
                continue
            if not any(fnmatch.fnmatchcase(i, term) for i in ids):
                out.append(f"protected: {term!r} is no keyword and matches no resource")
    return tuple(out)


def _item(
    plan: StackPlan,
    subject: str,
    rule_id: str,
    label: str,
    reason: str,
    change: ResourceChange | None = None,
) -> ApprovalItem:
    """An approval item with its stable id (stack, subject, rule, change kind, paths)."""
    if change is not None:
        kind = f"{change.action}:{change.replacement}"
        paths = ",".join(change.replaced_by)
    else:
        kind, paths = str(plan.action), reason
    return ApprovalItem(
        subject,
        label,
        reason,
        rule_id=rule_id,
        id="|".join((plan.name, subject, rule_id, kind, paths)),
    )


def assess(
    plan: StackPlan,
    protected: bool | Sequence[str],
    *,
    project: ProjectProtection | None = DEFAULT_PROJECT_PROTECTION,
    termination_protection: bool = False,
    logical_ids: Iterable[str] | None = None,
) -> ProtectionVerdict:
    """Which changes in ``plan`` need approval, given the stack's ``protected`` setting.

    ``termination_protection`` is the deployed stack's; ``logical_ids`` (every resource in
    either template) lets rules that match nothing be reported as warnings.
    """
    project = project or ProjectProtection(rules=(), deletion=False)
    items: list[ApprovalItem] = []
    if protected is True:
        label = "protected: true"
        if plan.action in (StackAction.CREATE, StackAction.RECREATE, StackAction.DELETE):
            items.append(_item(plan, "stack", RULE_PROTECTED, label, f"{plan.action} stack"))
        elif plan.has_changes:
            for change in plan.resources:
                items.append(
                    _item(plan, change.logical_id, RULE_PROTECTED, label, _describe(change), change)
                )
            for part in _stack_level(plan):
                items.append(_item(plan, "stack", RULE_PROTECTED, label, f"changes {part}"))
        own_rules: tuple[str, ...] = ()
    else:
        own_rules = tuple(protected) if protected else ()
        if plan.action is StackAction.DELETE and own_rules:
            label = "protected: " + ", ".join(own_rules)
            items.append(_item(plan, "stack", RULE_PROTECTED, label, "delete stack"))
        if plan.action in (StackAction.CREATE, StackAction.RECREATE) and any(
            "create" in {t.lower() for t in parse_rule(r)} and len(parse_rule(r)) == 1
            for r in own_rules
        ):
            items.append(
                _item(
                    plan, "stack", "protected:create", "protected: create", f"{plan.action} stack"
                )
            )
    if plan.action is StackAction.DELETE and termination_protection and project.deletion:
        items.append(
            _item(
                plan,
                "stack",
                RULE_TERMINATION_PROTECTION,
                "termination protection",
                "delete a terminate-protected stack",
            )
        )
    rule_sources = [(r, f"protected:{r}", f"protected: {r}") for r in own_rules]
    rule_sources += [(r, f"project:{r}", f"project: {r}") for r in project.rules]
    if rule_sources and protected is not True:
        for change in plan.resources:
            hit = next(((i, lbl) for rule, i, lbl in rule_sources if matches(rule, change)), None)
            if hit is not None:
                items.append(
                    _item(plan, change.logical_id, hit[0], hit[1], _describe(change), change)
                )
    all_rules = (("true",) if protected is True else own_rules) + tuple(
        f"project: {r}" for r in project.rules
    )
    return ProtectionVerdict(
        items=tuple(items),
        rules=all_rules,
        warnings=_warnings(own_rules, logical_ids),
    )


def merge_protection(
    configured: bool | Sequence[str], deployed: bool | Sequence[str]
) -> bool | tuple[str, ...]:
    """The protection in force: the config's and the one recorded on the deployed stack.

    Removing ``protected`` from the config does not lift it for the run that removes it: the
    deployed stack's record still holds until a reviewed change has landed.
    """
    if configured is True or deployed is True:
        return True
    rules = tuple(configured or ()) + tuple(
        r for r in deployed or () if r not in (configured or ())
    )
    return rules or False
