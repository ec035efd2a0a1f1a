"""Values never leak: not from AWS error messages, results, JSON, nor input handling.

No AWS here: a fake client raises the errors AWS could send back.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stackyard.cli.secrets import read_value
from stackyard.errors import StackyardError, UsageError
from stackyard.secrets.audit import RolePolicies, SecretTarget, audit
from stackyard.secrets.iam_eval import parse_policy
from stackyard.secrets.store import SecretStore

VALUE = "hunter2-do-not-print"
KEY = "arn:aws:kms:us-east-1:111122223333:key/k1"


class FakeAWS:
    """Answers the few calls a put makes; PutParameter fails echoing the value."""

    class Meta:
        region_name = "us-east-1"

    def __init__(self) -> None:
        self.meta = self.Meta()

    def __call__(self, service: str) -> FakeAWS:
        return self

    def describe_key(self, KeyId: str) -> dict[str, Any]:
        return {"KeyMetadata": {"Arn": KEY, "KeyId": "k1", "KeyState": "Enabled"}}

    def describe_parameters(self, **_: Any) -> dict[str, Any]:
        return {"Parameters": []}

    def put_parameter(self, **request: Any) -> dict[str, Any]:
        message = f"Value '{request['Value']}' at 'value' failed to satisfy constraint"
        raise ClientError(
            {"Error": {"Code": "ValidationException", "Message": message}}, "PutParameter"
        )


def test_an_aws_error_that_echoes_the_value_is_scrubbed() -> None:
    with pytest.raises(StackyardError) as info:
        SecretStore(FakeAWS(), "acme").put("/acme/web/X", VALUE)
    text = str(info.value)
    assert VALUE not in text and "****" in text and "PutParameter" in text
    assert info.value.__cause__ is None  # the original (with the value) is not chained


def test_standard_input_drops_one_newline_and_a_file_is_taken_as_is(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("line\n\n"))
    assert read_value(None) == "line\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO("crlf\r\n"))
    assert read_value(None) == "crlf"
    path = tmp_path / "v"
    path.write_bytes(b"exact\n")
    assert read_value(str(path)) == "exact\n"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(UsageError, match="not UTF-8"):
        read_value(str(path))
    with pytest.raises(UsageError, match="cannot read"):
        read_value(str(tmp_path / "missing"))


def test_an_audit_report_holds_no_values_and_applies_boundaries() -> None:
    param = "arn:aws:ssm:us-east-1:111122223333:parameter/acme/web/DB"
    everything = parse_policy(
        {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}, "admin"
    )
    boundary = tuple(
        parse_policy({"Statement": {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}}, "b")
    )
    roles = [
        RolePolicies("admin", "arn:aws:iam::111122223333:role/admin", tuple(everything)),
        RolePolicies(
            "bounded",
            "arn:aws:iam::111122223333:role/bounded",
            tuple(everything),
            boundary=boundary,
        ),
    ]
    report = audit(
        [SecretTarget("/acme/web/DB", param, KEY)], roles, "us-east-1", "111122223333", "/acme"
    )
    assert report.secrets[0].readers == ("admin",)  # the boundary does not allow kms:Decrypt
    assert report.roles[0].broad == ("admin: NotAction ['iam:*']",)
    assert report.roles[0].undeclared == ("/acme/web/DB",)
    assert set(json.loads(json.dumps(report.as_dict()))) == {
        "scope",
        "secrets",
        "unreadable",
        "roles",
        "overreaching",
        "notes",
    }
