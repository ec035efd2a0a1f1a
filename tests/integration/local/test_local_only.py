"""Only local callers: a web page cannot drive the endpoint through the user's browser."""

from __future__ import annotations

import http.client
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import botocore.exceptions
import pytest

from stackyard.local.runner import LocalEndpoint

TEMPLATE = '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}'


def post_form(url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        body = urlencode(form)
        connection.request(
            "POST",
            "/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def create_form(name: str) -> dict[str, str]:
    return {
        "Action": "CreateStack",
        "Version": "2010-05-15",
        "StackName": name,
        "TemplateBody": TEMPLATE,
    }


def assert_no_stack(aws: Callable[[str], Any], name: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError, match="does not exist"):
        aws("cloudformation").describe_stacks(StackName=name)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Host": "evil.example"},
        {"Host": "evil.example:4566"},
        {"Host": "127.0.0.1.evil.example"},
    ],
    ids=["foreign-origin", "null-origin", "cross-site", "host", "host-port", "host-lookalike"],
)
def test_browser_and_rebinding_requests_are_refused_and_change_nothing(
    local_endpoint: LocalEndpoint, aws: Callable[[str], Any], headers: dict[str, str]
) -> None:
    name = f"evil-{uuid.uuid4().hex[:10]}"
    status, body = post_form(local_endpoint.url, create_form(name), headers)
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body
    assert b"only answers local callers" in body
    assert_no_stack(aws, name)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Host": "localhost:4566"},
        {"Host": "[::1]:4566"},
        {"Host": "127.0.0.2"},
        {"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"},
    ],
    ids=["sdk", "localhost", "ipv6", "loopback-net", "local-page"],
)
def test_local_callers_pass(
    local_endpoint: LocalEndpoint, aws: Callable[[str], Any], headers: dict[str, str]
) -> None:
    name = f"local-{uuid.uuid4().hex[:10]}"
    status, body = post_form(local_endpoint.url, create_form(name), headers)
    assert status == 200, body
    cfn = aws("cloudformation")
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackName"] == name
    cfn.delete_stack(StackName=name)


def test_own_routes_refuse_foreign_hosts(local_endpoint: LocalEndpoint) -> None:
    parts = urlsplit(local_endpoint.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        connection.request("GET", "/_stackyard/health", headers={"Host": "evil.example"})
        response = connection.getresponse()
        assert response.status == 403
        assert b"only answers local callers" in response.read()
    finally:
        connection.close()
