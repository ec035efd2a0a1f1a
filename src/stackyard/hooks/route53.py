"""stacker's ``route53.create_domain`` hook: a public hosted zone for a domain, made once."""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["create_domain"]


def _zone_name(domain: str) -> str:
    return domain if domain.endswith(".") else domain + "."


def create_domain(*, context: Any = None, provider: Any, domain: str, **_: Any) -> dict[str, str]:
    """Create the public hosted zone of ``domain`` unless one exists; ``{"domain", "zone_id"}``
    (the zone id without its ``/hostedzone/`` prefix), as stacker returned it."""
    route53 = provider.client("route53")
    wanted = _zone_name(domain)
    for page in route53.get_paginator("list_hosted_zones").paginate():
        for zone in page["HostedZones"]:
            private = zone.get("Config", {}).get("PrivateZone", False)
            if zone["Name"] == wanted and not private:
                return {"domain": domain, "zone_id": zone["Id"].rsplit("/", 1)[-1]}
    made = route53.create_hosted_zone(Name=wanted, CallerReference=uuid.uuid4().hex)
    return {"domain": domain, "zone_id": made["HostedZone"]["Id"].rsplit("/", 1)[-1]}
