"""Call accounting and fault injection on a real endpoint, seen through plain boto3."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from stackyard.local.daemon import Served, ServeOptions, build_endpoint
from stackyard.local.middleware import FaultSpec

REGION = "us-east-1"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    served = build_endpoint(ServeOptions(port=0, latency="resource=0s"))
    served.start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def ops(served: Served) -> Served:
    served.faults.set_spec(None)
    served.calls.reset()
    return served


def client(url: str, service: str, *, app_id: str | None = None, attempts: int = 3) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    config = Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        user_agent_appid=app_id,
        connect_timeout=5,
        read_timeout=10,
    )
    return session.client(service, endpoint_url=url, config=config)


def route(url: str, path: str, method: str = "GET", body: bytes | None = None) -> Any:
    request = urllib.request.Request(url + path, method=method, data=body)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_calls_are_counted_per_service_action_and_client(ops: Served) -> None:
    url = ops.endpoint.url
    name = f"/ops/{uuid.uuid4().hex}"
    ssm = client(url, "ssm", app_id="stacker")
    ssm.put_parameter(Name=name, Value="v", Type="String")
    ssm.get_parameter(Name=name)
    ssm.get_parameter(Name=name)
    bucket = f"ops-{uuid.uuid4().hex[:12]}"
    s3 = client(url, "s3", app_id="sceptre")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"x")
    s3.list_objects_v2(Bucket=bucket)
    sqs = client(url, "sqs")
    sqs.create_queue(QueueName=f"ops-{uuid.uuid4().hex[:12]}")
    client(url, "cloudformation").list_stacks()

    counts = route(url, "/_stackyard/calls")
    assert counts["services"]["ssm"] == {"GetParameter": 2, "PutParameter": 1}
    assert counts["services"]["s3"] == {"CreateBucket": 1, "ListObjectsV2": 1, "PutObject": 1}
    assert counts["services"]["sqs"] == {"CreateQueue": 1}
    assert counts["services"]["cloudformation"] == {"ListStacks": 1}
    assert counts["clients"]["stacker"] == {"ssm:GetParameter": 2, "ssm:PutParameter": 1}
    assert set(counts["clients"]["sceptre"]) == {
        "s3:CreateBucket",
        "s3:ListObjectsV2",
        "s3:PutObject",
    }
    assert any(name.startswith("Boto3/") for name in counts["clients"])
    assert counts["total"] == 8
    assert counts["statuses"] == {"2xx": 8}

    reset = route(url, "/_stackyard/calls/reset", method="POST")
    assert reset["total"] == 8
    assert route(url, "/_stackyard/calls")["total"] == 0


def test_standard_retry_mode_recovers_from_injected_throttling(ops: Served) -> None:
    url = ops.endpoint.url
    name = f"/ops/{uuid.uuid4().hex}"
    ssm = client(url, "ssm", attempts=6)
    ssm.put_parameter(Name=name, Value="v", Type="String")
    spec = "seed=11,ssm:GetParameter=throttle:0.3"
    ops.faults.set_spec(spec)

    for _ in range(8):
        assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "v"

    injected = ops.faults.report()["injected"].get("ssm:GetParameter", {}).get("throttle", 0)
    parsed = FaultSpec.parse(spec)
    calls = ops.calls.snapshot()["services"]["ssm"]["GetParameter"]
    expected = sum(
        parsed.decide("ssm", "GetParameter", n) == "throttle" for n in range(1, calls + 1)
    )
    assert injected == expected > 0
    assert calls == 8 + injected
    assert ops.calls.snapshot()["statuses"]["4xx"] == injected


def test_the_same_seed_faults_the_same_calls(ops: Served) -> None:
    url = ops.endpoint.url
    cfn = client(url, "cloudformation", attempts=1)

    def run() -> list[str]:
        ops.faults.set_spec("seed=3,cloudformation:ListStacks=error503:0.4")
        outcomes = []
        for _ in range(12):
            try:
                cfn.list_stacks()
                outcomes.append("ok")
            except botocore.exceptions.ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])
        return outcomes

    first, second = run(), run()
    assert first == second
    assert "ServiceUnavailable" in first and "ok" in first


def test_a_dropped_connection_is_a_botocore_connection_error(ops: Served) -> None:
    url = ops.endpoint.url
    ops.faults.set_spec("sqs:ListQueues=drop")
    sqs = client(url, "sqs", attempts=1)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        sqs.list_queues()
    # The client sees the connection close before the server thread has unwound and
    # counted the call, so give the count a moment to land.
    deadline = time.monotonic() + 5
    while not ops.calls.snapshot()["statuses"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ops.calls.snapshot()["statuses"] == {"dropped": 1}
    # The endpoint keeps serving.
    ops.faults.set_spec(None)
    assert "ResponseMetadata" in sqs.list_queues()


def test_health_and_ops_routes_are_never_faulted_and_spec_changes_at_runtime(ops: Served) -> None:
    url = ops.endpoint.url
    answer = route(url, "/_stackyard/faults", method="POST", body=b"*=error500")
    assert answer["spec"] == "*=error500"
    assert route(url, "/_stackyard/health")["status"] in ("ok", "warming")
    assert route(url, "/_stackyard/calls")["total"] == 0
    status = route(url, "/_stackyard/status")
    assert status["faults"]["spec"] == "*=error500"
    assert status["url"] == url
    s3 = client(url, "s3", attempts=1)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        s3.list_buckets()
    assert caught.value.response["Error"]["Code"] == "InternalFailure"

    with pytest.raises(urllib.error.HTTPError) as refused:
        route(url, "/_stackyard/faults", method="POST", body=b"*=explode")
    assert refused.value.code == 400
    route(url, "/_stackyard/faults", method="DELETE")
    assert "Buckets" in s3.list_buckets()


def test_a_cross_origin_page_cannot_set_faults(ops: Served) -> None:
    request = urllib.request.Request(
        ops.endpoint.url + "/_stackyard/faults",
        method="POST",
        data=b"*=drop:1",
        headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    refused.value.close()
    assert refused.value.code == 403
    assert route(ops.endpoint.url, "/_stackyard/faults")["spec"] == ""
    client(ops.endpoint.url, "cloudformation").list_stacks()
