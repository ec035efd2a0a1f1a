"""``SecretsKey``: the one KMS key that encrypts a namespace's secrets in SSM.

One symmetric key with yearly rotation and the alias ``alias/<namespace>/secrets``.
Its key policy has two statements:

``AdministerKey``
    The account (its IAM policies decide who) may manage the key -- describe,
    enable, disable, tag, rotate, change the policy, schedule deletion -- but not
    use it for cryptography and not create grants.
``UseThroughSsmOnly``
    Principals of the account may encrypt and decrypt with the key only through
    SSM in this region (``kms:ViaService``) and only for parameters under
    ``/<namespace>/`` (SSM's encryption context ``PARAMETER_ARN``). Each role
    still needs its own IAM policy (see :mod:`stackyard.secrets.policy`).

The key and alias are retained when the stack is deleted or the key replaced:
losing the key would lose every secret.

Outputs: ``KeyArn``, ``KeyId``, ``AliasName``.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Sub, kms

from stackyard.blueprints.base import Blueprint
from stackyard.errors import VariableError
from stackyard.secrets.paths import SecretPathError, key_alias
from stackyard.secrets.policy import ENCRYPTION_CONTEXT_KEY

__all__ = ["ADMIN_ACTIONS", "USE_ACTIONS", "SecretsKey"]

#: What the account may do to manage the key; no cryptography, no grants.
ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
#: What SSM does with the key on a principal's behalf (GenerateDataKey: advanced parameters).
USE_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")


class SecretsKey(Blueprint):
    """One KMS key and alias per namespace for SSM SecureString secrets."""

    VARIABLES = {
        "Namespace": {
            "type": str,
            "default": "",
            "description": "Namespace whose secrets the key encrypts (default: the run's).",
        },
        "AdminArns": {
            "type": list,
            "default": [],
            "description": "More principals (ARNs) that may administer the key.",
        },
        "PendingWindowInDays": {
            "type": int,
            "default": 30,
            "description": "Days between scheduling the key's deletion and deleting it.",
        },
    }

    def namespace(self) -> str:
        """The namespace: the ``Namespace`` variable, else the run's namespace."""
        value = self.get_variables()["Namespace"] or getattr(self.context, "namespace", "")
        if not value:
            raise VariableError(
                "blueprint SecretsKey needs a namespace",
                key="Namespace",
                stack=self.name,
                hint="set namespace: in the config, or the Namespace variable",
            )
        return str(value)

    def key_policy(self, namespace: str) -> Any:
        """The key policy (an awacs ``PolicyDocument``)."""
        from awacs.aws import (
            Action,
            Allow,
            AWSPrincipal,
            Condition,
            PolicyDocument,
            Statement,
            StringEquals,
            StringLike,
        )

        def actions(names: tuple[str, ...]) -> list[Any]:
            return [Action(*name.split(":", 1)) for name in names]

        root = Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
        admins = [root, *self.get_variables()["AdminArns"]]
        parameters = Sub(
            f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{namespace}/*"
        )
        return PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Sid="AdministerKey",
                    Effect=Allow,
                    Principal=AWSPrincipal(admins),
                    Action=actions(ADMIN_ACTIONS),
                    Resource=["*"],
                ),
                Statement(
                    Sid="UseThroughSsmOnly",
                    Effect=Allow,
                    Principal=AWSPrincipal(root),
                    Action=actions(USE_ACTIONS),
                    Resource=["*"],
                    Condition=Condition(
                        [
                            StringEquals(
                                {
                                    "kms:ViaService": Sub("ssm.${AWS::Region}.amazonaws.com"),
                                    "kms:CallerAccount": Ref("AWS::AccountId"),
                                }
                            ),
                            StringLike(ENCRYPTION_CONTEXT_KEY, parameters),
                        ]
                    ),
                ),
            ],
        )

    def create_template(self) -> None:
        """The key, its alias, and the outputs."""
        namespace = self.namespace()
        try:
            alias_name = key_alias(namespace)
        except SecretPathError as exc:
            raise VariableError(
                f"blueprint SecretsKey: {exc.message}",
                key="Namespace",
                stack=self.name,
                hint=exc.hint,
            ) from exc
        variables = self.get_variables()
        key = self.template.add_resource(
            kms.Key(
                "Key",
                Description=f"Secrets of namespace {namespace} (SSM SecureString parameters)",
                Enabled=True,
                EnableKeyRotation=True,
                KeySpec="SYMMETRIC_DEFAULT",
                KeyUsage="ENCRYPT_DECRYPT",
                PendingWindowInDays=variables["PendingWindowInDays"],
                KeyPolicy=self.key_policy(namespace),
                DeletionPolicy="Retain",
                UpdateReplacePolicy="Retain",
            )
        )
        alias = self.template.add_resource(
            kms.Alias(
                "Alias",
                AliasName=alias_name,
                TargetKeyId=Ref(key),
                DeletionPolicy="Retain",
                UpdateReplacePolicy="Retain",
            )
        )
        self.add_output("KeyArn", GetAtt(key, "Arn"))
        self.add_output("KeyId", Ref(key))
        self.add_output("AliasName", Ref(alias))
