"""Least-privilege IAM statements that let a role read secrets at given paths, and nothing else.

For path patterns such as ``/acme/web/*`` and ``/acme/shared/DB_URL``,
:func:`secret_read_statements` returns three statements (awacs objects):

``ReadSecrets``
    ``ssm:GetParameter`` and ``ssm:GetParameters`` on exactly the parameter
    ARNs of the patterns.
``ListSecretPaths``
    ``ssm:GetParametersByPath`` on the path of each prefix pattern (one ending
    in ``/*``) and the paths below it. Exact names get no listing: listing a
    path returns every parameter in it, which would widen the grant. Left out
    when no pattern is a prefix.
``DecryptSecrets``
    ``kms:Decrypt`` on the one secrets key, only through SSM
    (``kms:ViaService``) and only for those parameters (SSM's encryption
    context ``PARAMETER_ARN``).

Region, account and partition may be CloudFormation pseudo parameters
(``${AWS::Region}``); the ARNs then become ``Fn::Sub`` values.
:class:`SecretsAccessMixin` gives a role blueprint the ``secrets`` variable.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from stackyard.blueprints.base import Blueprint
from stackyard.errors import VariableError
from stackyard.secrets.paths import (
    SecretPathError,
    parameter_arn,
    path_prefix,
    validate_patterns,
)

__all__ = [
    "ENCRYPTION_CONTEXT_KEY",
    "SECRETS_POLICY_NAME",
    "SecretsAccessMixin",
    "declared_patterns",
    "secret_read_policy",
    "secret_read_statements",
    "via_service",
]

#: The name of the inline policy the mixin adds; the audit reads declared paths from it.
SECRETS_POLICY_NAME = "stackyard-secrets"
#: The condition key of SSM's encryption context: the parameter's ARN.
ENCRYPTION_CONTEXT_KEY = "kms:EncryptionContext:PARAMETER_ARN"


def via_service(region: str) -> str:
    """The ``kms:ViaService`` value of SSM in ``region``."""
    return f"ssm.{region}.amazonaws.com"


def _value(text: str) -> Any:
    """``text``, or ``Fn::Sub`` of it when it holds ``${...}`` pseudo parameters."""
    if "${" in text:
        from troposphere import Sub

        return Sub(text)
    return text


def secret_read_statements(
    paths: Iterable[str],
    key_arn: Any,
    region: str,
    account: str,
    namespace: str | None,
    *,
    partition: str = "aws",
) -> list[Any]:
    """awacs ``Statement``s granting read access to the secrets at ``paths``, nothing more.

    ``key_arn`` is the secrets key's ARN (a string or a CloudFormation value such
    as ``Ref``/``ImportValue``). Raises :class:`~stackyard.secrets.paths.SecretPathError`
    for a malformed pattern or one outside ``/namespace/``; returns [] for no paths.
    """
    from awacs import kms, ssm
    from awacs.aws import Allow, Condition, Statement, StringEquals, StringLike

    patterns = validate_patterns(paths, namespace)
    if not patterns:
        return []
    if not key_arn:
        raise SecretPathError(
            "reading secrets needs the secrets key's ARN",
            hint="pass the KeyArn output of the secrets key stack",
        )
    arns = [_value(parameter_arn(p, region, account, partition)) for p in patterns]
    statements = [
        Statement(
            Sid="ReadSecrets",
            Effect=Allow,
            Action=[ssm.GetParameter, ssm.GetParameters],
            Resource=arns,
        )
    ]
    prefixes = [prefix for p in patterns if (prefix := path_prefix(p)) is not None]
    if prefixes:
        listed: list[Any] = []
        for prefix in prefixes:
            listed.append(_value(parameter_arn(prefix, region, account, partition)))
            listed.append(_value(parameter_arn(prefix + "/*", region, account, partition)))
        statements.append(
            Statement(
                Sid="ListSecretPaths",
                Effect=Allow,
                Action=[ssm.GetParametersByPath],
                Resource=listed,
            )
        )
    statements.append(
        Statement(
            Sid="DecryptSecrets",
            Effect=Allow,
            Action=[kms.Decrypt],
            Resource=[key_arn],
            Condition=Condition(
                [
                    StringEquals("kms:ViaService", _value(via_service(region))),
                    StringLike(ENCRYPTION_CONTEXT_KEY, arns),
                ]
            ),
        )
    )
    return statements


def secret_read_policy(
    paths: Iterable[str],
    key_arn: Any,
    region: str,
    account: str,
    namespace: str | None,
    *,
    partition: str = "aws",
) -> Any:
    """An awacs ``PolicyDocument`` of :func:`secret_read_statements`."""
    from awacs.aws import PolicyDocument

    statements = secret_read_statements(
        paths, key_arn, region, account, namespace, partition=partition
    )
    return PolicyDocument(Version="2012-10-17", Statement=statements)


def declared_patterns(document: Mapping[str, Any]) -> list[str]:
    """The path patterns a generated policy was made from (read back from ``ReadSecrets``)."""
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, Mapping) or statement.get("Sid") != "ReadSecrets":
            continue
        resources = statement.get("Resource", [])
        result = []
        for arn in [resources] if isinstance(resources, str) else resources:
            _, sep, name = str(arn).partition(":parameter/")
            if sep:
                result.append("/" + name)
        return sorted(result)
    return []


class SecretsAccessMixin(Blueprint):
    """A role blueprint that reads secrets: adds the ``secrets`` and ``secrets_key_arn``
    variables and :meth:`secrets_policy`, an inline policy for the role's ``Policies``::

        class TaskRole(SecretsAccessMixin, Blueprint):
            def create_template(self):
                policies = [p for p in [self.secrets_policy()] if p]
                self.template.add_resource(iam.Role("Role", ..., Policies=policies))
    """

    SECRETS_VARIABLES: dict[str, dict[str, Any]] = {
        "secrets": {
            "type": list,
            "default": [],
            "description": "Secret path patterns this role may read, e.g. /ns/app/*.",
        },
        "secrets_key_arn": {
            "type": str,
            "default": "",
            "description": "ARN of the namespace's secrets key (KeyArn of the key stack).",
        },
    }

    def defined_variables(self) -> dict[str, dict[str, Any]]:
        """The blueprint's own variables plus ``secrets`` and ``secrets_key_arn``."""
        variables = super().defined_variables()
        for name, definition in self.SECRETS_VARIABLES.items():
            variables.setdefault(name, copy.deepcopy(definition))
        return variables

    def secrets_policy(self, policy_name: str = SECRETS_POLICY_NAME) -> Any:
        """A troposphere ``iam.Policy`` for the ``secrets`` paths, or None if there are none."""
        from troposphere import iam

        variables = self.get_variables()
        paths = variables.get("secrets") or []
        if not paths:
            return None
        namespace = getattr(self.context, "namespace", "") or None
        try:
            if not all(isinstance(p, str) for p in paths):
                raise SecretPathError("secrets must be a list of path strings")
            document = secret_read_policy(
                paths,
                variables.get("secrets_key_arn") or "",
                "${AWS::Region}",
                "${AWS::AccountId}",
                namespace,
                partition="${AWS::Partition}",
            )
        except SecretPathError as exc:
            key = "secrets_key_arn" if "key" in exc.message else "secrets"
            raise VariableError(
                f"blueprint {type(self).__qualname__}: variable {key!r}: {exc.message}",
                key=key,
                stack=self.name,
                hint=exc.hint,
            ) from exc
        return iam.Policy(PolicyName=policy_name, PolicyDocument=document)
