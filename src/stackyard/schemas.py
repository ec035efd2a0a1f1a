"""CloudFormation resource schemas, as cfn-lint ships them.

cfn-lint keeps one provider file per region (``data/schemas/providers/<region>.json``), a
map from resource type to a content hash, and one schema per hash
(``data/schemas/resources/<hash>.json``). This module reads them lazily and caches them per
process; it imports nothing else from stackyard so any layer may use it.

Property paths are returned as JSON pointers without the ``/properties/`` prefix, e.g.
``"QueueName"`` or ``"VpcConfig/SubnetIds"``.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = [
    "conditional_create_only_properties",
    "create_only_properties",
    "is_known_type",
    "read_only_properties",
    "regions",
    "resource_types",
    "schema",
]

DEFAULT_REGION = "us-east-1"


def _schemas_root() -> Traversable:
    # Find cfn-lint's data without importing cfn-lint (most of a second): the
    # pre-flight check reads schemas on every render.
    spec = importlib.util.find_spec("cfnlint")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).joinpath("data", "schemas")
    return resources.files("cfnlint").joinpath("data", "schemas")


@functools.cache
def _provider_map(region: str) -> dict[str, str]:
    path = _schemas_root().joinpath("providers", f"{region}.json")
    if not path.is_file():
        path = _schemas_root().joinpath("providers", f"{DEFAULT_REGION}.json")
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


@functools.cache
def regions() -> frozenset[str]:
    """The regions cfn-lint knows CloudFormation in (one provider file each)."""
    folder = _schemas_root().joinpath("providers")
    return frozenset(
        entry.name.removesuffix(".json")
        for entry in folder.iterdir()
        if entry.name.endswith(".json") and entry.name != "sam.json"
    )


@functools.cache
def resource_types(region: str = DEFAULT_REGION) -> frozenset[str]:
    """Every resource type CloudFormation offers in ``region`` (us-east-1 if unknown)."""
    return frozenset(_provider_map(region))


def is_known_type(resource_type: str, region: str = DEFAULT_REGION) -> bool:
    """Whether ``resource_type`` exists in CloudFormation (custom resources always do)."""
    if (
        resource_type.startswith("Custom::")
        or resource_type == "AWS::CloudFormation::CustomResource"
    ):
        return True
    return resource_type in _provider_map(region) or resource_type in _provider_map(DEFAULT_REGION)


@functools.cache
def _schema_by_hash(digest: str) -> dict[str, Any]:
    path = _schemas_root().joinpath("resources", f"{digest}.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def schema(resource_type: str, region: str = DEFAULT_REGION) -> dict[str, Any] | None:
    """The resource schema of ``resource_type``, or None for an unknown type."""
    digest = _provider_map(region).get(resource_type) or _provider_map(DEFAULT_REGION).get(
        resource_type
    )
    return None if digest is None else _schema_by_hash(digest)


def _paths(resource_type: str, key: str) -> tuple[str, ...]:
    found = schema(resource_type)
    if found is None:
        return ()
    prefix = "/properties/"
    return tuple(p[len(prefix) :] if p.startswith(prefix) else p for p in found.get(key, ()))


def create_only_properties(resource_type: str) -> tuple[str, ...]:
    """Properties whose change replaces the resource (``createOnlyProperties``)."""
    return _paths(resource_type, "createOnlyProperties")


def conditional_create_only_properties(resource_type: str) -> tuple[str, ...]:
    """Properties whose change may replace the resource (``conditionalCreateOnlyProperties``)."""
    return _paths(resource_type, "conditionalCreateOnlyProperties")


def read_only_properties(resource_type: str) -> tuple[str, ...]:
    """Properties CloudFormation sets and a template may not (``readOnlyProperties``)."""
    return _paths(resource_type, "readOnlyProperties")
