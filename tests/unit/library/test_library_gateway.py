"""gateway.LoadBalancer: ALB, security group, target group, HTTP or HTTPS listeners."""

from __future__ import annotations

import pytest

from stackyard.errors import VariableError
from stackyard.library.gateway import LoadBalancer

NET = {
    "VpcId": "vpc-0123456789abcdef0",
    "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"


def test_http_gateway(render) -> None:
    r = render(LoadBalancer, NET)
    alb = r.one("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Scheme"] == "internet-facing" and alb["Type"] == "application"
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"
    listener = r.one("AWS::ElasticLoadBalancingV2::Listener")
    assert listener["Port"] == 80 and listener["DefaultActions"][0]["Type"] == "forward"
    ports = {rule["FromPort"] for rule in r.one("AWS::EC2::SecurityGroup")["SecurityGroupIngress"]}
    assert ports == {80}
    assert {
        "LoadBalancerArn",
        "DNSName",
        "CanonicalHostedZoneId",
        "SecurityGroupId",
        "TargetGroupArn",
    } <= set(r.outputs)
    assert r.lint_errors() == []


def test_https_gateway_redirects_http(render) -> None:
    r = render(LoadBalancer, {**NET, "CertificateArn": CERT, "IngressCidrs": ["0.0.0.0/0", "::/0"]})
    listeners = r.of_type("AWS::ElasticLoadBalancingV2::Listener")
    assert listeners["HttpsListener"]["Properties"]["Certificates"] == [{"CertificateArn": CERT}]
    assert listeners["HttpListener"]["Properties"]["DefaultActions"][0]["Type"] == "redirect"
    ingress = r.one("AWS::EC2::SecurityGroup")["SecurityGroupIngress"]
    assert {(rule["FromPort"], rule.get("CidrIp", rule.get("CidrIpv6"))) for rule in ingress} == {
        (80, "0.0.0.0/0"),
        (443, "0.0.0.0/0"),
        (80, "::/0"),
        (443, "::/0"),
    }
    assert r.lint_errors() == []


def test_bad_ingress_cidr_is_refused(render) -> None:
    with pytest.raises(VariableError, match="IngressCidrs"):
        render(LoadBalancer, {**NET, "IngressCidrs": ["0.0.0.0/33"]})
