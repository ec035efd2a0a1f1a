"""Risk grading: each resource change is *destructive*, *security* or *routine*.

*Destructive* is a removal or a (possible) replacement; it is worse for types that hold
data (``data/stateful_types.json``). *Security* is a change that grants more than before:
IAM statements with new actions, resources, principals or wildcards; a Deny removed; a
managed policy attached; an ingress rule wider than any before (to ``0.0.0.0/0`` or
``::/0`` above all). Narrowing (a statement removed, a rule tightened) is not broadening.

Where permissions live in each type is data too (``data/security_properties.json``);
policy documents are compared as sets of statements, with strings and one-item lists
alike, so reordering or reformatting a policy is no change.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from stackyard.plan.model import ChangeAction, Replacement, Risk, RiskKind, SecurityChange

__all__ = [
    "WORLD",
    "destructive_risks",
    "grade",
    "is_stateful",
    "normalise_policy",
    "policies_equal",
    "security_changes",
    "security_locations",
    "stateful_types",
]

WORLD = frozenset({"0.0.0.0/0", "::/0"})
_RETAINED = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})


@functools.cache
def _data(name: str) -> dict[str, Any]:
    text = resources.files("stackyard.plan").joinpath("data", name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def stateful_types() -> tuple[str, ...]:
    """The patterns of resource types that hold data."""
    return tuple(_data("stateful_types.json")["types"])


@functools.cache  # a plan asks about the same few types for every resource
def is_stateful(resource_type: str) -> bool:
    """True when ``resource_type`` holds data that removal or replacement loses."""
    return any(fnmatch.fnmatchcase(resource_type, p) for p in stateful_types())


def security_locations(resource_type: str) -> Mapping[str, tuple[str, ...]]:
    """Where ``resource_type`` keeps permissions: kind → property paths (may be empty)."""
    found = _data("security_properties.json")["types"].get(resource_type, {})
    return {kind: tuple(paths) for kind, paths in found.items()}


# --- destructive ----------------------------------------------------------------------------


def destructive_risks(
    action: ChangeAction,
    replacement: Replacement,
    resource_type: str,
    *,
    deletion_policy: str | None = None,
    update_replace_policy: str | None = None,
) -> tuple[Risk, ...]:
    """The destructive risk of removing or replacing a resource, if any."""
    stateful = is_stateful(resource_type)
    if action is ChangeAction.REMOVE:
        text = "deleted"
        if deletion_policy in _RETAINED:
            text = f"removed from the stack (DeletionPolicy {deletion_policy} keeps it)"
        elif stateful:
            text = "deleted with its data"
        return (Risk(RiskKind.DESTRUCTIVE, text, stateful),)
    if replacement is Replacement.FALSE or action is ChangeAction.ADD:
        return ()
    text = "replaced" if replacement is Replacement.TRUE else "may be replaced"
    text += " by a new physical resource"
    if update_replace_policy in _RETAINED:
        text += f" (UpdateReplacePolicy {update_replace_policy} keeps the old one)"
    elif stateful:
        text += ": its data is lost"
    return (Risk(RiskKind.DESTRUCTIVE, text, stateful),)


# --- selecting values by property path ------------------------------------------------------


def _select(node: Any, path: str) -> Iterator[Any]:
    """Values at ``path`` ('/'-separated, '*' for every list item; '' is ``node``)."""
    segments = [s for s in path.split("/") if s]

    def walk(value: Any, rest: list[str]) -> Iterator[Any]:
        if not rest:
            yield value
            return
        head, tail = rest[0], rest[1:]
        if head == "*":
            if isinstance(value, list):
                for item in value:
                    yield from walk(item, tail)
        elif isinstance(value, Mapping) and head in value:
            yield from walk(value[head], tail)

    yield from walk(node, segments)


def _token(value: Any) -> str:
    """A comparable text for a value: strings as they are, intrinsics as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(_token(v) for v in value)
    return (_token(value),)


