"""The run context a blueprint, a lookup and a hook see: namespace, environment, mappings.

Shaped like stacker's ``Context`` so that blueprints written for stacker, which read
``self.context.namespace``, ``self.context.environment`` or call
``self.context.get_fqn(name)``, keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Context:
    """What every blueprint, lookup and hook may read about the current run."""

    namespace: str = ""
    namespace_delimiter: str = "-"
    environment: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    bucket_name: str | None = None
    bucket_region: str | None = None
    config_path: str | None = None
    # Results of hooks that set ``data_key``; read by the ``hook_data`` lookup.
    hook_data: dict[str, Any] = field(default_factory=dict)

    def get_fqn(self, name: str | None = None) -> str:
        """The fully qualified name: ``namespace-name``, or just one of them if the other is empty.

        A name that already starts with the namespace and delimiter is returned
        as is, so applying it twice is harmless (stacker behaves the same).
        """
        if not name:
            return self.namespace
        if not self.namespace:
            return name
        prefix = f"{self.namespace}{self.namespace_delimiter}"
        if name.startswith(prefix):
            return name
        return f"{prefix}{name}"

    def set_hook_data(self, key: str, data: Any) -> None:
        """Store a hook's result under ``key``; a key may be set once per run."""
        if key in self.hook_data:
            raise KeyError(f"hook data key {key!r} is already set")
        self.hook_data[key] = data
