"""Route 53 hosted zones (public and private) with records from a compact map.

Each key of ``Records`` is ``"NAME TYPE"``; ``@`` is the zone apex and a name
without a trailing dot is relative to the zone. The value is the record's
value, a list of values, or a mapping with ``Values`` and ``TTL``; an alias
record takes ``DNSName`` and ``HostedZoneId``::

    Records:
      "@ A": [203.0.113.10, 203.0.113.11]
      "www CNAME": app.example.com
      "@ MX": ["10 mx1.example.com", "20 mx2.example.com"]
      "@ TXT": {Values: ["v=spf1 -all"], TTL: 3600}
      "ipv6 AAAA": 2001:db8::1
      "app ALIAS": {DNSName: my-alb-123.us-east-1.elb.amazonaws.com,
                    HostedZoneId: Z35SXDOTRQ7X7K}
      "app6 ALIAS": {Type: AAAA, DNSName: ..., HostedZoneId: ...}

``TXT`` values are quoted for Route 53 unless already quoted. Records without
a ``TTL`` get ``DefaultTTL``. A record named twice (``www`` and
``www.example.com.``), an address that is not an IPv4/IPv6 address, a CNAME
with several values or at the apex, or an unknown type is a clear error at
render time, before anything is deployed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from troposphere import GetAtt, Join, Ref, route53

from stackyard.blueprints.base import Blueprint
from stackyard.unknown import is_unknown

__all__ = ["RECORD_TYPES", "PrivateZone", "PublicZone", "Record", "parse_records"]

#: Record types the compact map accepts (``ALIAS`` is an alias A or AAAA record).
RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "ALIAS")

_ZONE_NAME = re.compile(
    r"^(?=.{1,253}\.?$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$"
)


@dataclass(frozen=True)
class Record:
    """One record set: fully qualified name (with trailing dot), type and values or alias."""

    name: str
    type: str
    ttl: int | None
    values: tuple[str, ...] = ()
    alias: tuple[tuple[str, Any], ...] = ()

    @property
    def logical_id(self) -> str:
        """A stable logical id from the name and type (readable part plus a short hash)."""
        readable = "".join(p.capitalize() for p in re.split(r"[^A-Za-z0-9]+", self.name) if p)
        digest = hashlib.sha1(f"{self.name}|{self.type}".encode(), usedforsecurity=False)
        return f"Record{self.type.capitalize()}{readable[:180]}{digest.hexdigest()[:6]}"


def validate_zone_name(value: Any) -> str:
    """``value`` if it looks like a DNS domain name (``example.com`` or ``example.com.``)."""
    if not isinstance(value, str) or not _ZONE_NAME.match(value.lower()):
        raise ValueError(f"{value!r} is not a domain name such as example.com")
    return value


def _fqdn(name: str, zone: str) -> str:
    zone = zone.rstrip(".").lower() + "."
    name = name.strip().lower()
    if name in ("@", ""):
        return zone
    if name.endswith("."):
        if not (name == zone or name.endswith("." + zone)):
            raise ValueError(f"record {name!r} is outside the zone {zone}")
        return name
    return f"{name}.{zone}"


def _check_value(kind: str, value: str, where: str) -> str:
    if is_unknown(value):
        return value
    if kind == "A":
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not an IPv4 address") from None
    elif kind == "AAAA":
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not an IPv6 address") from None
    elif kind == "MX":
        parts = value.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise ValueError(
                f"{where}: {value!r} is not 'PRIORITY HOST' (e.g. '10 mx.example.com')"
            )
    elif kind == "TXT" and not (len(value) >= 2 and value[0] == value[-1] == '"'):
        value = '"' + value.replace('"', '\\"') + '"'
    return value


def parse_records(records: Mapping[str, Any], zone: str, default_ttl: int) -> list[Record]:
    """The compact ``Records`` map as :class:`Record` objects; ``ValueError`` on bad input."""
    result: dict[tuple[str, str], Record] = {}
    for key, spec in records.items():
        parts = str(key).split()
        if len(parts) != 2:
            raise ValueError(f"record key {key!r} must be 'NAME TYPE', e.g. 'www CNAME'")
        raw_name, kind = parts[0], parts[1].upper()
        if kind not in RECORD_TYPES:
            raise ValueError(f"record {key!r}: type {kind} is not one of {', '.join(RECORD_TYPES)}")
        try:
            name = _fqdn(raw_name, zone)
        except ValueError as exc:
            raise ValueError(f"record {key!r}: {exc}") from None
        options: dict[str, Any] = dict(spec) if isinstance(spec, Mapping) else {"Values": spec}
        unknown_keys = set(options) - {
            "Values",
            "TTL",
            "Type",
            "DNSName",
            "HostedZoneId",
            "EvaluateTargetHealth",
        }
        if unknown_keys:
            raise ValueError(f"record {key!r}: unknown keys {sorted(unknown_keys)}")
        if kind == "ALIAS":
            record_type = str(options.get("Type", "A")).upper()
            if record_type not in ("A", "AAAA"):
                raise ValueError(f"record {key!r}: an alias is of Type A or AAAA")
            missing = [k for k in ("DNSName", "HostedZoneId") if not options.get(k)]
            if missing:
                raise ValueError(f"record {key!r}: an alias needs {' and '.join(missing)}")
            if "TTL" in options:
                raise ValueError(f"record {key!r}: alias records take no TTL")
            alias = (
                ("DNSName", options["DNSName"]),
                ("HostedZoneId", options["HostedZoneId"]),
                ("EvaluateTargetHealth", bool(options.get("EvaluateTargetHealth", False))),
            )
            record = Record(name, record_type, None, alias=alias)
        else:
            raw_values = options.get("Values")
            values = raw_values if isinstance(raw_values, list) else [raw_values]
            if not values or any(v is None or v == "" for v in values):
                raise ValueError(f"record {key!r} has no value")
            if kind == "CNAME" and len(values) != 1:
                raise ValueError(f"record {key!r}: a CNAME has exactly one value")
            if kind == "CNAME" and name == zone.rstrip(".").lower() + ".":
                raise ValueError(f"record {key!r}: a CNAME cannot be at the zone apex; use ALIAS")
            checked = tuple(_check_value(kind, str(v), f"record {key!r}") for v in values)
            ttl = options.get("TTL", default_ttl)
            if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0:
                raise ValueError(f"record {key!r}: TTL must be a whole number of seconds")
            record = Record(name, kind, ttl, values=checked)
        identity = (record.name, record.type)
        if identity in result:
            raise ValueError(
                f"duplicate record {record.type} {record.name} (key {key!r}); "
                "give one key per name and type, with a list of values"
            )
        same_name = {t for n, t in result if n == record.name}
        if same_name and (record.type == "CNAME" or "CNAME" in same_name):
            raise ValueError(f"record {key!r}: a CNAME cannot share its name with other records")
        result[identity] = record
    return list(result.values())


class _Zone(Blueprint):
    """A hosted zone and its records; subclasses say whether it is public or private."""

    VARIABLES: ClassVar[dict[str, dict[str, Any]]] = {
        "ZoneName": {
            "type": str,
            "validator": validate_zone_name,
            "description": "The zone's domain name, e.g. example.com.",
        },
        "Records": {
            "type": dict,
            "default": {},
            "description": "Records as a map of 'NAME TYPE' to value(s) (see the module doc).",
        },
        "DefaultTTL": {
            "type": int,
            "default": 300,
            "description": "TTL in seconds of records that do not set one.",
        },
        "Comment": {"type": str, "default": "", "description": "The zone's comment."},
    }

    private = False

    def _zone_properties(self) -> dict[str, Any]:
        return {}

    def create_template(self) -> None:
        v = self.get_variables()
        t = self.template
        zone_name = v["ZoneName"].rstrip(".")
        kind = "private" if self.private else "public"
        comment = v["Comment"] or f"{kind} zone {zone_name}, managed by stackyard"
        t.set_description(f"{kind.capitalize()} hosted zone {zone_name}")
        zone = t.add_resource(
            route53.HostedZone(
                "HostedZone",
                Name=zone_name,
                HostedZoneConfig=route53.HostedZoneConfiguration(Comment=comment),
                **self._zone_properties(),
            )
        )
        records = parse_records(v["Records"], zone_name, v["DefaultTTL"])
        for record in records:
            props: dict[str, Any] = {
                "HostedZoneId": Ref(zone),
                "Name": record.name,
                "Type": record.type,
            }
            if record.alias:
                props["AliasTarget"] = route53.AliasTarget(**dict(record.alias))
            else:
                props["TTL"] = str(record.ttl)
                props["ResourceRecords"] = list(record.values)
            t.add_resource(route53.RecordSetType(record.logical_id, **props))
        self.add_output("HostedZoneId", Ref(zone))
        self.add_output("ZoneName", zone_name)
        self.add_output("RecordCount", str(len(records)))
        if not self.private:
            self.add_output("NameServers", Join(",", GetAtt(zone, "NameServers")))


class PublicZone(_Zone):
    """A public hosted zone and its records. Outputs its id, name and name servers."""

    VARIABLES: ClassVar[dict[str, dict[str, Any]]] = dict(_Zone.VARIABLES)


class PrivateZone(_Zone):
    """A private hosted zone attached to one or more VPCs, and its records."""

    VARIABLES: ClassVar[dict[str, dict[str, Any]]] = {
        **_Zone.VARIABLES,
        "VpcIds": {
            "type": list,
            "description": "IDs of the VPCs the zone answers in (at least one).",
        },
        "VpcRegion": {
            "type": str,
            "default": "",
            "description": "Region of those VPCs; the stack's region if empty.",
        },
    }

    private = True

    def _zone_properties(self) -> dict[str, Any]:
        v = self.get_variables()
        if not v["VpcIds"]:
            raise ValueError("VpcIds: a private zone needs at least one VPC")
        region = v["VpcRegion"] or Ref("AWS::Region")
        return {
            "VPCs": [route53.HostedZoneVPCs(VPCId=vpc, VPCRegion=region) for vpc in v["VpcIds"]]
        }
