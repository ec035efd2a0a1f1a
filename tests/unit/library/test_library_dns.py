"""dns.PublicZone / dns.PrivateZone: compact record map, TTL defaults, aliases, bad input."""

from __future__ import annotations

import pytest

from stackyard.errors import BlueprintError, VariableError
from stackyard.library.dns import PrivateZone, PublicZone, parse_records

RECORDS = {
    "@ A": ["203.0.113.10", "203.0.113.11"],
    "www CNAME": "app.example.com",
    "@ MX": ["10 mx1.example.com", "20 mx2.example.com"],
    "@ TXT": {"Values": ["v=spf1 -all"], "TTL": 3600},
    "ipv6 AAAA": "2001:db8::1",
    "app ALIAS": {
        "DNSName": "gw-123.us-east-1.elb.amazonaws.com",
        "HostedZoneId": "Z35SXDOTRQ7X7K",
    },
}


def _by_name_type(r) -> dict[tuple[str, str], dict]:
    return {
        (p["Properties"]["Name"], p["Properties"]["Type"]): p["Properties"]
        for p in r.of_type("AWS::Route53::RecordSet").values()
    }


def test_public_zone_renders_every_record_kind(render) -> None:
    r = render(PublicZone, {"ZoneName": "example.com", "Records": RECORDS, "DefaultTTL": 120})
    assert r.one("AWS::Route53::HostedZone")["Name"] == "example.com"
    records = _by_name_type(r)
    assert records[("example.com.", "A")]["ResourceRecords"] == ["203.0.113.10", "203.0.113.11"]
    assert records[("example.com.", "A")]["TTL"] == "120"
    assert records[("example.com.", "TXT")]["ResourceRecords"] == ['"v=spf1 -all"']
    assert records[("example.com.", "TXT")]["TTL"] == "3600"
    assert records[("www.example.com.", "CNAME")]["ResourceRecords"] == ["app.example.com"]
    assert records[("example.com.", "MX")]["ResourceRecords"][1] == "20 mx2.example.com"
    alias = records[("app.example.com.", "A")]
    assert alias["AliasTarget"]["HostedZoneId"] == "Z35SXDOTRQ7X7K"
    assert "TTL" not in alias and "ResourceRecords" not in alias
    assert {"HostedZoneId", "NameServers", "ZoneName"} <= set(r.outputs)
    assert r.lint_errors() == []


def test_private_zone_is_attached_to_its_vpcs(render) -> None:
    r = render(
        PrivateZone,
        {
            "ZoneName": "internal.example.com",
            "VpcIds": ["vpc-0123456789abcdef0"],
            "Records": {"db CNAME": "db.abc.us-east-1.rds.amazonaws.com"},
        },
    )
    zone = r.one("AWS::Route53::HostedZone")
    assert zone["VPCs"] == [{"VPCId": "vpc-0123456789abcdef0", "VPCRegion": {"Ref": "AWS::Region"}}]
    assert "NameServers" not in r.outputs
    assert r.lint_errors() == []


def test_default_ttl_is_300() -> None:
    [record] = parse_records({"www A": "192.0.2.1"}, "example.com", 300)
    assert record.ttl == 300 and record.name == "www.example.com."


def test_logical_ids_are_stable_and_distinct() -> None:
    a = parse_records({"www A": "192.0.2.1", "www AAAA": "2001:db8::2"}, "example.com", 300)
    b = parse_records({"www A": "192.0.2.9"}, "example.com", 60)
    assert a[0].logical_id == b[0].logical_id
    assert a[0].logical_id != a[1].logical_id


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (
            {"www A": "192.0.2.1", "www.example.com. A": "192.0.2.2"},
            "duplicate record A www.example.com.",
        ),
        ({"www A": "192.0.2.300"}, "not an IPv4 address"),
        ({"www AAAA": "192.0.2.1"}, "not an IPv6 address"),
        ({"www CNAME": ["a.example.com", "b.example.com"]}, "exactly one value"),
        ({"@ CNAME": "a.example.com"}, "cannot be at the zone apex"),
        ({"www CNAME": "a.example.com", "www TXT": "hello"}, "cannot share its name"),
        ({"www SRV": "0 5 5060 sip.example.com"}, "type SRV is not one of"),
        ({"www": "192.0.2.1"}, "must be 'NAME TYPE'"),
        ({"@ MX": "mx.example.com"}, "PRIORITY HOST"),
        ({"app ALIAS": {"DNSName": "x.example.net"}}, "needs HostedZoneId"),
        ({"x.other.org. A": "192.0.2.1"}, "outside the zone"),
    ],
)
def test_bad_records_are_clear_errors_before_deploy(render, records, message: str) -> None:
    with pytest.raises(BlueprintError, match="failed to render") as err:
        render(PublicZone, {"ZoneName": "example.com", "Records": records})
    assert message in str(err.value)


def test_bad_zone_name_is_a_variable_error(render) -> None:
    with pytest.raises(VariableError, match="ZoneName"):
        render(PublicZone, {"ZoneName": "not a domain"})
