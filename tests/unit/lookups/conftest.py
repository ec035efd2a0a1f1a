"""Shared fixtures: the registry, a fake AWS, and a way to build a ResolveContext."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stackyard.context import Context
from stackyard.errors import LookupError_
from stackyard.lookups import LookupRegistry, ResolveContext


@dataclass
class FakeAWS:
    """An in-memory AWSAccess that records what it was asked."""

    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    parameters: dict[str, tuple[str, str]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def stack_outputs(self, fqn: str, region: str | None = None) -> dict[str, str]:
        self.calls.append(("stack_outputs", fqn, region))
        if fqn not in self.outputs:
            raise LookupError_(f"stack {fqn} does not exist")
        return self.outputs[fqn]

    def ssm_parameter(self, name: str, region: str | None = None) -> tuple[str, str]:
        self.calls.append(("ssm_parameter", name, region))
        return self.parameters[name]

    def kms_decrypt(self, ciphertext_b64: str, region: str | None = None) -> str:
        self.calls.append(("kms_decrypt", ciphertext_b64, region))
        return f"plain-{ciphertext_b64}"

    def ami_search(
        self,
        owners: Sequence[str],
        filters: Mapping[str, Sequence[str]],
        name_regex: str,
        region: str | None = None,
        executable_users: Sequence[str] = (),
    ) -> str:
        self.calls.append(
            ("ami_search", tuple(owners), dict(filters), name_regex, region, executable_users)
        )
        return "ami-123"

    def dynamodb_item(
        self, table: str, key: Mapping[str, Mapping[str, str]], region: str | None = None
    ) -> dict[str, Any] | None:
        self.calls.append(("dynamodb_item", table, dict(key), region))
        return self.items.get(table)


@pytest.fixture
def registry() -> LookupRegistry:
    return LookupRegistry.with_builtins()


@pytest.fixture
def fake_aws() -> FakeAWS:
    return FakeAWS()


MakeCtx = Callable[..., ResolveContext]


@pytest.fixture
def make_ctx(tmp_path: Path) -> MakeCtx:
    """Build a ResolveContext; keyword arguments override its fields or the run Context's."""

    def make(**overrides: Any) -> ResolveContext:
        run_fields = {"namespace", "environment", "hook_data", "namespace_delimiter"}
        run = {k: overrides.pop(k) for k in list(overrides) if k in run_fields}
        run.setdefault("namespace", "ns")
        overrides.setdefault("config_dir", tmp_path)
        overrides.setdefault("environ", {})
        return ResolveContext(context=Context(**run), **overrides)

    return make
