"""Fault specs: grammar, precedence, reproducibility, and error shapes botocore understands."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import botocore.parsers
import botocore.session
import pytest
from botocore.retries.standard import ThrottledRetryableChecker
from werkzeug.test import Client

from stackyard.errors import UsageError
from stackyard.local.middleware import FaultInjector, FaultRule, FaultSpec, RequestInfo

AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host, Signature=abc"
)
FORM = "application/x-www-form-urlencoded"


def ok(env: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def test_parse_reads_seed_targets_kinds_and_rates() -> None:
    spec = FaultSpec.parse(
        "seed=7, cloudformation:DescribeStacks=throttle:0.3, *=error500:5%, "
        "ssm:*=drop:0.1+error503:0.2, s3=throttle"
    )
    assert spec.seed == 7
    assert spec.rules == (
        FaultRule("cloudformation", "describestacks", (("throttle", 0.3),)),
        FaultRule("*", "*", (("error500", 0.05),)),
        FaultRule("ssm", "*", (("drop", 0.1), ("error503", 0.2))),
        FaultRule("s3", "*", (("throttle", 1.0),)),
    )


@pytest.mark.parametrize("text", [None, "", "  ", "seed=3"])
def test_empty_specs_inject_nothing(text: str | None) -> None:
    spec = FaultSpec.parse(text)
    assert all(spec.decide("ssm", "GetParameter", n) is None for n in range(1, 100))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("ssm", "is not TARGET=FAULT"),
        ("ssm=", "is not TARGET=FAULT"),
        ("seed=x", "seed must be an integer"),
        ("ssm=explode:0.1", "unknown fault 'explode'"),
        ("ssm=throttle:1.5", "outside 0..1"),
        ("ssm=throttle:abc", "invalid rate"),
        ("ssm=throttle:0.7+drop:0.5", "add up to more than 1"),
        ("a:b:c=drop", "invalid target"),
        ("ss m=drop", "invalid target"),
        ("ssm=drop:0.1,SSM:*=throttle:0.1", "appears twice"),
    ],
)
def test_invalid_specs_name_the_bad_item(text: str, fragment: str) -> None:
    with pytest.raises(UsageError, match="faults spec") as caught:
        FaultSpec.parse(text)
    assert fragment in caught.value.message


def test_the_most_specific_target_wins() -> None:
    spec = FaultSpec.parse("*=error500,ssm=error503,*:GetParameter=drop,ssm:GetParameter=throttle")
    assert spec.decide("ssm", "GetParameter", 1) == "throttle"
    assert spec.decide("s3", "GetParameter", 1) == "drop"
    assert spec.decide("ssm", "PutParameter", 1) == "error503"
    assert spec.decide("sqs", "CreateQueue", 1) == "error500"


def test_decisions_are_reproducible_from_the_seed_and_vary_with_it() -> None:
    def run(text: str) -> list[str | None]:
        spec = FaultSpec.parse(text)
        return [spec.decide("cloudformation", "DescribeStacks", n) for n in range(1, 200)]

    assert run("seed=7,*=throttle:0.3") == run("seed=7,*=throttle:0.3")
    assert run("seed=7,*=throttle:0.3") != run("seed=8,*=throttle:0.3")


def test_rates_are_honoured_and_split_between_kinds() -> None:
    spec = FaultSpec.parse("seed=1,*=throttle:0.3+drop:0.1")
    decisions = [spec.decide("ssm", "GetParameter", n) for n in range(1, 20001)]
    assert 0.28 < decisions.count("throttle") / 20000 < 0.32
    assert 0.08 < decisions.count("drop") / 20000 < 0.12


def test_which_calls_fail_does_not_depend_on_other_actions_interleaving() -> None:
    text = "seed=5,*=throttle:0.5"
    alone, mixed = FaultInjector(text), FaultInjector(text)
    describe = RequestInfo("cloudformation", "DescribeStacks", "x", "query")
    other = RequestInfo("ssm", "GetParameter", "x", "json")
    first = [alone.decide(describe) for _ in range(50)]
    second = []
    for _ in range(50):
        mixed.decide(other)
        second.append(mixed.decide(describe))
        mixed.decide(other)
    assert first == second


# ---------------------------------------------------------------------------------------------
# Error shapes, parsed by botocore's own parsers


def parse_error(service: str, operation: str, status: int, headers: Any, body: bytes) -> Any:
    model = botocore.session.get_session().get_service_model(service)
    parser = botocore.parsers.create_parser(model.metadata["protocol"])
    response = {"status_code": status, "headers": dict(headers), "body": body}
    return parser.parse(response, model.operation_model(operation).output_shape)


@pytest.mark.parametrize(
    ("service", "operation", "request_kwargs", "status", "code"),
    [
        (
            "cloudformation",
            "DescribeStacks",
            {"data": "Action=DescribeStacks&Version=2010-05-15", "content_type": FORM},
            400,
            "Throttling",
        ),
        (
            "ec2",
            "DescribeVpcs",
            {"data": "Action=DescribeVpcs&Version=2016-11-15", "content_type": FORM},
            400,
            "Throttling",
        ),
        (
            "ssm",
            "GetParameter",
            {"data": "{}", "headers": {"X-Amz-Target": "AmazonSSM.GetParameter"}},
            400,
            "ThrottlingException",
        ),
        (
            "sqs",
            "CreateQueue",
            {"data": "{}", "headers": {"X-Amz-Target": "AmazonSQS.CreateQueue"}},
            400,
            "ThrottlingException",
        ),
        ("s3", "PutObject", {"method": "PUT", "path": "/bucket-one/key"}, 503, "SlowDown"),
    ],
)
def test_throttling_is_in_the_protocol_shape_and_botocore_sees_throttling(
    service: str, operation: str, request_kwargs: dict[str, Any], status: int, code: str
) -> None:
    client = Client(FaultInjector(f"{service}=throttle")(ok))
    headers = {"Authorization": AUTH.format(service=service), **request_kwargs.pop("headers", {})}
    method = request_kwargs.pop("method", "POST")
    path = request_kwargs.pop("path", "/")
    response = client.open(path, method=method, headers=headers, **request_kwargs)
    assert response.status_code == status
    parsed = parse_error(service, operation, status, response.headers, response.get_data())
    assert parsed["Error"]["Code"] == code
    assert code in ThrottledRetryableChecker._THROTTLED_ERROR_CODES


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("error500", 500, "InternalFailure"), ("error503", 503, "ServiceUnavailable")],
)
def test_server_errors_carry_their_aws_codes(kind: str, status: int, code: str) -> None:
    client = Client(FaultInjector(f"*={kind}")(ok))
    response = client.post(
        "/",
        data="Action=CreateStack&Version=2010-05-15",
        content_type=FORM,
        headers={"Authorization": AUTH.format(service="cloudformation")},
    )
    assert response.status_code == status
    parsed = parse_error("cloudformation", "CreateStack", status, response.headers, response.data)
    assert parsed["Error"]["Code"] == code


def test_drop_unwinds_with_a_connection_error() -> None:
    client = Client(FaultInjector("*=drop")(ok))
    with pytest.raises(ConnectionAbortedError):
        client.get("/", headers={"Authorization": AUTH.format(service="s3")})


def test_ops_routes_are_never_faulted() -> None:
    client = Client(FaultInjector("*=error500")(ok))
    assert client.get("/_stackyard/health").status_code == 200
    assert client.get("/_stackyard/faults").status_code == 200


def test_the_spec_can_be_replaced_at_runtime_and_a_bad_one_is_refused() -> None:
    injector = FaultInjector()
    client = Client(injector(ok))
    headers = {"Authorization": AUTH.format(service="s3")}
    assert client.get("/", headers=headers).status_code == 200

    answer = client.post("/_stackyard/faults", data="seed=2,s3=error503")
    assert answer.status_code == 200
    assert json.loads(answer.data)["spec"] == "seed=2,s3=error503"
    assert client.get("/", headers=headers).status_code == 503
    report = json.loads(client.get("/_stackyard/faults").data)
    assert report["injected"] == {"s3:ListBuckets": {"error503": 1}}

    refused = client.post("/_stackyard/faults", data="s3=boom")
    assert refused.status_code == 400
    assert "unknown fault" in json.loads(refused.data)["error"]
    assert injector.spec.text == "seed=2,s3=error503"

    client.post("/_stackyard/faults", json={"spec": ""})
    assert client.get("/", headers=headers).status_code == 200
    client.post("/_stackyard/faults", data="s3=drop")
    assert client.delete("/_stackyard/faults").status_code == 200
    assert client.get("/", headers=headers).status_code == 200
