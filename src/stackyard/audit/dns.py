"""The DNS audit: in every hosted zone a stack manages, records no stack declares
(unmanaged), and aliases or CNAMEs whose target is gone (dangling: a subdomain-takeover risk).

A zone is managed when a stack of the config creates it (an ``AWS::Route53::HostedZone``) or
declares records in it. Declared records come from the deployed templates, with ``Ref`` and
``${}`` of the stack's parameters and resources replaced by their deployed values; when a
record's name, type or zone stays unresolved, no record is called unmanaged (said in
``notes``) rather than guessed; dangling targets are still checked. A zone's own SOA and
NS records are never unmanaged.

Targets are checked through the service APIs (:class:`stackyard.aws.dns_reads.DnsReads`):
load balancers by DNS name, S3 websites by the bucket named like the record, CloudFront
distributions and Elastic Beanstalk environments by domain name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from stackyard.plan.values import substitute

__all__ = [
    "DeclaredRecord",
    "DnsAudit",
    "DnsFinding",
    "StackDns",
    "TargetReads",
    "audit_dns",
    "declared_records",
]

RISKS = {
    "load balancer": "dangling: points at a deleted load balancer; requests fail, and a name "
    "left pointing at a released endpoint can be taken over",
    "S3 website": "subdomain takeover: anyone can create the bucket of this name and serve "
    "content on it",
    "CloudFront": "subdomain takeover: another account can add this name to its own "
    "CloudFront distribution",
    "Elastic Beanstalk": "subdomain takeover: anyone can create an environment with this "
    "CNAME and serve content on it",
}
UNMANAGED_RISK = "unmanaged: no stack declares it, so no review covers it and nothing removes it"


class TargetReads(Protocol):
    """What the audit reads outside CloudFormation (``DnsReads`` in production)."""

    def zone_name(self, zone_id: str) -> str | None: ...
    def zone_id(self, name: str) -> str | None: ...
    def record_sets(self, zone_id: str) -> list[dict[str, Any]]: ...
    def load_balancer_names(self) -> set[str]: ...
    def bucket_exists(self, name: str) -> bool: ...
    def distribution_names(self) -> set[str]: ...
    def beanstalk_names(self) -> set[str]: ...


@dataclass(frozen=True)
class StackDns:
    """What the audit needs of one deployed stack."""

    name: str
    template: Mapping[str, Any]
    parameters: Mapping[str, str]
    physical_ids: Mapping[str, str]  # logical id -> physical id
    types: Mapping[str, str]  # logical id -> resource type


@dataclass(frozen=True)
class DeclaredRecord:
    """A record a stack declares, resolved; ``zone`` is an id or a name (with its dot)."""

    stack: str
    logical_id: str
    zone: str
    name: str
    type: str
    set_identifier: str | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What makes a record one record in its zone."""
        return (normal_name(self.name), self.type.upper(), self.set_identifier)


@dataclass(frozen=True)
class DnsFinding:
    """One record worth a look: ``kind`` is ``unmanaged`` or ``dangling``."""

    kind: str
    zone_id: str
    zone_name: str
    name: str
    type: str
    risk: str
    target: str = ""
    target_kind: str = ""
    stack: str = ""  # the stack that declares it, for a dangling managed record

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "kind": self.kind,
            "zone_id": self.zone_id,
            "zone": self.zone_name,
            "name": self.name,
            "type": self.type,
            "target": self.target,
            "target_kind": self.target_kind,
            "stack": self.stack,
            "risk": self.risk,
        }


@dataclass
class DnsAudit:
    """The zones audited, what was found, and where the audit could not be sure."""

    zones: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    findings: list[DnsFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "zones": [{"id": i, "name": n} for i, n in self.zones],
            "findings": [f.to_json() for f in self.findings],
            "notes": list(self.notes),
        }


def normal_name(name: str) -> str:
    """A DNS name as Route 53 lists it: lower case, a trailing dot, ``*`` unescaped."""
    name = name.replace("\\052", "*").lower()
    return name if name.endswith(".") else name + "."


def _zone_of(props: Mapping[str, Any]) -> Any:
    zone = props.get("HostedZoneId")
    if zone is None and props.get("HostedZoneName") is not None:
        name = props["HostedZoneName"]
        return normal_name(name) if isinstance(name, str) else name
    return zone


