"""waf.WebAcl: IP sets of blocked CIDRs, managed rule groups, association, bad CIDRs."""

from __future__ import annotations

import pytest

from stackyard.errors import VariableError
from stackyard.library.waf import WebAcl

ALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/gw/50dc6c495c0c9188"


def test_ip_sets_hold_the_cidrs_and_the_acl_blocks_them(render) -> None:
    r = render(
        WebAcl,
        {
            "BlockedCidrs": [
                "198.51.100.0/24",
                "203.0.113.7/32",
                "2001:db8:bad::/48",
                "198.51.100.0/24",
            ],
            "ResourceArn": ALB,
        },
    )
    sets = r.of_type("AWS::WAFv2::IPSet")
    assert sets["BlockedIpSet"]["Properties"]["Addresses"] == ["198.51.100.0/24", "203.0.113.7/32"]
    assert sets["BlockedIpSet"]["Properties"]["IPAddressVersion"] == "IPV4"
    assert sets["BlockedIpSetV6"]["Properties"]["Addresses"] == ["2001:db8:bad::/48"]
    acl = r.one("AWS::WAFv2::WebACL")
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    assert rules["block-listed-ipv4"]["Action"] == {"Block": {}}
    assert rules["block-listed-ipv4"]["Statement"]["IPSetReferenceStatement"]["Arn"] == {
        "Fn::GetAtt": ["BlockedIpSet", "Arn"]
    }
    assert (
        rules["AWSManagedRulesSQLiRuleSet"]["Statement"]["ManagedRuleGroupStatement"]["VendorName"]
        == "AWS"
    )
    assert "AWSManagedRulesCommonRuleSet" in rules
    assert sorted(rule["Priority"] for rule in acl["Rules"]) == [0, 1, 2, 3]
    assoc = r.one("AWS::WAFv2::WebACLAssociation")
    assert assoc["ResourceArn"] == ALB
    assert {"WebAclArn", "BlockedIpSetArn"} <= set(r.outputs)
    assert r.lint_errors() == []


def test_managed_groups_are_optional_and_association_needs_an_arn(render) -> None:
    r = render(
        WebAcl,
        {"BlockedCidrs": ["192.0.2.0/24"], "SqlInjectionProtection": False, "XssProtection": False},
    )
    assert [rule["Name"] for rule in r.one("AWS::WAFv2::WebACL")["Rules"]] == ["block-listed-ipv4"]
    assert r.of_type("AWS::WAFv2::WebACLAssociation") == {}
    assert "BlockedIpSetV6" not in r.resources


@pytest.mark.parametrize("cidr", ["10.0.0.300/24", "10.0.0.1/24", "evil", "2001:db8::zz/64"])
def test_invalid_cidr_is_a_clear_message_before_deploy(render, cidr: str) -> None:
    with pytest.raises(VariableError, match="BlockedCidrs") as err:
        render(WebAcl, {"BlockedCidrs": ["192.0.2.0/24", cidr]})
    assert cidr in str(err.value)
