"""The public gateway: an application load balancer, its security group, listener and target group.

``gateway.LoadBalancer`` is what the WAF protects (``waf.WebAcl`` takes its
``LoadBalancerArn``) and what DNS aliases point to (``DNSName`` and
``CanonicalHostedZoneId``). With a ``CertificateArn`` it listens on HTTPS and
redirects HTTP to HTTPS; without one it serves HTTP only. Requests go to one
target group of instances (ECS services register their tasks there). It drops
invalid header fields and, by default, refuses deletion.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from troposphere import GetAtt, Ref, Tags, ec2
from troposphere import elasticloadbalancingv2 as elbv2

from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.variables.types import EC2SubnetIdList, EC2VPCId

__all__ = ["LoadBalancer"]

_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def _cidrs(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise ValueError("expected a non-empty list of CIDRs")
    for cidr in value:
        try:
            ipaddress.ip_network(cidr, strict=True)
        except (ValueError, TypeError):
            raise ValueError(f"{cidr!r} is not a valid CIDR") from None
    return value


class LoadBalancer(Blueprint):
    """Application load balancer, security group, target group and listener(s)."""

    VARIABLES = {
        "VpcId": {"type": EC2VPCId, "description": "VPC of the load balancer."},
        "SubnetIds": {
            "type": EC2SubnetIdList,
            "description": "Subnets of the load balancer (public ones for an internet-facing one).",
        },
        "Internal": {
            "type": bool,
            "default": False,
            "description": "An internal load balancer instead of an internet-facing one.",
        },
        "IngressCidrs": {
            "type": list,
            "default": ["0.0.0.0/0"],
            "validator": _cidrs,
            "description": "Who may connect on ports 80 and 443.",
        },
        "CertificateArn": {
            "type": str,
            "default": "",
            "description": "ACM certificate; with one, HTTPS on 443 and HTTP redirects to it.",
        },
        "TargetPort": {
            "type": int,
            "default": 80,
            "description": "Port of the targets (ECS overrides it per registered task).",
        },
        "HealthCheckPath": {
            "type": str,
            "default": "/health",
            "description": "Path the target group checks.",
        },
        "IdleTimeout": {
            "type": int,
            "default": 60,
            "description": "Idle connection timeout in seconds.",
        },
        "DeletionProtection": {
            "type": bool,
            "default": True,
            "description": "Refuse to delete the load balancer until this is turned off.",
        },
    }

    def create_template(self) -> None:
        v = self.get_variables()
        t = self.template
        name = self.context.get_fqn(self.name)
        https = bool(v["CertificateArn"])
        ports = [80, 443] if https else [80]
        t.set_description(f"Application load balancer {name}")
        group = t.add_resource(
            ec2.SecurityGroup(
                "SecurityGroup",
                GroupDescription=f"{name} load balancer",
                VpcId=v["VpcId"].ref,
                SecurityGroupIngress=[
                    ec2.SecurityGroupRule(
                        IpProtocol="tcp",
                        FromPort=port,
                        ToPort=port,
                        **({"CidrIpv6": cidr} if ":" in cidr else {"CidrIp": cidr}),
                        Description=f"clients on {port}",
                    )
                    for cidr in v["IngressCidrs"]
                    for port in ports
                ],
                Tags=Tags(Name=f"{name}-alb"),
            )
        )
        balancer = t.add_resource(
            elbv2.LoadBalancer(
                "LoadBalancer",
                Type="application",
                Scheme="internal" if v["Internal"] else "internet-facing",
                Subnets=v["SubnetIds"].ref,
                SecurityGroups=[GetAtt(group, "GroupId")],
                LoadBalancerAttributes=[
                    elbv2.LoadBalancerAttributes(Key=key, Value=value)
                    for key, value in (
                        ("routing.http.drop_invalid_header_fields.enabled", "true"),
                        ("idle_timeout.timeout_seconds", str(v["IdleTimeout"])),
                        ("deletion_protection.enabled", str(v["DeletionProtection"]).lower()),
                    )
                ],
                Tags=Tags(Name=name),
            )
        )
        targets = t.add_resource(
            elbv2.TargetGroup(
                "TargetGroup",
                VpcId=v["VpcId"].ref,
                Port=v["TargetPort"],
                Protocol="HTTP",
                TargetType="instance",
                HealthCheckPath=v["HealthCheckPath"],
                HealthCheckIntervalSeconds=15,
                HealthyThresholdCount=2,
                UnhealthyThresholdCount=3,
                TargetGroupAttributes=[
                    elbv2.TargetGroupAttribute(
                        Key="deregistration_delay.timeout_seconds", Value="30"
                    )
                ],
            )
        )
        forward = elbv2.Action(Type="forward", TargetGroupArn=Ref(targets))
        if https:
            listener = t.add_resource(
                elbv2.Listener(
                    "HttpsListener",
                    LoadBalancerArn=Ref(balancer),
                    Port=443,
                    Protocol="HTTPS",
                    SslPolicy=_TLS_POLICY,
                    Certificates=[elbv2.Certificate(CertificateArn=v["CertificateArn"])],
                    DefaultActions=[forward],
                )
            )
            t.add_resource(
                elbv2.Listener(
                    "HttpListener",
                    LoadBalancerArn=Ref(balancer),
                    Port=80,
                    Protocol="HTTP",
                    DefaultActions=[
                        elbv2.Action(
                            Type="redirect",
                            RedirectConfig=elbv2.RedirectConfig(
                                Protocol="HTTPS", Port="443", StatusCode="HTTP_301"
                            ),
                        )
                    ],
                )
            )
        else:
            listener = t.add_resource(
                elbv2.Listener(
                    "HttpListener",
                    LoadBalancerArn=Ref(balancer),
                    Port=80,
                    Protocol="HTTP",
                    DefaultActions=[forward],
                )
            )
        self.add_output("LoadBalancerArn", Ref(balancer))
        self.add_output("DNSName", GetAtt(balancer, "DNSName"))
        self.add_output("CanonicalHostedZoneId", GetAtt(balancer, "CanonicalHostedZoneID"))
        self.add_output("SecurityGroupId", GetAtt(group, "GroupId"))
        self.add_output("TargetGroupArn", Ref(targets))
        self.add_output("ListenerArn", Ref(listener))
