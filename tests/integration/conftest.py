"""Integration fixtures: one local AWS endpoint per test session, and boto3 clients bound to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stackyard.local.runner import LocalEndpoint

REGION = "us-east-1"


@pytest.fixture(scope="session")
def local_endpoint() -> Iterator[LocalEndpoint]:
    """A started local endpoint with no per-resource latency."""
    endpoint = LocalEndpoint(latency="resource=0s")
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def aws(local_endpoint: LocalEndpoint) -> Callable[[str], Any]:
    """``aws("s3")`` returns a boto3 client for that service on the local endpoint."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    config = Config(retries={"mode": "standard", "max_attempts": 2})

    def client(service_name: str) -> Any:
        return session.client(service_name, endpoint_url=local_endpoint.url, config=config)

    return client


@pytest.fixture
def wait_stack() -> Callable[..., dict[str, Any]]:
    """``wait_stack(cfn, name)`` polls until the stack leaves ``*_IN_PROGRESS``; returns it."""
    import time

    def wait(cfn: Any, name: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            stack: dict[str, Any] = cfn.describe_stacks(StackName=name)["Stacks"][0]
            status = stack["StackStatus"]
            if not status.endswith("_IN_PROGRESS") or status == "REVIEW_IN_PROGRESS":
                return stack
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} still {status} after {timeout}s")
            time.sleep(0.02)

    return wait


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """``unique("stack")`` gives a name no other test uses (the endpoint is shared)."""
    import uuid

    def name(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    return name
