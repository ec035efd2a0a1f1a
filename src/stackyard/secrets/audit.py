"""Who can read which secret, from the IAM policies actually deployed.

A role can read a secret when its identity policies allow both
``ssm:GetParameter`` on the parameter's ARN and ``kms:Decrypt`` on the
parameter's key, in the request context SSM creates (``kms:ViaService`` of
SSM in the region, encryption context ``PARAMETER_ARN``). Policies are
evaluated by :mod:`stackyard.secrets.iam_eval`: inline and attached managed
policies, limited by a permissions boundary when the role has one. Key policies,
SCPs and session policies are not evaluated: the secrets key's policy delegates
to IAM for the account, which is what this audit looks at.

The report says, for every secret, which roles can read it; which secrets no
role can read; and for every role, what it declared (the paths of its
``stackyard-secrets`` policy), what it can read beyond that, and which
statements grant reading more broadly than the declared paths (``*``,
wildcards, ``NotAction``/``NotResource``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stackyard.secrets.iam_eval import (
    PolicyParseError,
    Request,
    Statement,
    arn_matches,
    evaluate,
    load_document,
    parse_policy,
    wildcard_match,
)
from stackyard.secrets.paths import parameter_arn
from stackyard.secrets.policy import (
    ENCRYPTION_CONTEXT_KEY,
    SECRETS_POLICY_NAME,
    declared_patterns,
    via_service,
)

__all__ = [
    "AuditReport",
    "RoleFinding",
    "RolePolicies",
    "SecretAccess",
    "SecretTarget",
    "audit",
    "load_roles",
    "run_audit",
]

READ_ACTIONS = ("ssm:GetParameter", "kms:Decrypt")


@dataclass(frozen=True)
class SecretTarget:
    """A secret to audit: its name, parameter ARN and the ARN of its key."""

    name: str
    arn: str
    key_arn: str


@dataclass(frozen=True)
class RolePolicies:
    """A role's identity policies, parsed; ``declared`` comes from its stackyard policy."""

    name: str
    arn: str
    statements: tuple[Statement, ...]
    declared: tuple[str, ...] = ()
    boundary: tuple[Statement, ...] | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecretAccess:
    """One secret and the roles that can read it."""

    name: str
    key_arn: str
    readers: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"name": self.name, "key": self.key_arn, "readers": list(self.readers)}


@dataclass(frozen=True)
class RoleFinding:
    """What one role declared, what it can read, and what it can read beyond that."""

    role: str
    arn: str
    declared: tuple[str, ...]
    reads: tuple[str, ...]
    undeclared: tuple[str, ...]
    broad: tuple[str, ...]

    @property
    def overreaches(self) -> bool:
        """True if the role can read more than it names."""
        return bool(self.undeclared or self.broad)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "role": self.role,
            "arn": self.arn,
            "declared": list(self.declared),
            "reads": list(self.reads),
            "undeclared": list(self.undeclared),
            "broad_grants": list(self.broad),
        }


