"""Sub-environments: what ``prod/canary`` inherits from ``prod``, key by key.

A sub-environment is named ``PARENT/NAME`` and declares ``parent: PARENT`` in ``apps.yaml``.
Its effective settings are its parent's with its own on top, per key:

- bindings (``cluster``, ``vpc``, ``listener``, ``env_file``) are always the parent's: a
  canary runs in the parent's cluster, behind the parent's listener, on the same
  infrastructure; ``secrets_key``, ``execution_role`` and ``protected`` may be overridden;
- defaults: ``cpu`` and ``memory`` where the child sets them; placement constraints add up
  (parent's, then the child's: a child can only narrow where its tasks go) and the child's
  strategy, when it has one, replaces the parent's;
- config vars and formation live in the apps database per environment: a key the child
  sets overrides the parent's, every other key is the parent's as it is *now*, so a change
  to the parent's config reaches the child's next release unless the child overrides it.

Per process, placement then merges once more over the effective defaults (constraints add,
a process's strategy replaces): :func:`process_placement`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from stackyard.apps.manifest import Placement, Process

__all__ = [
    "FIXED_BINDINGS",
    "OVERRIDABLE",
    "SUB_ENVIRONMENT",
    "effective_defaults",
    "effective_formation",
    "layered",
    "merge_placement",
    "parent_name",
    "process_placement",
]

SUB_ENVIRONMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]*)/([a-z0-9][a-z0-9-]{0,19})$")
# what a sub-environment takes from its parent and may not change, and what it may
FIXED_BINDINGS = ("cluster", "vpc", "listener", "env_file")
OVERRIDABLE = ("secrets_key", "execution_role", "protected")

V = TypeVar("V")


def parent_name(environment: str) -> str | None:
    """``prod`` for ``prod/canary``; None for an environment that is not a sub-environment."""
    found = SUB_ENVIRONMENT.match(environment)
    return found.group(1) if found else None


def merge_placement(*layers: Placement) -> Placement:
    """Placement layers from the least to the most specific: constraints add up, the most
    specific layer that has a strategy gives it."""
    constraints = tuple(c for layer in layers for c in layer.constraints)
    strategy: tuple[Any, ...] = ()
    for layer in layers:
        strategy = layer.strategy or strategy
    return Placement(constraints=constraints, strategy=strategy)


def effective_defaults(parent: Any, child: Any) -> Any:
    """A child's :class:`~stackyard.apps.environments.Defaults` over its parent's."""
    chosen = {
        key: getattr(child if key in child.model_fields_set else parent, key)
        for key in ("cpu", "memory")
    }
    placement = merge_placement(parent.placement, child.placement)
    return type(parent)(**chosen, placement=placement)


def process_placement(process: Process, defaults: Any) -> Placement:
    """A process's placement over its environment's effective defaults."""
    return merge_placement(defaults.placement, process.placement)


def layered(parent: Mapping[str, V], own: Mapping[str, V]) -> dict[str, tuple[V, str]]:
    """Each key's effective value and where it comes from: ``own`` or ``inherited``."""
    out: dict[str, tuple[V, str]] = {k: (v, "inherited") for k, v in parent.items()}
    out.update({k: (v, "own") for k, v in own.items()})
    return dict(sorted(out.items()))


def effective_formation(
    parent: Mapping[str, Mapping[str, int | None]], own: Mapping[str, Mapping[str, int | None]]
) -> dict[str, dict[str, int | None]]:
    """Per process: the child's count where it scaled the process, and its CPU and memory
    where it set them; the parent's otherwise."""
    out = {name: dict(values) for name, values in parent.items()}
    for name, values in own.items():
        merged = dict(out.get(name, {}))
        for key, value in values.items():
            if value is not None or key not in merged:
                merged[key] = value
        out[name] = merged
    return out
