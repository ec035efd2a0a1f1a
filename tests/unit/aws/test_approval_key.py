"""Where the approval key comes from: the environment, else an SSM parameter."""

from __future__ import annotations

from typing import Any

import pytest

from stackyard.aws.approval_key import KEY_ENV, KEY_SSM_ENV, approval_key
from stackyard.errors import StackyardError


class FakeClients:
    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def client(self, service: str) -> Any:
        assert service == "ssm"
        return self

    def get_parameter(self, **kwargs: Any) -> dict[str, Any]:
        self.asked.append(kwargs)
        return {"Parameter": {"Value": "from-ssm-0123456789"}}


def test_the_environment_key_comes_first() -> None:
    clients = FakeClients()
    key = approval_key({KEY_ENV: "e" * 20, KEY_SSM_ENV: "/k"}, clients)  # type: ignore[arg-type]
    assert key == b"e" * 20 and clients.asked == []


def test_the_key_is_read_from_ssm_with_decryption() -> None:
    clients = FakeClients()
    key = approval_key({KEY_SSM_ENV: "/ops/approval-key"}, clients)  # type: ignore[arg-type]
    assert key == b"from-ssm-0123456789"
    assert clients.asked == [{"Name": "/ops/approval-key", "WithDecryption": True}]


def test_no_key_or_a_short_one_is_an_error() -> None:
    with pytest.raises(StackyardError, match="no approval key"):
        approval_key({})
    with pytest.raises(StackyardError, match="too short"):
        approval_key({KEY_ENV: "short"})
