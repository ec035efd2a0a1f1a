"""Request classification and call accounting, on plain WSGI apps (no AWS, no moto)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from werkzeug.test import Client

from stackyard.local.middleware import (
    CallAccounting,
    FaultInjector,
    RequestInfo,
    StatusRoute,
    classify,
    client_of,
)

AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
)
BOTO_UA = "Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux#6 lang/python#3.11 Botocore/1.44.8"


def environ(
    method: str = "GET",
    path: str = "/",
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "127.0.0.1:4566",
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        env[key if key in ("CONTENT_TYPE",) else f"HTTP_{key}"] = value
    return env


def signed(service: str, **extra: str) -> dict[str, str]:
    return {"Authorization": AUTH.format(service=service), "User-Agent": BOTO_UA, **extra}


FORM = "application/x-www-form-urlencoded; charset=utf-8"


def test_query_protocol_action_comes_from_the_form_and_the_body_is_restored() -> None:
    body = b"Action=DescribeStacks&Version=2010-05-15&StackName=app"
    env = environ("POST", body=body, headers=signed("cloudformation", **{"Content-Type": FORM}))
    info = classify(env)
    assert info == RequestInfo("cloudformation", "DescribeStacks", "Boto3/1.44.8", "query")
    assert env["wsgi.input"].read() == body


def test_unsigned_query_call_with_the_cloudformation_version_is_cloudformation() -> None:
    env = environ("GET", query="Action=ListStacks&Version=2010-05-15")
    assert classify(env).key == "cloudformation:ListStacks"


def test_ec2_query_calls_use_the_ec2_error_shape() -> None:
    body = b"Action=DescribeVpcs&Version=2016-11-15"
    env = environ("POST", body=body, headers=signed("ec2", **{"Content-Type": FORM}))
    assert classify(env).protocol == "ec2"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (signed("ssm", **{"X-Amz-Target": "AmazonSSM.PutParameter"}), "ssm:PutParameter"),
        (signed("sqs", **{"X-Amz-Target": "AmazonSQS.CreateQueue"}), "sqs:CreateQueue"),
        ({"X-Amz-Target": "TrentService.CreateKey"}, "kms:CreateKey"),
        ({"X-Amz-Target": "AmazonSSM.GetParameter"}, "ssm:GetParameter"),
    ],
)
def test_json_protocol_action_comes_from_x_amz_target(
    headers: dict[str, str], expected: str
) -> None:
    info = classify(environ("POST", body=b"{}", headers=headers))
    assert info.key == expected
    assert info.protocol == "json"


@pytest.mark.parametrize(
    ("method", "path", "query", "extra", "action"),
    [
        ("GET", "/", "", {}, "ListBuckets"),
        ("PUT", "/my-bucket", "", {}, "CreateBucket"),
        ("HEAD", "/my-bucket", "", {}, "HeadBucket"),
        ("DELETE", "/my-bucket", "", {}, "DeleteBucket"),
        ("GET", "/my-bucket", "list-type=2&prefix=a", {}, "ListObjectsV2"),
        ("GET", "/my-bucket", "", {}, "ListObjects"),
        ("GET", "/my-bucket", "location", {}, "GetBucketLocation"),
        ("GET", "/my-bucket", "versions", {}, "ListObjectVersions"),
        ("PUT", "/my-bucket", "tagging", {}, "PutBucketTagging"),
        ("DELETE", "/my-bucket", "policy", {}, "DeleteBucketPolicy"),
        ("GET", "/my-bucket", "versioning", {}, "GetBucketVersioning"),
        ("POST", "/my-bucket", "delete", {}, "DeleteObjects"),
        ("PUT", "/my-bucket/a/b.txt", "", {}, "PutObject"),
        ("PUT", "/my-bucket/a/b.txt", "", {"X-Amz-Copy-Source": "/x/y"}, "CopyObject"),
        ("GET", "/my-bucket/a/b.txt", "", {}, "GetObject"),
        ("HEAD", "/my-bucket/a/b.txt", "", {}, "HeadObject"),
        ("DELETE", "/my-bucket/a/b.txt", "", {}, "DeleteObject"),
        ("GET", "/my-bucket/a/b.txt", "tagging", {}, "GetObjectTagging"),
        ("POST", "/my-bucket/big", "uploads", {}, "CreateMultipartUpload"),
        ("PUT", "/my-bucket/big", "partNumber=1&uploadId=u", {}, "UploadPart"),
        ("POST", "/my-bucket/big", "uploadId=u", {}, "CompleteMultipartUpload"),
        ("DELETE", "/my-bucket/big", "uploadId=u", {}, "AbortMultipartUpload"),
        ("GET", "/my-bucket/big", "uploadId=u", {}, "ListParts"),
    ],
)
def test_s3_action_comes_from_method_and_path_shape(
    method: str, path: str, query: str, extra: dict[str, str], action: str
) -> None:
    info = classify(environ(method, path, query, headers=signed("s3", **extra)))
    assert (info.service, info.action, info.protocol) == ("s3", action, "s3")


def test_s3_virtual_host_style_takes_the_bucket_from_the_host() -> None:
    env = environ("PUT", "/key.txt", headers=signed("s3"))
    env["HTTP_HOST"] = "my-bucket.localhost:4566"
    assert classify(env).action == "PutObject"
    env = environ("PUT", "/", headers=signed("s3"))
    env["HTTP_HOST"] = "my-bucket.s3.us-east-1.amazonaws.com"
    assert classify(env).action == "CreateBucket"


def test_other_rest_services_are_named_by_method_and_first_segment() -> None:
    info = classify(environ("GET", "/2015-03-31/functions/", headers=signed("lambda")))
    assert (info.key, info.protocol) == ("lambda:GET /2015-03-31", "rest-json")
    rpc = "/service/GraniteServiceVersion20100801/operation/GetMetricData"
    assert classify(environ("POST", rpc, headers=signed("monitoring"))).action == "GetMetricData"


@pytest.mark.parametrize(
    ("user_agent", "client"),
    [
        (BOTO_UA, "Boto3/1.44.8"),
        (BOTO_UA + " app/stacker", "stacker"),
        ("aws-cli/2.15.0 md/awscrt#0.19 ua/2.0 os/linux", "aws-cli/2.15.0"),
        ("Boto3/1.34.0 Python/3.11 Botocore/1.34.0 sceptre/4.7.0", "sceptre/4.7.0"),
        ("", "unknown"),
    ],
)
def test_client_is_the_app_id_a_known_tool_or_the_first_token(user_agent: str, client: str) -> None:
    assert client_of(user_agent) == client


# ---------------------------------------------------------------------------------------------


def ok_app(status: str = "200 OK") -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    def app(env: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(status, [("Content-Type", "text/plain")])
        return [b"ok"]

    return app


def test_accounting_counts_per_service_action_client_and_status() -> None:
    calls = CallAccounting()
    client = Client(calls(ok_app()))
    query = "Action=DescribeStacks&Version=2010-05-15"
    client.post("/", data=query, headers=signed("cloudformation"), content_type=FORM)
    client.post("/", data=query, headers=signed("cloudformation"), content_type=FORM)
    client.put("/bucket-one", headers=signed("s3") | {"User-Agent": BOTO_UA + " app/sceptre"})
    target = {"X-Amz-Target": "AmazonSSM.PutParameter"}
    client.post("/", data="{}", headers=signed("ssm") | target)

    counts = json.loads(client.get("/_stackyard/calls").get_data())
    assert counts["total"] == 4
    assert counts["services"] == {
        "cloudformation": {"DescribeStacks": 2},
        "s3": {"CreateBucket": 1},
        "ssm": {"PutParameter": 1},
    }
    assert counts["clients"] == {
        "Boto3/1.44.8": {"cloudformation:DescribeStacks": 2, "ssm:PutParameter": 1},
        "sceptre": {"s3:CreateBucket": 1},
    }
    assert counts["statuses"] == {"2xx": 4}


def test_accounting_reset_returns_the_counts_and_zeroes_them() -> None:
    calls = CallAccounting()
    client = Client(calls(ok_app("400 Bad Request")))
    client.get("/", headers=signed("s3"))
    reset = json.loads(client.post("/_stackyard/calls/reset").get_data())
    assert reset["services"] == {"s3": {"ListBuckets": 1}}
    assert reset["statuses"] == {"4xx": 1}
    assert json.loads(client.get("/_stackyard/calls").get_data())["total"] == 0
    client.get("/", headers=signed("s3"))
    assert json.loads(client.delete("/_stackyard/calls").get_data())["total"] == 1
    assert calls.snapshot()["total"] == 0


def test_accounting_does_not_count_its_own_routes_and_passes_other_ops_routes_on() -> None:
    calls = CallAccounting()
    client = Client(calls(ok_app()))
    assert client.get("/_stackyard/health").get_data() == b"ok"
    client.get("/_stackyard/calls")
    assert calls.snapshot()["total"] == 0


def test_accounting_is_exact_under_concurrent_requests() -> None:
    calls = CallAccounting()
    app = calls(ok_app())
    per_thread = 200

    def worker(index: int) -> None:
        client = Client(app)
        for _ in range(per_thread):
            client.get(f"/bucket-{index % 4}", headers=signed("s3"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snapshot = calls.snapshot()
    assert snapshot["total"] == 16 * per_thread
    assert snapshot["services"]["s3"]["ListObjects"] == 16 * per_thread


def test_status_route_reports_calls_faults_and_the_inner_health() -> None:
    def inner(env: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if env["PATH_INFO"] == "/_stackyard/health":
            start_response("200 OK", [("Content-Type", "application/json")])
            body = {"status": "ok", "unsupported_types": {"AWS::WAFv2::WebACL": 1}}
            return [json.dumps(body).encode()]
        return ok_app()(env, start_response)

    calls = CallAccounting()
    faults = FaultInjector("seed=3,ssm=throttle:0.5")
    app = StatusRoute(calls, faults, extra={"url": "http://127.0.0.1:1"})(calls(faults(inner)))
    client = Client(app)
    client.get("/", headers=signed("s3"))
    status = json.loads(client.get("/_stackyard/status").get_data())
    assert status["health"] == "ok"
    assert status["unsupported_types"] == {"AWS::WAFv2::WebACL": 1}
    assert status["calls"]["total"] == 1
    assert status["faults"]["spec"] == "seed=3,ssm=throttle:0.5"
    assert status["url"] == "http://127.0.0.1:1"
    assert status["uptime_seconds"] >= 0
