"""The reads the DNS audit makes outside CloudFormation: Route 53 zones and records, and
whether an alias or CNAME target still exists (load balancers, S3 buckets, CloudFront
distributions, Elastic Beanstalk environments). Clients come from the one client factory;
botocore errors become ``AWSCallError`` here.
"""

from __future__ import annotations

from typing import Any

from stackyard.aws.errors import error_code, map_client_error
from stackyard.aws.session import ClientFactory, Location

__all__ = ["DnsReads"]


class DnsReads:
    """Route 53 and target lookups at one location (Route 53 and CloudFront are global)."""

    def __init__(self, clients: ClientFactory, location: Location) -> None:
        self.clients = clients
        self.location = location

    def _client(self, service: str) -> Any:
        return self.clients.client(service, self.location)

    def _pages(self, service: str, operation: str, key: str, **kwargs: Any) -> list[Any]:
        try:
            paginator = self._client(service).get_paginator(operation)
            return [item for page in paginator.paginate(**kwargs) for item in page.get(key, [])]
        except Exception as exc:
            raise map_client_error(exc, operation) from exc

    def zone_name(self, zone_id: str) -> str | None:
        """The name of a hosted zone (with its trailing dot), None if it is gone."""
        try:
            answer = self._client("route53").get_hosted_zone(Id=zone_id)
        except Exception as exc:
            if error_code(exc) == "NoSuchHostedZone":
                return None
            raise map_client_error(exc, "GetHostedZone") from exc
        return str(answer["HostedZone"]["Name"])

    def zone_id(self, name: str) -> str | None:
        """The id of the public or private zone called ``name``, if there is one."""
        wanted = name if name.endswith(".") else name + "."
        for zone in self._pages("route53", "list_hosted_zones", "HostedZones"):
            if str(zone["Name"]).lower() == wanted.lower():
                return str(zone["Id"]).rsplit("/", 1)[-1]
        return None

    def record_sets(self, zone_id: str) -> list[dict[str, Any]]:
        """Every record set of a zone."""
        return self._pages(
            "route53", "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=zone_id
        )

    def load_balancer_names(self) -> set[str]:
        """The DNS names of every load balancer (application, network and classic)."""
        names = {
            str(lb["DNSName"]).lower()
            for lb in self._pages("elbv2", "describe_load_balancers", "LoadBalancers")
        }
        names |= {
            str(lb["DNSName"]).lower()
            for lb in self._pages("elb", "describe_load_balancers", "LoadBalancerDescriptions")
        }
        return names

    def bucket_exists(self, name: str) -> bool:
        """Whether the S3 bucket ``name`` exists (in any account that lets us see it)."""
        try:
            self._client("s3").head_bucket(Bucket=name)
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
                return False
            if error_code(exc) in ("403", "AccessDenied"):
                return True  # someone owns it
            raise map_client_error(exc, "HeadBucket") from exc
        return True

    def distribution_names(self) -> set[str]:
        """The domain names of every CloudFront distribution."""
        try:
            paginator = self._client("cloudfront").get_paginator("list_distributions")
            pages = list(paginator.paginate())
        except Exception as exc:
            raise map_client_error(exc, "ListDistributions") from exc
        return {
            str(item["DomainName"]).lower()
            for page in pages
            for item in (page.get("DistributionList") or {}).get("Items") or []
        }

    def beanstalk_names(self) -> set[str]:
        """The CNAMEs of every live Elastic Beanstalk environment."""
        try:
            answer = self._client("elasticbeanstalk").describe_environments(IncludeDeleted=False)
        except Exception as exc:
            raise map_client_error(exc, "DescribeEnvironments") from exc
        return {
            str(env["CNAME"]).lower()
            for env in answer.get("Environments", [])
            if env.get("CNAME") and env.get("Status") != "Terminated"
        }
