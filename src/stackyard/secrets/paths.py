"""Secret names and path patterns: ``/<namespace>/<app>/<NAME>``, checked before any AWS call.

A *name* is one SSM parameter (``/acme/web/DB_URL``). A *pattern* may also hold
IAM's wildcards (``/acme/web/*``, ``/acme/*/DB_?``); a pattern ending in ``/*``
is a *path prefix*, which also grants listing by path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from stackyard.errors import UsageError

__all__ = [
    "SecretPathError",
    "key_alias",
    "parameter_arn",
    "path_prefix",
    "validate_name",
    "validate_pattern",
    "validate_patterns",
]

# SSM allows a-zA-Z0-9_.- and / in names; 1011 characters at most for a full path.
_NAME_CHARS = re.compile(r"[A-Za-z0-9_.\-/]+")
_PATTERN_CHARS = re.compile(r"[A-Za-z0-9_.\-/*?]+")
_NAMESPACE = re.compile(r"[A-Za-z0-9_\-]+")
MAX_NAME = 1011


@dataclass(eq=False)
class SecretPathError(UsageError):
    """A secret name or path pattern is malformed or outside the namespace."""


def _check(path: str, namespace: str | None, *, pattern: bool) -> str:
    kind = "path pattern" if pattern else "secret name"
    example = f"/{namespace or 'NAMESPACE'}/APP/NAME"
    chars = _PATTERN_CHARS if pattern else _NAME_CHARS
    if not path.startswith("/"):
        raise SecretPathError(f"{kind} {path!r} must start with /", hint=f"e.g. {example}")
    if not chars.fullmatch(path):
        allowed = "letters, digits, _ . - /" + (" and the wildcards * ?" if pattern else "")
        raise SecretPathError(
            f"{kind} {path!r} has characters SSM does not allow", hint=f"use {allowed}"
        )
    if "//" in path or path.endswith("/") or len(path) > MAX_NAME:
        raise SecretPathError(
            f"{kind} {path!r} is not a valid parameter path",
            hint=f"segments are non-empty, no trailing /, at most {MAX_NAME} characters",
        )
    segments = path[1:].split("/")
    if len(segments) < 2:
        raise SecretPathError(
            f"{kind} {path!r} is not under a namespace", hint=f"secrets live at {example}"
        )
    first = segments[0]
    if "*" in first or "?" in first:
        raise SecretPathError(
            f"{kind} {path!r} puts a wildcard in the namespace segment",
            hint="a role may read secrets of its own namespace only",
        )
    if first.lower().startswith(("aws", "ssm")):
        raise SecretPathError(
            f"{kind} {path!r} starts with a prefix SSM reserves (aws, ssm)",
            hint=f"secrets live at {example}",
        )
    if namespace and first != namespace:
        raise SecretPathError(
            f"{kind} {path!r} is outside the namespace {namespace!r}",
            hint=f"secrets of this namespace live under /{namespace}/",
        )
    return path


def validate_name(name: str, namespace: str | None = None) -> str:
    """``name`` if it is a valid secret name (no wildcards) under ``/namespace/``."""
    return _check(name.strip(), namespace, pattern=False)


def validate_pattern(pattern: str, namespace: str | None = None) -> str:
    """``pattern`` if it is a valid path pattern (wildcards allowed) under ``/namespace/``."""
    return _check(pattern.strip(), namespace, pattern=True)


def validate_patterns(patterns: Iterable[str], namespace: str | None = None) -> list[str]:
    """Valid, de-duplicated, sorted patterns; raises :class:`SecretPathError` on the first bad."""
    return sorted({validate_pattern(p, namespace) for p in patterns})


def path_prefix(pattern: str) -> str | None:
    """The path of a prefix pattern (``/ns/app`` for ``/ns/app/*``), else None."""
    if pattern.endswith("/*"):
        head = pattern[:-2]
        if "*" not in head and "?" not in head:
            return head
    return None


def parameter_arn(name: str, region: str, account: str, partition: str = "aws") -> str:
    """The ARN of parameter ``name`` (or of a pattern): ``arn:aws:ssm:R:A:parameter/ns/x``."""
    return f"arn:{partition}:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def key_alias(namespace: str) -> str:
    """The alias of a namespace's secrets key: ``alias/<namespace>/secrets``."""
    if not _NAMESPACE.fullmatch(namespace):
        raise SecretPathError(
            f"namespace {namespace!r} cannot name a KMS alias",
            hint="KMS aliases take letters, digits, _ and -",
        )
    return f"alias/{namespace}/secrets"