@dataclass(frozen=True)
class AuditReport:
    """The audit's result; plain data for the table and ``--json``."""

    scope: str
    secrets: tuple[SecretAccess, ...]
    roles: tuple[RoleFinding, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def unreadable(self) -> tuple[str, ...]:
        """Secrets no role can read."""
        return tuple(s.name for s in self.secrets if not s.readers)

    @property
    def overreaching(self) -> tuple[RoleFinding, ...]:
        """Roles that can read more than they name."""
        return tuple(r for r in self.roles if r.overreaches)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (no secret values exist in a report)."""
        return {
            "scope": self.scope,
            "secrets": [s.as_dict() for s in self.secrets],
            "unreadable": list(self.unreadable),
            "roles": [r.as_dict() for r in self.roles],
            "overreaching": [r.role for r in self.overreaching],
            "notes": list(self.notes),
        }


def _allowed(role: RolePolicies, request: Request, notes: list[str]) -> bool:
    result = evaluate(role.statements, request)
    notes.extend(f"role {role.name}: {u}" for u in result.unknown)
    if not result.allowed:
        return False
    if role.boundary is not None:
        bounded = evaluate(role.boundary, request)
        notes.extend(f"role {role.name} boundary: {u}" for u in bounded.unknown)
        return bounded.allowed
    return True


def can_read(
    role: RolePolicies, secret: SecretTarget, region: str, account: str, notes: list[str]
) -> bool:
    """True if ``role`` may both get the parameter and have SSM decrypt it."""
    base: dict[str, Any] = {
        "aws:PrincipalArn": role.arn,
        "aws:PrincipalAccount": account,
        "aws:PrincipalType": "AssumedRole",
        "aws:RequestedRegion": region,
        "aws:SecureTransport": True,
    }
    get = Request("ssm:GetParameter", secret.arn, base)
    decrypt = Request(
        "kms:Decrypt",
        secret.key_arn,
        {
            **base,
            "kms:ViaService": via_service(region),
            "kms:CallerAccount": account,
            ENCRYPTION_CONTEXT_KEY: secret.arn,
            "kms:EncryptionContextKeys": ["PARAMETER_ARN"],
        },
    )
    return _allowed(role, get, notes) and _allowed(role, decrypt, notes)


def _broad_grants(
    role: RolePolicies, declared_arns: set[str], secret_arns: Sequence[str]
) -> list[str]:
    """Allow statements that grant reading secrets beyond the declared parameter ARNs:
    ``*``, wildcards or audited secrets the role did not declare, ``NotAction``, ``NotResource``.
    """
    found = []
    for statement in role.statements:
        if statement.effect != "Allow":
            continue
        if statement.not_actions is not None:
            excluded = all(
                any(wildcard_match(p, a, ignore_case=True) for p in statement.not_actions)
                for a in READ_ACTIONS
            )
            if not excluded:
                found.append(f"{statement.label}: NotAction {list(statement.not_actions)}")
            continue
        grants_get = any(
            wildcard_match(p, "ssm:GetParameter", ignore_case=True) for p in statement.actions
        )
        grants_decrypt = any(
            wildcard_match(p, "kms:Decrypt", ignore_case=True) for p in statement.actions
        )
        if not (grants_get or grants_decrypt):
            continue
        if statement.not_resources is not None:
            found.append(f"{statement.label}: NotResource {list(statement.not_resources)}")
            continue
        for resource in statement.resources:
            beyond = resource not in declared_arns and (
                "*" in resource
                or "?" in resource
                or any(arn_matches(resource, arn) for arn in secret_arns)
            )
            if grants_get and (resource == "*" or ":ssm:" in resource) and beyond:
                found.append(f"{statement.label}: ssm:GetParameter on {resource}")
            elif grants_decrypt and resource == "*" and not statement.conditions:
                found.append(f"{statement.label}: kms:Decrypt on * without conditions")
    return found


def audit(
    secrets: Sequence[SecretTarget],
    roles: Sequence[RolePolicies],
    region: str,
    account: str,
    scope: str = "/",
) -> AuditReport:
    """The audit over already-loaded secrets and roles (no AWS calls)."""
    notes: list[str] = [n for role in roles for n in role.notes]
    readers: dict[str, list[str]] = {s.name: [] for s in secrets}
    findings = []
    for role in sorted(roles, key=lambda r: r.name):
        reads = [s.name for s in secrets if can_read(role, s, region, account, notes)]
        for name in reads:
            readers[name].append(role.name)
        declared_arns = {parameter_arn(p, region, account) for p in role.declared}
        undeclared = [
            name for name in reads if not any(wildcard_match(p, name) for p in role.declared)
        ]
        broad = _broad_grants(role, declared_arns, [s.arn for s in secrets])
        if reads or role.declared or broad:
            findings.append(
                RoleFinding(
                    role.name,
                    role.arn,
                    role.declared,
                    tuple(reads),
                    tuple(undeclared),
                    tuple(broad),
                )
            )
    return AuditReport(
        scope=scope,
        secrets=tuple(
            SecretAccess(s.name, s.key_arn, tuple(readers[s.name]))
            for s in sorted(secrets, key=lambda s: s.name)
        ),
        roles=tuple(findings),
        notes=tuple(dict.fromkeys(notes)),
    )


def _parse(document: Any, source: str, notes: list[str]) -> list[Statement]:
    try:
        return parse_policy(document, source)
    except PolicyParseError as exc:
        notes.append(f"{source}: cannot be read ({exc}); its grants are not counted")
        return []


def _declared(document: Any) -> list[str]:
    try:
        return declared_patterns(load_document(document))
    except PolicyParseError:
        return []


def load_roles(
    iam: Any,
    path_prefix: str = "/",
    *,
    policy_cache: dict[str, Any] | None = None,
) -> list[RolePolicies]:
    """Every role under ``path_prefix`` with its inline, managed and boundary policies."""
    cache: dict[str, Any] = policy_cache if policy_cache is not None else {}

    def managed(arn: str) -> Any:
        if arn not in cache:
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            cache[arn] = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"][
                "Document"
            ]
        return cache[arn]

    roles = []
    for page in iam.get_paginator("list_roles").paginate(PathPrefix=path_prefix):
        for summary in page.get("Roles", []):
            name = str(summary["RoleName"])
            notes: list[str] = []
            statements: list[Statement] = []
            declared: list[str] = []
            for names_page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
                for policy_name in names_page.get("PolicyNames", []):
                    document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)[
                        "PolicyDocument"
                    ]
                    statements += _parse(document, f"{name}/{policy_name}", notes)
                    if policy_name == SECRETS_POLICY_NAME:
                        declared = _declared(document)
            attached_pages = iam.get_paginator("list_attached_role_policies").paginate(
                RoleName=name
            )
            for attached_page in attached_pages:
                for attached in attached_page.get("AttachedPolicies", []):
                    statements += _parse(
                        managed(attached["PolicyArn"]), str(attached["PolicyName"]), notes
                    )
            boundary: tuple[Statement, ...] | None = None
            boundary_arn = (
                iam.get_role(RoleName=name)["Role"]
                .get("PermissionsBoundary", {})
                .get("PermissionsBoundaryArn")
            )
            if boundary_arn:
                boundary = tuple(_parse(managed(boundary_arn), f"boundary {boundary_arn}", notes))
            roles.append(
                RolePolicies(
                    name,
                    str(summary["Arn"]),
                    tuple(statements),
                    tuple(declared),
                    boundary,
                    tuple(notes),
                )
            )
    return roles


def run_audit(
    store: Any,
    prefix: str | None = None,
    role_path: str = "/",
) -> AuditReport:
    """Audit the secrets of ``store`` (a :class:`~stackyard.secrets.store.SecretStore`)
    under ``prefix`` against the roles under IAM path ``role_path``."""
    from stackyard.aws.errors import map_client_error
    from stackyard.errors import StackyardError

    scope = store.scope(prefix)
    infos = store.list_secrets(prefix)
    targets = [
        SecretTarget(info.name, store.parameter_arn(info.name), store.key_arn_of(info.key_id))
        for info in infos
    ]
    try:
        roles = load_roles(store.client("iam"), role_path)
    except StackyardError:
        raise
    except Exception as exc:
        raise map_client_error(exc, "reading IAM roles and policies") from exc
    return audit(targets, roles, store.region, store.account, scope)
