"""The embedded local AWS: moto's services with a faithful CloudFormation on top."""

from __future__ import annotations

__all__ = ["LatencySpec", "LocalEndpoint"]

from stackyard.local.latency import LatencySpec
from stackyard.local.runner import LocalEndpoint
