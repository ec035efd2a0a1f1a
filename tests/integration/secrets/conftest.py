"""Fixtures for the secrets tests: a namespace per test, its key, a store, stack deploys."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from stackyard.secrets.store import SecretStore


@pytest.fixture
def namespace(unique: Callable[[str], str]) -> str:
    """A namespace no other test uses (the endpoint is shared by the session)."""
    return unique("ns").replace("-", "")


@pytest.fixture
def make_key(aws: Callable[[str], Any]) -> Callable[[str], str]:
    """``make_key("alias/x")`` creates a symmetric key with that alias; returns its ARN."""

    def make(alias: str) -> str:
        kms = aws("kms")
        meta = kms.create_key(Description=f"test key {alias}")["KeyMetadata"]
        kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
        return str(meta["Arn"])

    return make


@pytest.fixture
def store(aws: Callable[[str], Any], namespace: str) -> SecretStore:
    """A store for the test's namespace on the local endpoint."""
    return SecretStore(aws, namespace)


@pytest.fixture
def deploy(
    aws: Callable[[str], Any], wait_stack: Callable[..., dict[str, Any]]
) -> Callable[[str, str], dict[str, str]]:
    """``deploy(name, body)`` creates a stack with plain boto3 and returns its outputs."""

    def run(name: str, body: str) -> dict[str, str]:
        cfn = aws("cloudformation")
        cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"])
        stack = wait_stack(cfn, name)
        assert stack["StackStatus"] == "CREATE_COMPLETE", json.dumps(stack, default=str)
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    return run
