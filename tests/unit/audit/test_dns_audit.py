"""The DNS audit's logic on fake reads: which records are unmanaged, which targets dangle."""

from __future__ import annotations

from typing import Any

from stackyard.audit.dns import StackDns, audit_dns

ZONE_ID = "Z1"


def record(name: str, rtype: str, *, alias: str = "", value: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"Name": name, "Type": rtype}
    if alias:
        out["AliasTarget"] = {"DNSName": alias, "HostedZoneId": "Z0"}
    if value:
        out["ResourceRecords"] = [{"Value": value}]
    return out


class FakeReads:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.buckets = {"live.example.com"}

    def zone_name(self, zone_id: str) -> str | None:
        return "example.com." if zone_id == ZONE_ID else None

    def zone_id(self, name: str) -> str | None:
        return ZONE_ID if name == "example.com." else None

    def record_sets(self, zone_id: str) -> list[dict[str, Any]]:
        return self.records

    def load_balancer_names(self) -> set[str]:
        return {"live-1.us-east-1.elb.amazonaws.com"}

    def bucket_exists(self, name: str) -> bool:
        return name in self.buckets

    def distribution_names(self) -> set[str]:
        return {"d111.cloudfront.net"}

    def beanstalk_names(self) -> set[str]:
        return {"app.us-east-1.elasticbeanstalk.com"}


def stack(resources: dict[str, Any], **parameters: str) -> StackDns:
    return StackDns(
        "dns",
        {"Resources": resources},
        parameters,
        {"Zone": ZONE_ID},
        {"Zone": "AWS::Route53::HostedZone"},
    )


def rs(name: Any, rtype: str = "CNAME") -> dict[str, Any]:
    return {
        "Type": "AWS::Route53::RecordSet",
        "Properties": {"HostedZoneId": {"Ref": "Zone"}, "Name": name, "Type": rtype},
    }


def test_each_kind_of_dangling_target_and_unmanaged_records() -> None:
    records = [
        record("example.com.", "SOA"),
        record("example.com.", "NS"),
        record("live.example.com.", "A", alias="dualstack.live-1.us-east-1.elb.amazonaws.com."),
        record("gone.example.com.", "A", alias="gone-2.us-east-1.elb.amazonaws.com."),
        record("site.example.com.", "A", alias="s3-website-us-east-1.amazonaws.com."),
        record("live.example.com.", "TXT", value='"x"'),
        record("cdn.example.com.", "CNAME", value="d999.cloudfront.net"),
        record("eb.example.com.", "CNAME", value="old.us-east-1.elasticbeanstalk.com"),
        record("ok.example.com.", "CNAME", value="example.org"),
    ]
    declared = {
        f"R{i}": rs(f"{n}.example.com", t)
        for i, (n, t) in enumerate(
            [("live", "A"), ("gone", "A"), ("site", "A"), ("cdn", "CNAME"), ("eb", "CNAME")]
        )
    }
    declared["Ok"] = rs({"Fn::Sub": "ok.${Domain}"})
    found = audit_dns([stack(declared, Domain="example.com")], FakeReads(records))
    assert found.zones == [(ZONE_ID, "example.com.")]
    got = sorted((f.kind, f.name, f.target_kind) for f in found.findings)
    assert got == [
        ("dangling", "cdn.example.com.", "CloudFront"),
        ("dangling", "eb.example.com.", "Elastic Beanstalk"),
        ("dangling", "gone.example.com.", "load balancer"),
        ("dangling", "site.example.com.", "S3 website"),
        ("unmanaged", "live.example.com.", ""),
    ]
    risks = {f.target_kind: f.risk for f in found.findings}
    assert "deleted load balancer" in risks["load balancer"]
    for kind in ("CloudFront", "Elastic Beanstalk", "S3 website"):
        assert risks[kind].startswith("subdomain takeover")


def test_an_unresolved_record_name_reports_no_unmanaged_records_but_says_so() -> None:
    records = [record("a.example.com.", "TXT", value='"x"')]
    resources = {"R": rs({"Fn::GetAtt": ["Other", "Name"]})}
    found = audit_dns([stack(resources)], FakeReads(records))
    assert found.findings == []
    assert found.notes and "could not be resolved" in found.notes[0]
