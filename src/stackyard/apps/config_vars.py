"""Config vars: ``KEY=VALUE`` pairs, where a value ``secret:/path`` is a reference to an SSM
parameter (a secret) and never the secret itself."""

from __future__ import annotations

import re

from stackyard.errors import UsageError

SECRET_PREFIX = "secret:"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,255}$")


def parse_assignments(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["A=1", "B=secret:/ns/app/b"]`` → a dict; UsageError for a malformed pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not _KEY.match(key):
            raise UsageError(
                f"{pair!r} is not KEY=VALUE",
                hint="keys are letters, digits and _; a secret is KEY=secret:/path",
            )
        if value.startswith(SECRET_PREFIX):
            path = value.removeprefix(SECRET_PREFIX)
            if not path.startswith("/") or path.endswith("/") or "*" in path:
                raise UsageError(
                    f"{key}: a secret reference is secret:/namespace/.../NAME",
                    hint="store the value first: stackyard secrets put /namespace/app/NAME",
                )
        out[key] = value
    return out


def secret_path(value: str) -> str | None:
    """The SSM path a config value refers to, or None for a plain value."""
    return value.removeprefix(SECRET_PREFIX) if value.startswith(SECRET_PREFIX) else None


def split(config: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Plain values, and secrets as ``KEY -> /path``."""
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for key, value in config.items():
        path = secret_path(value)
        if path is None:
            plain[key] = value
        else:
            secrets[key] = path
    return plain, secrets
