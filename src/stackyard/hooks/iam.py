"""stacker's ``iam`` hooks: the ECS service role, and a server certificate that must exist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["create_ecs_service_role", "ensure_server_cert_exists"]

_ECS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["ecs.amazonaws.com"]},
            "Action": ["sts:AssumeRole"],
        }
    ],
}
# What ECS needs to register container instances with classic and application load balancers.
_ECS_SERVICE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:Describe*",
                "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
                "elasticloadbalancing:Describe*",
                "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
                "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:RegisterTargets",
            ],
        }
    ],
}


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def create_ecs_service_role(
    *, context: Any = None, provider: Any, role_name: str = "ecsServiceRole", **_: Any
) -> bool:
    """The role ECS services use to reach load balancers, created (or kept) with its policy."""
    iam = provider.client("iam")
    try:
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(_ECS_TRUST))
    except Exception as exc:
        if _code(exc) != "EntityAlreadyExists":
            raise
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="AmazonEC2ContainerServiceRolePolicy",
        PolicyDocument=json.dumps(_ECS_SERVICE_POLICY),
    )
    return True


def _read(path: str | None, what: str) -> str | None:
    if not path:
        return None
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read the {what} at {path}: {exc.strerror}") from None


def ensure_server_cert_exists(
    *,
    context: Any = None,
    provider: Any,
    cert_name: str,
    path_to_certificate: str | None = None,
    path_to_private_key: str | None = None,
    path_to_chain: str | None = None,
    prompt: bool = True,
    **_: Any,
) -> dict[str, str] | bool:
    """``{"status": "exists"|"uploaded", "cert_name", "cert_arn"}``; a missing certificate is
    uploaded from the given files. stacker asked for the paths on a terminal; here they are
    arguments, and without them a missing certificate fails the hook (``prompt: false``
    makes it return False instead, as stacker did when told not to ask)."""
    iam = provider.client("iam")
    try:
        found = iam.get_server_certificate(ServerCertificateName=cert_name)
        meta = found["ServerCertificate"]["ServerCertificateMetadata"]
        return {"status": "exists", "cert_name": cert_name, "cert_arn": meta["Arn"]}
    except Exception as exc:
        if _code(exc) != "NoSuchEntity":
            raise
    body = _read(path_to_certificate, "certificate")
    key = _read(path_to_private_key, "private key")
    if body is None or key is None:
        if not prompt:
            return False
        raise ValueError(
            f"server certificate {cert_name} does not exist: give path_to_certificate and "
            "path_to_private_key (and path_to_chain) to upload it"
        )
    args = {"ServerCertificateName": cert_name, "CertificateBody": body, "PrivateKey": key}
    chain = _read(path_to_chain, "certificate chain")
    if chain:
        args["CertificateChain"] = chain
    meta = iam.upload_server_certificate(**args)["ServerCertificateMetadata"]
    return {"status": "uploaded", "cert_name": cert_name, "cert_arn": meta["Arn"]}
