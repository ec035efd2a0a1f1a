"""network.Vpc: subnets carved per zone, routing, NAT modes, bad CIDRs."""

from __future__ import annotations

import pytest

from stackyard.errors import VariableError
from stackyard.library.network import Vpc, subnet_cidrs


def test_subnet_cidrs_are_carved_in_order_public_first() -> None:
    public, private = subnet_cidrs("10.20.0.0/16", 3)
    assert public == ["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"]
    assert private == ["10.20.96.0/19", "10.20.128.0/19", "10.20.160.0/19"]
    assert subnet_cidrs("10.0.0.0/16", 2, 24) == (
        ["10.0.0.0/24", "10.0.1.0/24"],
        ["10.0.2.0/24", "10.0.3.0/24"],
    )


def test_subnet_cidrs_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot carve"):
        subnet_cidrs("10.0.0.0/27", 2, 29)


@pytest.mark.parametrize(("mode", "nats"), [("per-zone", 3), ("single", 1), ("none", 0)])
def test_vpc_renders_zones_routes_and_nat(render, mode: str, nats: int) -> None:
    r = render(Vpc, {"CidrBlock": "10.20.0.0/16", "ZoneCount": 3, "NatGateways": mode})
    subnets = r.of_type("AWS::EC2::Subnet")
    assert len(subnets) == 6
    public = [s["Properties"] for k, s in subnets.items() if k.startswith("Public")]
    assert all(p["MapPublicIpOnLaunch"] is True for p in public)
    assert len(r.of_type("AWS::EC2::NatGateway")) == nats
    routes = r.of_type("AWS::EC2::Route")
    private_routes = [k for k in routes if k.startswith("PrivateDefaultRoute")]
    assert len(private_routes) == (3 if nats else 0)
    assert r.one("AWS::EC2::VPC")["CidrBlock"] == "10.20.0.0/16"
    assert {"VpcId", "PublicSubnetIds", "PrivateSubnetIds", "AvailabilityZones"} <= set(r.outputs)
    if mode == "per-zone":
        assert r.lint_errors() == []


def test_private_subnets_route_through_their_own_zone_nat(render) -> None:
    r = render(Vpc, {"ZoneCount": 2, "NatGateways": "per-zone"})
    route = r.resources["PrivateDefaultRoute2"]["Properties"]
    assert route["NatGatewayId"] == {"Ref": "NatGateway2"}
    assert route["RouteTableId"] == {"Ref": "PrivateRouteTable2"}


@pytest.mark.parametrize("cidr", ["10.0.0.300/16", "10.0.0.1/16", "10.0.0.0/8", "not-a-cidr"])
def test_invalid_cidr_is_a_clear_variable_error(render, cidr: str) -> None:
    with pytest.raises(VariableError, match="CidrBlock") as err:
        render(Vpc, {"CidrBlock": cidr})
    assert cidr in str(err.value)
