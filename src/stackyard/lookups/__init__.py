"""Lookups: ``${TYPE ARGUMENT}`` in config values, resolved from files, the environment, AWS.

The config layer calls :func:`validate_value` and :func:`dependencies_of`;
``render`` and the engine call :func:`resolve_value` with a
:class:`ResolveContext` (``aws=None`` turns AWS-backed lookups into
``Unknown`` values).
"""

from __future__ import annotations

from stackyard.lookups.base import Lookup
from stackyard.lookups.context import AWSAccess, ResolveContext
from stackyard.lookups.custom import LookupHandler
from stackyard.lookups.parser import Call, Template, has_lookups, parse
from stackyard.lookups.registry import LookupRegistry
from stackyard.lookups.resolve import dependencies_of, lookups_in, resolve_value, validate_value
from stackyard.lookups.secret import Secret, is_secret, mask_secrets

__all__ = [
    "AWSAccess",
    "Call",
    "Lookup",
    "LookupHandler",
    "LookupRegistry",
    "ResolveContext",
    "Secret",
    "Template",
    "dependencies_of",
    "has_lookups",
    "is_secret",
    "lookups_in",
    "mask_secrets",
    "parse",
    "resolve_value",
    "validate_value",
]