# --- policy documents -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: bool
    resources: tuple[str, ...]
    not_resources: bool
    principals: tuple[str, ...]
    not_principals: bool
    condition: str | None

    def grants(self) -> Iterator[tuple[str, str, str, str | None]]:
        """(principal, action, resource, condition) tuples, negations as one broad token."""
        actions = (f"NOT({','.join(self.actions)})",) if self.not_actions else self.actions
        res = (f"NOT({','.join(self.resources)})",) if self.not_resources else self.resources
        princ = (f"NOT({','.join(self.principals)})",) if self.not_principals else self.principals
        for p, a, r in itertools.product(princ, actions, res):
            yield p, a, r, self.condition


def _principals(value: Any) -> tuple[str, ...]:
    if value is None:
        return ("(identity)",)
    if value == "*":
        return ("*",)
    if isinstance(value, Mapping):
        out = [f"{kind}:{v}" for kind, vs in value.items() for v in _strings(vs)]
        return tuple(sorted(out))
    return tuple(sorted(_strings(value)))


def _parse_document(document: Any) -> Mapping[str, Any] | None:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if isinstance(document, Mapping) and "Statement" in document:
        return document
    return None


def _statements(document: Any) -> tuple[_Statement, ...] | None:
    """The statements of a policy document, or None when it is not literal JSON."""
    parsed = _parse_document(document)
    if parsed is None:
        return None
    raw = parsed["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    out: list[_Statement] = []
    for item in items:
        if not isinstance(item, Mapping):
            return None
        cond = item.get("Condition")
        out.append(
            _Statement(
                effect=str(item.get("Effect", "Allow")),
                actions=tuple(sorted(_strings(item.get("Action", item.get("NotAction"))))),
                not_actions="NotAction" in item,
                resources=tuple(
                    sorted(_strings(item.get("Resource", item.get("NotResource"))) or ("(self)",))
                ),
                not_resources="NotResource" in item,
                principals=_principals(item.get("Principal", item.get("NotPrincipal"))),
                not_principals="NotPrincipal" in item,
                condition=None if cond is None else _token(cond),
            )
        )
    return tuple(out)


def normalise_policy(document: Any) -> Any:
    """A policy document as a comparable value: its statement set (Sids ignored)."""
    statements = _statements(document)
    if statements is None:
        return ("opaque", _token(document))
    return frozenset(statements)


def policies_equal(before: Any, after: Any) -> bool:
    """True when two policy documents grant the same (statement order and list form aside)."""
    return bool(normalise_policy(before) == normalise_policy(after))


def _matches(pattern: str, value: str) -> bool:
    if pattern == value:
        return True
    if pattern.startswith("NOT(") or value.startswith("NOT("):
        return False
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _covered(grant: tuple[str, str, str, str | None], old: Iterable[_Statement]) -> bool:
    principal, action, resource, condition = grant
    for stmt in old:
        if stmt.effect != "Allow":
            continue
        for o_principal, o_action, o_resource, o_condition in stmt.grants():
            if o_condition is not None and o_condition != condition:
                continue
            if (
                _matches(o_action, action)
                and _matches(o_resource, resource)
                and (o_principal in (principal, "*", "AWS:*"))
            ):
                return True
    return False


def _wild(token: str) -> bool:
    return "*" in token or token.startswith("NOT(")


def _broadening(stmt: _Statement, old: tuple[_Statement, ...]) -> list[str]:
    """Why an added Allow statement grants more than ``old`` did (empty when it does not)."""
    old_grants = [g for s in old if s.effect == "Allow" for g in s.grants()]
    seen = [{g[i] for g in old_grants} for i in range(3)]  # principals, actions, resources
    reasons: list[str] = []
    for grant in stmt.grants():
        if _covered(grant, old):
            continue
        principal, action, resource, _ = grant
        same_action = [g for g in old_grants if _matches(g[1], action)]
        same_resource = [g for g in same_action if _matches(g[2], resource)]
        if not old_grants:
            reasons.append(f"grants {action} on {resource} to {principal}")
        elif not same_action:
            reasons.append(f"action {action}")
        elif not same_resource:
            reasons.append(f"{action} on resource {resource}")
        elif not any(g[0] in (principal, "*") for g in same_resource):
            reasons.append(f"{action} for principal {principal}")
        else:
            reasons.append(f"{action} under a looser condition")
        for index, token in enumerate((principal, action, resource)):
            if _wild(token) and token not in seen[index]:
                reasons.append(f"wildcard {token}")
    return list(dict.fromkeys(reasons))


def _policy_changes(
    logical_id: str, before: tuple[Any, ...], after: tuple[Any, ...]
) -> list[SecurityChange]:
    old_parsed = [_statements(d) for d in before]
    new_parsed = [_statements(d) for d in after]
    out: list[SecurityChange] = []
    if any(p is None for p in new_parsed) and [_token(d) for d in before] != [
        _token(d) for d in after
    ]:
        out.append(
            SecurityChange(
                "statement",
                "+",
                logical_id,
                broadening=True,
                reason="policy document is not literal JSON; review it by hand",
            )
        )
    old = tuple(s for p in old_parsed if p for s in p)
    new = tuple(s for p in new_parsed if p for s in p)
    old_set, new_set = set(old), set(new)
    for stmt in sorted(new_set - old_set, key=repr):
        reasons = _broadening(stmt, old) if stmt.effect == "Allow" else []
        out.append(_row(logical_id, "+", stmt, reasons))
    new_denies = [s for s in new if s.effect == "Deny"]
    for stmt in sorted(old_set - new_set, key=repr):
        reasons = []
        if stmt.effect == "Deny":
            still = all(
                any(g == ng for ns in new_denies for ng in ns.grants()) for g in stmt.grants()
            )
            if not still:
                reasons = ["Deny statement removed"]
        out.append(_row(logical_id, "-", stmt, reasons))
    return out


def _row(logical_id: str, sign: str, stmt: _Statement, reasons: list[str]) -> SecurityChange:
    def neg(flag: bool, items: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(f"NOT {i}" for i in items) if flag else items

    return SecurityChange(
        kind="statement",
        sign=sign,
        logical_id=logical_id,
        effect=stmt.effect,
        actions=neg(stmt.not_actions, stmt.actions),
        resources=neg(stmt.not_resources, stmt.resources),
        principals=neg(stmt.not_principals, stmt.principals),
        condition=stmt.condition,
        broadening=bool(reasons),
        reason="; ".join(reasons),
    )


# --- Lambda permissions --------------------------------------------------------------------


def _permission_documents(props: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """A Lambda permission as a one-statement policy, so it is graded like the others."""
    if not props:
        return ()
    condition: dict[str, Any] = {}
    for key in ("SourceArn", "SourceAccount", "PrincipalOrgID", "FunctionUrlAuthType"):
        if key in props:
            condition[key] = props[key]
    principal = props.get("Principal")
    stmt: dict[str, Any] = {
        "Effect": "Allow",
        "Action": props.get("Action"),
        "Resource": props.get("FunctionName"),
        "Principal": "*" if principal == "*" else {"AWS": principal},
    }
    if condition:
        stmt["Condition"] = condition
    return ({"Statement": [stmt]},)


# --- security-group ingress -----------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    protocol: str
    from_port: int
    to_port: int
    source: str

    def describe(self) -> str:
        if self.protocol == "-1":
            ports = "all traffic"
        elif self.from_port == self.to_port:
            ports = f"{self.protocol} {self.from_port}"
        else:
            ports = f"{self.protocol} {self.from_port}-{self.to_port}"
        return f"{ports} from {self.source}"


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _rule(raw: Any) -> _Rule | None:
    if not isinstance(raw, Mapping):
        return None
    protocol = _token(raw.get("IpProtocol", "-1")).lower()
    if protocol in ("all", "-1"):
        protocol = "-1"
    low, high = _int(raw.get("FromPort"), -1), _int(raw.get("ToPort"), -1)
    if protocol == "-1" or low == -1:
        low, high = 0, 65535
    for key in (
        "CidrIp",
        "CidrIpv6",
        "SourceSecurityGroupId",
        "SourceSecurityGroupName",
        "SourcePrefixListId",
    ):
        if key in raw:
            return _Rule(protocol, low, high, _token(raw[key]))
    return _Rule(protocol, low, high, "(unspecified)")


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _rule_covered(rule: _Rule, old: Iterable[_Rule]) -> bool:
    for o in old:
        if o.protocol not in ("-1", rule.protocol):
            continue
        if not (o.from_port <= rule.from_port and rule.to_port <= o.to_port):
            continue
        if o.source == rule.source:
            return True
        new_net, old_net = _network(rule.source), _network(o.source)
        if (
            new_net is not None
            and old_net is not None
            and new_net.version == old_net.version
            and new_net.subnet_of(old_net)  # type: ignore[arg-type]
        ):
            return True
    return False


def _ingress_changes(
    logical_id: str, before: tuple[Any, ...], after: tuple[Any, ...]
) -> list[SecurityChange]:
    old = {r for r in map(_rule, before) if r is not None}
    new = {r for r in map(_rule, after) if r is not None}
    out: list[SecurityChange] = []
    for rule in sorted(new - old, key=repr):
        reasons: list[str] = []
        if not _rule_covered(rule, old):
            reasons.append(f"ingress {rule.describe()}")
            if rule.source in WORLD:
                reasons.append("open to the world")
        out.append(_ingress_row(logical_id, "+", rule, reasons))
    for rule in sorted(old - new, key=repr):
        out.append(_ingress_row(logical_id, "-", rule, []))
    return out


def _ingress_row(logical_id: str, sign: str, rule: _Rule, reasons: list[str]) -> SecurityChange:
    ports = rule.describe().rsplit(" from ", 1)[0]
    return SecurityChange(
        kind="ingress",
        sign=sign,
        logical_id=logical_id,
        actions=(ports,),
        principals=(rule.source,),
        broadening=bool(reasons),
        reason="; ".join(reasons),
    )


# --- managed policies ----------------------------------------------------------------------


def _managed_changes(
    logical_id: str, before: tuple[Any, ...], after: tuple[Any, ...]
) -> list[SecurityChange]:
    def arns(values: tuple[Any, ...]) -> set[str]:
        return {a for v in values for a in _strings(v)}

    old, new = arns(before), arns(after)
    rows = [
        SecurityChange(
            "managed-policy",
            "+",
            logical_id,
            resources=(arn,),
            broadening=True,
            reason=f"attaches managed policy {arn}",
        )
        for arn in sorted(new - old)
    ]
    rows += [
        SecurityChange("managed-policy", "-", logical_id, resources=(arn,))
        for arn in sorted(old - new)
    ]
    return rows


# --- putting it together --------------------------------------------------------------------


def _values(props: Mapping[str, Any] | None, paths: tuple[str, ...]) -> tuple[Any, ...]:
    if not props:
        return ()
    return tuple(v for p in paths for v in _select(props, p))


def security_changes(
    logical_id: str,
    resource_type: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> tuple[SecurityChange, ...]:
    """Permission rows that differ between two versions of a resource's ``Properties``."""
    out: list[SecurityChange] = []
    for kind, paths in security_locations(resource_type).items():
        if kind == "policies":
            out += _policy_changes(logical_id, _values(before, paths), _values(after, paths))
        elif kind == "permission":
            out += _policy_changes(
                logical_id, _permission_documents(before), _permission_documents(after)
            )
        elif kind == "managed_policies":
            out += _managed_changes(logical_id, _values(before, paths), _values(after, paths))
        elif kind == "ingress":
            out += _ingress_changes(logical_id, _values(before, paths), _values(after, paths))
    return tuple(out)


def grade(
    logical_id: str,
    resource_type: str,
    action: ChangeAction,
    replacement: Replacement,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> tuple[tuple[Risk, ...], tuple[SecurityChange, ...]]:
    """Risks and security rows of one resource change; ``before``/``after`` are whole
    resource definitions (``Type``, ``Properties``, ``DeletionPolicy``...), None if absent."""
    old = before or {}
    new = after or {}
    risks = list(
        destructive_risks(
            action,
            replacement,
            resource_type,
            deletion_policy=old.get("DeletionPolicy"),
            update_replace_policy=old.get("UpdateReplacePolicy"),
        )
    )
    rows = security_changes(
        logical_id,
        resource_type,
        old.get("Properties") if before is not None else None,
        new.get("Properties") if after is not None else None,
    )
    broadening = [r.reason for r in rows if r.broadening]
    if broadening:
        risks.append(Risk(RiskKind.SECURITY, "broadens access: " + "; ".join(broadening)))
    return tuple(risks), rows
