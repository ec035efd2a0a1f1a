"""WAFv2 web ACLs and IP sets made by a stack live in moto's WAFv2 backend, so the wafv2 API
(``GetWebACL``, ``ListIPSets``...) sees them, as it would on AWS.

moto has no CloudFormation model for WAFv2; these functions create, update and delete through
its backend. The physical id is ``NAME|ID|SCOPE`` and the attributes ``Arn`` and ``Id`` (and for
a web ACL ``LabelNamespace`` and ``Capacity``), as CloudFormation answers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["WAF_TYPES", "create", "delete", "update"]

WAF_TYPES = frozenset({"AWS::WAFv2::WebACL", "AWS::WAFv2::IPSet"})


def _backend(account_id: str, region: str, scope: str) -> Any:
    from moto.wafv2.models import GLOBAL_REGION, wafv2_backends

    return wafv2_backends[account_id][GLOBAL_REGION if scope == "CLOUDFRONT" else region]


def _tags(properties: Mapping[str, Any]) -> list[dict[str, str]]:
    return [t for t in properties.get("Tags") or [] if isinstance(t, dict)]


def create(
    resource_type: str, name: str, properties: Mapping[str, Any], region: str, account_id: str
) -> tuple[str, dict[str, Any]]:
    """Create the resource in moto's WAFv2; return its physical id and attributes."""
    scope = str(properties.get("Scope", "REGIONAL"))
    backend = _backend(account_id, region, scope)
    if resource_type == "AWS::WAFv2::IPSet":
        ip_set = backend.create_ip_set(
            name=name,
            scope=scope,
            description=str(properties.get("Description") or ""),
            ip_address_version=str(properties.get("IPAddressVersion", "IPV4")),
            addresses=list(properties.get("Addresses") or []),
            tags=_tags(properties),
        )
        return f"{name}|{ip_set.ip_set_id}|{scope}", {"Arn": ip_set.arn, "Id": ip_set.ip_set_id}
    acl = backend.create_web_acl(
        name=name,
        visibility_config=dict(properties.get("VisibilityConfig") or {}),
        default_action=dict(properties.get("DefaultAction") or {}),
        scope=scope,
        description=str(properties.get("Description") or ""),
        tags=_tags(properties),
        rules=list(properties.get("Rules") or []),
        association_config=properties.get("AssociationConfig"),
        captcha_config=properties.get("CaptchaConfig"),
        challenge_config=properties.get("ChallengeConfig"),
        custom_response_bodies=properties.get("CustomResponseBodies"),
        token_domains=properties.get("TokenDomains"),
    )
    attributes = {
        "Arn": acl.arn,
        "Id": acl.id,
        "LabelNamespace": f"awswaf:{account_id}:webacl:{name}:",
        "Capacity": acl.capacity,
    }
    return f"{name}|{acl.id}|{scope}", attributes


def update(
    resource_type: str,
    physical_id: str,
    properties: Mapping[str, Any],
    region: str,
    account_id: str,
) -> None:
    """Apply new properties to the resource in place."""
    name, identifier, scope = physical_id.split("|", 2)
    backend = _backend(account_id, region, scope)
    if resource_type == "AWS::WAFv2::IPSet":
        current = backend.get_ip_set(name=name, scope=scope, _id=identifier)
        backend.update_ip_set(
            name=name,
            scope=scope,
            _id=identifier,
            description=properties.get("Description"),
            addresses=list(properties.get("Addresses") or []),
            lock_token=current.lock_token,
        )
        return
    acl = backend.get_web_acl(None, name, identifier)
    backend.update_web_acl(
        name=name,
        _id=identifier,
        default_action=properties.get("DefaultAction"),
        rules=list(properties.get("Rules") or []),
        description=properties.get("Description"),
        visibility_config=properties.get("VisibilityConfig"),
        lock_token=acl.lock_token,
        custom_response_bodies=properties.get("CustomResponseBodies"),
        captcha_config=properties.get("CaptchaConfig"),
        challenge_config=properties.get("ChallengeConfig"),
        token_domains=properties.get("TokenDomains"),
        association_config=properties.get("AssociationConfig"),
    )


def delete(resource_type: str, physical_id: str, region: str, account_id: str) -> None:
    """Delete the resource from moto's WAFv2 (one already gone counts as deleted)."""
    name, identifier, scope = physical_id.split("|", 2)
    backend = _backend(account_id, region, scope)
    try:
        if resource_type == "AWS::WAFv2::IPSet":
            current = backend.get_ip_set(name=name, scope=scope, _id=identifier)
            backend.delete_ip_set(name, scope, identifier, current.lock_token)
        else:
            acl = backend.get_web_acl(None, name, identifier)
            backend.delete_web_acl(name, scope, identifier, acl.lock_token)
    except Exception as exc:
        if "Nonexistent" not in type(exc).__name__:
            raise