def declared_records(stack: StackDns, notes: list[str]) -> list[DeclaredRecord]:
    """The records ``stack`` declares, resolved; what cannot be resolved goes to ``notes``."""
    values: dict[str, Any] = {**stack.parameters, **stack.physical_ids}
    resources = substitute(dict(stack.template.get("Resources") or {}), values)
    found: list[DeclaredRecord] = []
    for logical_id, resource in sorted(resources.items()):
        if not isinstance(resource, Mapping):
            continue
        props = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind == "AWS::Route53::RecordSet":
            entries = [(props, _zone_of(props))]
        elif kind == "AWS::Route53::RecordSetGroup":
            entries = [(r, _zone_of(props)) for r in props.get("RecordSets") or []]
        else:
            continue
        for entry, zone in entries:
            name, rtype = entry.get("Name"), entry.get("Type")
            if not (isinstance(name, str) and isinstance(rtype, str) and isinstance(zone, str)):
                notes.append(
                    f"{stack.name}: {logical_id}: a record whose name, type or zone could not "
                    "be resolved; unmanaged records are not reported"
                )
                continue
            ident = entry.get("SetIdentifier")
            found.append(
                DeclaredRecord(
                    stack.name,
                    logical_id,
                    zone,
                    name,
                    rtype,
                    ident if isinstance(ident, str) else None,
                )
            )
    return found


def _target(record: Mapping[str, Any]) -> str:
    alias = record.get("AliasTarget")
    if alias:
        target = str(alias.get("DNSName", ""))
    elif record.get("Type") == "CNAME" and record.get("ResourceRecords"):
        target = str(record["ResourceRecords"][0].get("Value", ""))
    else:
        return ""
    target = target.lower().rstrip(".")
    return target.removeprefix("dualstack.")


def _target_kind(target: str) -> str:
    if target.endswith(".elb.amazonaws.com"):
        return "load balancer"
    # An alias names the region's website endpoint; a CNAME names the bucket's.
    if target.startswith("s3-website") or ".s3-website" in target:
        return "S3 website"
    if target.endswith(".cloudfront.net"):
        return "CloudFront"
    if target.endswith(".elasticbeanstalk.com"):
        return "Elastic Beanstalk"
    return ""


class _Targets:
    """Existence checks, each service read once and only when a record needs it."""

    def __init__(self, reads: TargetReads) -> None:
        self.reads = reads
        self._sets: dict[str, set[str]] = {}

    def _names(self, kind: str, read: Callable[[], set[str]]) -> set[str]:
        if kind not in self._sets:
            self._sets[kind] = {n.rstrip(".").removeprefix("dualstack.") for n in read()}
        return self._sets[kind]

    def exists(self, kind: str, target: str, record_name: str) -> bool:
        if kind == "load balancer":
            return target in self._names(kind, self.reads.load_balancer_names)
        if kind == "S3 website":
            return self.reads.bucket_exists(record_name.rstrip("."))
        if kind == "CloudFront":
            return target in self._names(kind, self.reads.distribution_names)
        if kind == "Elastic Beanstalk":
            return target in self._names(kind, self.reads.beanstalk_names)
        return True


def _managed_zones(
    stacks: Iterable[StackDns], declared: list[DeclaredRecord], reads: TargetReads
) -> dict[str, str]:
    """Zone id -> name for every zone a stack creates or declares records in."""
    ids: set[str] = set()
    for stack in stacks:
        ids |= {
            stack.physical_ids[lid].rsplit("/", 1)[-1]
            for lid, kind in stack.types.items()
            if kind == "AWS::Route53::HostedZone" and lid in stack.physical_ids
        }
    for record in declared:
        if record.zone.endswith("."):
            zone_id = reads.zone_id(record.zone)
            if zone_id:
                ids.add(zone_id)
        else:
            ids.add(record.zone.rsplit("/", 1)[-1])
    zones: dict[str, str] = {}
    for zone_id in sorted(ids):
        name = reads.zone_name(zone_id)
        if name is not None:
            zones[zone_id] = normal_name(name)
    return zones


def audit_dns(stacks: list[StackDns], reads: TargetReads) -> DnsAudit:
    """Audit every zone the stacks manage."""
    audit = DnsAudit()
    declared = [r for s in stacks for r in declared_records(s, audit.notes)]
    zones = _managed_zones(stacks, declared, reads)
    partial = bool(audit.notes)
    targets = _Targets(reads)
    for zone_id, zone_name in zones.items():
        audit.zones.append((zone_id, zone_name))
        mine = {
            r.key: r
            for r in declared
            if r.zone.rsplit("/", 1)[-1] == zone_id or r.zone == zone_name
        }
        for record in reads.record_sets(zone_id):
            name, rtype = normal_name(str(record["Name"])), str(record["Type"])
            key = (name, rtype.upper(), record.get("SetIdentifier"))
            owner = mine.get(key)
            apex = name == zone_name and rtype in ("SOA", "NS")
            if owner is None and not apex and not partial:
                audit.findings.append(
                    DnsFinding("unmanaged", zone_id, zone_name, name, rtype, UNMANAGED_RISK)
                )
            target = _target(record)
            kind = _target_kind(target)
            if kind and not targets.exists(kind, target, name):
                audit.findings.append(
                    DnsFinding(
                        "dangling",
                        zone_id,
                        zone_name,
                        name,
                        rtype,
                        RISKS[kind],
                        target,
                        kind,
                        owner.stack if owner else "",
                    )
                )
    return audit
