"""A VPC with public and private subnets across availability zones, routing and NAT.

``network.Vpc`` carves the VPC's CIDR into equal subnets, one public and one
private per zone (public first), so a config names only the VPC's CIDR, the
number of zones and how much NAT it wants::

    - name: network
      class_path: stackyard.library.network.Vpc
      variables:
        CidrBlock: 10.20.0.0/16
        ZoneCount: 3
        NatGateways: per-zone       # or: single, none

Zones are picked with ``Fn::GetAZs``, so the template is the same in every
region. Outputs: ``VpcId``, ``CidrBlock``, ``PublicSubnetIds`` and
``PrivateSubnetIds`` (comma-joined, ready for ``List<AWS::EC2::Subnet::Id>``
parameters), ``AvailabilityZones``, ``PublicRouteTableId`` and
``PrivateRouteTableIds``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from troposphere import GetAtt, GetAZs, Join, Ref, Select, Tags, ec2

from stackyard.blueprints.base import Blueprint

__all__ = ["NAT_MODES", "Vpc", "subnet_cidrs"]

#: ``NatGateways`` values: one NAT gateway per zone, one shared, or no NAT (private
#: subnets then have no route to the internet).
NAT_MODES = ("per-zone", "single", "none")


def validate_cidr(value: Any) -> str:
    """``value`` if it is an IPv4 network in CIDR notation with no host bits set."""
    if not isinstance(value, str):
        raise ValueError(f"expected a CIDR such as 10.0.0.0/16, got {type(value).__name__}")
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid IPv4 CIDR ({exc})") from None
    if not 16 <= network.prefixlen <= 28:
        raise ValueError(f"a VPC CIDR must be between /16 and /28, got /{network.prefixlen}")
    return value


def subnet_cidrs(cidr: str, zones: int, prefix_length: int | None = None) -> tuple[list[str], ...]:
    """``(public, private)`` subnet CIDRs: ``zones`` of each, carved in order from ``cidr``.

    Without ``prefix_length`` the VPC is split into the smallest power of two
    that holds ``2 * zones`` subnets. Raises ``ValueError`` if they do not fit.
    """
    network = ipaddress.IPv4Network(cidr, strict=True)
    needed = 2 * zones
    if prefix_length is None:
        prefix_length = network.prefixlen + max(1, (needed - 1).bit_length())
    if prefix_length > 28 or prefix_length <= network.prefixlen:
        raise ValueError(
            f"cannot carve {needed} subnets of /{prefix_length} out of {cidr} "
            "(subnets must be between the VPC's prefix and /28)"
        )
    subnets = [str(s) for s in network.subnets(new_prefix=prefix_length)]
    if len(subnets) < needed:
        raise ValueError(f"{cidr} holds only {len(subnets)} subnets of /{prefix_length}")
    return subnets[:zones], subnets[zones:needed]


class Vpc(Blueprint):
    """VPC, internet gateway, public and private subnets per zone, route tables, NAT."""

    VARIABLES = {
        "CidrBlock": {
            "type": str,
            "default": "10.0.0.0/16",
            "validator": validate_cidr,
            "description": "The VPC's IPv4 CIDR (/16 to /28).",
        },
        "ZoneCount": {
            "type": int,
            "default": 2,
            "allowed_values": [1, 2, 3, 4, 5, 6],
            "description": "How many availability zones get a public and a private subnet.",
        },
        "SubnetPrefixLength": {
            "type": int,
            "default": 0,
            "description": "Prefix length of every subnet; 0 picks the largest that fits.",
        },
        "NatGateways": {
            "type": str,
            "default": "single",
            "allowed_values": list(NAT_MODES),
            "description": "per-zone (highly available), single (cheaper) or none.",
        },
        "Name": {
            "type": str,
            "default": "",
            "description": "Name tag prefix; the stack's fully qualified name if empty.",
        },
    }

    def create_template(self) -> None:
        v = self.get_variables()
        t = self.template
        name: str = v["Name"] or self.context.get_fqn(self.name)
        zones: int = v["ZoneCount"]
        try:
            public_cidrs, private_cidrs = subnet_cidrs(
                v["CidrBlock"], zones, v["SubnetPrefixLength"] or None
            )
        except ValueError as exc:
            raise ValueError(f"CidrBlock/SubnetPrefixLength: {exc}") from None
        t.set_description(f"Network {name}: VPC {v['CidrBlock']} across {zones} zones")

        vpc = t.add_resource(
            ec2.VPC(
                "Vpc",
                CidrBlock=v["CidrBlock"],
                EnableDnsSupport=True,
                EnableDnsHostnames=True,
                Tags=Tags(Name=name),
            )
        )
        igw = t.add_resource(ec2.InternetGateway("InternetGateway", Tags=Tags(Name=name)))
        attachment = t.add_resource(
            ec2.VPCGatewayAttachment(
                "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(igw)
            )
        )
        public_rt = t.add_resource(
            ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc), Tags=Tags(Name=f"{name}-public"))
        )
        t.add_resource(
            ec2.Route(
                "PublicDefaultRoute",
                DependsOn=attachment.title,
                RouteTableId=Ref(public_rt),
                DestinationCidrBlock="0.0.0.0/0",
                GatewayId=Ref(igw),
            )
        )

        public_subnets: list[Any] = []
        private_subnets: list[Any] = []
        private_tables: list[Any] = []
        nat_gateways: list[Any] = []
        for index in range(zones):
            zone = Select(index, GetAZs(""))
            public = t.add_resource(
                ec2.Subnet(
                    f"PublicSubnet{index + 1}",
                    VpcId=Ref(vpc),
                    CidrBlock=public_cidrs[index],
                    AvailabilityZone=zone,
                    MapPublicIpOnLaunch=True,
                    Tags=Tags(Name=f"{name}-public-{index + 1}", tier="public"),
                )
            )
            public_subnets.append(public)
            t.add_resource(
                ec2.SubnetRouteTableAssociation(
                    f"PublicSubnet{index + 1}RouteTable",
                    SubnetId=Ref(public),
                    RouteTableId=Ref(public_rt),
                )
            )
            private = t.add_resource(
                ec2.Subnet(
                    f"PrivateSubnet{index + 1}",
                    VpcId=Ref(vpc),
                    CidrBlock=private_cidrs[index],
                    AvailabilityZone=zone,
                    MapPublicIpOnLaunch=False,
                    Tags=Tags(Name=f"{name}-private-{index + 1}", tier="private"),
                )
            )
            private_subnets.append(private)
            table = t.add_resource(
                ec2.RouteTable(
                    f"PrivateRouteTable{index + 1}",
                    VpcId=Ref(vpc),
                    Tags=Tags(Name=f"{name}-private-{index + 1}"),
                )
            )
            private_tables.append(table)
            t.add_resource(
                ec2.SubnetRouteTableAssociation(
                    f"PrivateSubnet{index + 1}RouteTable",
                    SubnetId=Ref(private),
                    RouteTableId=Ref(table),
                )
            )
            mode = v["NatGateways"]
            if mode == "per-zone" or (mode == "single" and index == 0):
                eip = t.add_resource(
                    ec2.EIP(
                        f"NatAddress{index + 1}",
                        DependsOn=attachment.title,
                        Domain="vpc",
                        Tags=Tags(Name=f"{name}-nat-{index + 1}"),
                    )
                )
                nat_gateways.append(
                    t.add_resource(
                        ec2.NatGateway(
                            f"NatGateway{index + 1}",
                            AllocationId=GetAtt(eip, "AllocationId"),
                            SubnetId=Ref(public),
                            Tags=Tags(Name=f"{name}-nat-{index + 1}"),
                        )
                    )
                )
            if nat_gateways:
                t.add_resource(
                    ec2.Route(
                        f"PrivateDefaultRoute{index + 1}",
                        RouteTableId=Ref(table),
                        DestinationCidrBlock="0.0.0.0/0",
                        NatGatewayId=Ref(nat_gateways[-1]),
                    )
                )

        self.add_output("VpcId", Ref(vpc))
        self.add_output("CidrBlock", GetAtt(vpc, "CidrBlock"))
        self.add_output("PublicSubnetIds", Join(",", [Ref(s) for s in public_subnets]))
        self.add_output("PrivateSubnetIds", Join(",", [Ref(s) for s in private_subnets]))
        self.add_output(
            "AvailabilityZones", Join(",", [Select(i, GetAZs("")) for i in range(zones)])
        )
        self.add_output("PublicRouteTableId", Ref(public_rt))
        self.add_output("PrivateRouteTableIds", Join(",", [Ref(r) for r in private_tables]))
        self.add_output("NatGatewayCount", str(len(nat_gateways)))
