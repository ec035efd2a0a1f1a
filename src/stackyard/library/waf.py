"""A WAFv2 web ACL that blocks listed CIDRs, with optional AWS managed rule groups.

``waf.WebAcl`` makes an IP set of ``BlockedCidrs`` (one per IP version in
use), a regional web ACL whose first rule blocks them, optionally AWS's managed
rule groups against SQL injection (``AWSManagedRulesSQLiRuleSet``) and
cross-site scripting (the core rule set ``AWSManagedRulesCommonRuleSet``,
whose ``CrossSiteScripting_*`` rules cover XSS), and associates the ACL with a
load balancer (``ResourceArn``, e.g. ``${output gateway::LoadBalancerArn}``)::

    - name: waf
      class_path: stackyard.library.waf.WebAcl
      variables:
        ResourceArn: ${output gateway::LoadBalancerArn}
        BlockedCidrs: [198.51.100.0/24, 203.0.113.7/32, "2001:db8:bad::/48"]
        SqlInjectionProtection: true
        XssProtection: true

An invalid CIDR (``10.0.0.300/24``, or one with host bits set such as
``10.0.0.1/24``) is an error before anything is deployed.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from troposphere import GetAtt, wafv2

from stackyard.blueprints.base import Blueprint

__all__ = ["MANAGED_RULE_GROUPS", "WebAcl", "split_cidrs"]

#: Variable name to the AWS managed rule group it turns on.
MANAGED_RULE_GROUPS = {
    "SqlInjectionProtection": "AWSManagedRulesSQLiRuleSet",
    "XssProtection": "AWSManagedRulesCommonRuleSet",
}


def split_cidrs(cidrs: list[Any]) -> tuple[list[str], list[str]]:
    """``(ipv4, ipv6)`` CIDRs, normalised and de-duplicated; ``ValueError`` on a bad one."""
    v4: list[str] = []
    v6: list[str] = []
    for cidr in cidrs:
        text = str(cidr)
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid CIDR ({exc})") from None
        target = v4 if network.version == 4 else v6
        if str(network) not in target:
            target.append(str(network))
    return v4, v6


def _validate_cidrs(value: Any) -> Any:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of CIDRs, got {type(value).__name__}")
    split_cidrs(value)
    return value


def _visibility(metric: str) -> wafv2.VisibilityConfig:
    return wafv2.VisibilityConfig(
        CloudWatchMetricsEnabled=True,
        MetricName=re.sub(r"[^A-Za-z0-9_-]", "-", metric)[:128],
        SampledRequestsEnabled=True,
    )


class WebAcl(Blueprint):
    """IP set(s) of blocked CIDRs, a regional web ACL, and its load balancer association."""

    VARIABLES = {
        "BlockedCidrs": {
            "type": list,
            "validator": _validate_cidrs,
            "description": "IPv4 and IPv6 CIDRs to block (a single address is /32 or /128).",
        },
        "SqlInjectionProtection": {
            "type": bool,
            "default": True,
            "description": "Add AWS's managed SQL injection rule group.",
        },
        "XssProtection": {
            "type": bool,
            "default": True,
            "description": "Add AWS's core rule set, which blocks cross-site scripting.",
        },
        "ResourceArn": {
            "type": str,
            "default": "",
            "description": "ARN of the load balancer to protect; no association if empty.",
        },
    }

    def create_template(self) -> None:
        v = self.get_variables()
        t = self.template
        name = self.context.get_fqn(self.name)
        v4, v6 = split_cidrs(v["BlockedCidrs"])
        if not v4 and not v6:
            raise ValueError("BlockedCidrs: name at least one CIDR")
        t.set_description(f"WAF web ACL {name}: {len(v4) + len(v6)} blocked CIDRs")
        rules: list[Any] = []
        for version, addresses in (("IPV4", v4), ("IPV6", v6)):
            if not addresses:
                continue
            suffix = "" if version == "IPV4" else "V6"
            ip_set = t.add_resource(
                wafv2.IPSet(
                    f"BlockedIpSet{suffix}",
                    Name=f"{name}-blocked{suffix.lower()}",
                    Description="Blocked CIDRs",
                    Scope="REGIONAL",
                    IPAddressVersion=version,
                    Addresses=addresses,
                )
            )
            rules.append(
                wafv2.WebACLRule(
                    Name=f"block-listed-{version.lower()}",
                    Priority=len(rules),
                    Action=wafv2.RuleAction(Block=wafv2.BlockAction()),
                    Statement=wafv2.Statement(
                        IPSetReferenceStatement=wafv2.IPSetReferenceStatement(
                            Arn=GetAtt(ip_set, "Arn")
                        )
                    ),
                    VisibilityConfig=_visibility(f"{name}-blocked-{version.lower()}"),
                )
            )
            self.add_output(f"BlockedIpSet{suffix}Arn", GetAtt(ip_set, "Arn"))
        for variable, group in MANAGED_RULE_GROUPS.items():
            if not v[variable]:
                continue
            rules.append(
                wafv2.WebACLRule(
                    Name=group,
                    Priority=len(rules),
                    OverrideAction=wafv2.OverrideAction(**{"None": {}}),
                    Statement=wafv2.Statement(
                        ManagedRuleGroupStatement=wafv2.ManagedRuleGroupStatement(
                            VendorName="AWS", Name=group
                        )
                    ),
                    VisibilityConfig=_visibility(f"{name}-{group}"),
                )
            )
        acl = t.add_resource(
            wafv2.WebACL(
                "WebAcl",
                Name=name,
                Scope="REGIONAL",
                DefaultAction=wafv2.DefaultAction(Allow=wafv2.AllowAction()),
                Rules=rules,
                VisibilityConfig=_visibility(name),
            )
        )
        if v["ResourceArn"]:
            t.add_resource(
                wafv2.WebACLAssociation(
                    "WebAclAssociation", ResourceArn=v["ResourceArn"], WebACLArn=GetAtt(acl, "Arn")
                )
            )
        self.add_output("WebAclArn", GetAtt(acl, "Arn"))
        self.add_output("WebAclId", GetAtt(acl, "Id"))
        self.add_output("BlockedCidrCount", str(len(v4) + len(v6)))
