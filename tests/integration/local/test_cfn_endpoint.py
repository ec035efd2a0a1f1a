"""The endpoint itself: health, moto services behind it, loopback only, port in use."""

from __future__ import annotations

import json
import urllib.request

import pytest

from stackyard.errors import StackyardError, UsageError
from stackyard.local.runner import LocalEndpoint


def test_health_route_answers_json(local_endpoint: LocalEndpoint) -> None:
    with urllib.request.urlopen(f"{local_endpoint.url}/_stackyard/health") as response:
        assert response.status == 200
        body = json.loads(response.read())
    # "ok" once warmed up (moto's models and the schemas loaded), "warming" before.
    assert body["status"] in ("ok", "warming")
    assert isinstance(body["unsupported_types"], dict)


def test_moto_services_answer_through_the_endpoint(aws) -> None:
    s3 = aws("s3")
    s3.create_bucket(Bucket="endpoint-smoke")
    s3.put_object(Bucket="endpoint-smoke", Key="k", Body=b"v")
    assert s3.get_object(Bucket="endpoint-smoke", Key="k")["Body"].read() == b"v"
    ssm = aws("ssm")
    ssm.put_parameter(Name="/endpoint/smoke", Value="x", Type="String")
    assert ssm.get_parameter(Name="/endpoint/smoke")["Parameter"]["Value"] == "x"


def test_non_loopback_host_is_refused() -> None:
    with pytest.raises(UsageError, match="loopback"):
        LocalEndpoint(host="0.0.0.0")


def test_port_in_use_gives_a_clear_error(local_endpoint: LocalEndpoint) -> None:
    with pytest.raises(StackyardError, match="already in use"):
        LocalEndpoint(port=local_endpoint.port)


def test_wrap_applies_middlewares_outermost_last() -> None:
    seen: list[str] = []

    def tag(name: str):
        def middleware(app):
            def wrapped(environ, start_response):
                seen.append(name)
                return app(environ, start_response)

            return wrapped

        return middleware

    with LocalEndpoint(latency="resource=0s", wrap=[tag("inner"), tag("outer")]) as endpoint:
        urllib.request.urlopen(f"{endpoint.url}/_stackyard/health").read()
    assert seen == ["outer", "inner"]
