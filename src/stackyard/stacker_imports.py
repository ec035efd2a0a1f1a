"""Code written for stacker imports unchanged: ``stacker.*`` resolves to stackyard's equivalents.

Blueprints, custom lookups and hooks written for stacker import ``stacker.blueprints.base``,
``stacker.blueprints.variables.types``, ``stacker.util``, ``stacker.exceptions`` and the like.
:func:`install` adds an import finder that answers those names with stackyard's modules, while
stackyard loads project code. It never shadows a stacker that is really installed (the finder
answers nothing when another finder finds ``stacker``), and a stacker module with no equivalent
fails with a message that names it and says what to use instead.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
from collections.abc import Sequence

__all__ = ["ALIASES", "StackerImports", "install"]

# stacker module -> the stackyard module that stands for it.
ALIASES = {
    "stacker.blueprints": "stackyard.blueprints",
    "stacker.blueprints.base": "stackyard.blueprints.base",
    "stacker.blueprints.raw": "stackyard.blueprints.raw",
    "stacker.blueprints.variables": "stackyard.blueprints.variables",
    "stacker.blueprints.variables.types": "stackyard.blueprints.variables.types",
    "stacker.lookups": "stackyard.lookups",
    "stacker.lookups.handlers": "stackyard.stacker.lookup_handlers",
    "stacker.hooks": "stackyard.hooks",
    "stacker.hooks.command": "stackyard.hooks.command",
    "stacker.hooks.route53": "stackyard.hooks.route53",
    "stacker.hooks.iam": "stackyard.hooks.iam",
    "stacker.hooks.ecs": "stackyard.hooks.ecs",
    "stacker.hooks.keypair": "stackyard.hooks.keypair",
    "stacker.hooks.aws_lambda": "stackyard.hooks.aws_lambda",
    "stacker.util": "stackyard.stacker.util",
    "stacker.exceptions": "stackyard.stacker.exceptions",
}
_PORT = (
    "change the import to stackyard's module (stacker.blueprints -> stackyard.blueprints, "
    "stacker.lookups.handlers -> stackyard.lookups), or install stacker alongside"
)


class _Alias(importlib.abc.Loader):
    """Loads a stacker name as the stackyard module that stands for it."""

    def __init__(self, target: str | None) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if self.target is None:  # the ``stacker`` package itself: a namespace of aliases
            module = types.ModuleType(spec.name, "stacker, as stackyard stands in for it")
            module.__path__ = []
            return module
        module = importlib.import_module(self.target)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system has just set the alias's spec on stackyard's own module; give
        # the module its own back (reloads and tools read it).
        own = getattr(self, "_own_spec", None)
        if own is not None:
            module.__spec__ = own


class StackerImports(importlib.abc.MetaPathFinder):
    """The finder :func:`install` puts on ``sys.meta_path``."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "stacker" and not fullname.startswith("stacker."):
            return None
        if _really_installed():
            return None
        if fullname == "stacker":
            return importlib.util.spec_from_loader(fullname, _Alias(None), is_package=True)
        wanted = ALIASES.get(fullname)
        if wanted is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: stackyard has no equivalent of this stacker "
                f"module; {_PORT}",
                name=fullname,
            )
        package = any(name.startswith(fullname + ".") for name in ALIASES)
        return importlib.util.spec_from_loader(fullname, _Alias(wanted), is_package=package)


_real: bool | None = None


def _really_installed() -> bool:
    """True when a real stacker is importable (from anywhere but this finder)."""
    global _real
    if _real is None:
        others = [f for f in sys.meta_path if not isinstance(f, StackerImports)]
        _real = any(
            hasattr(f, "find_spec") and f.find_spec("stacker", None) is not None for f in others
        )
    return _real


_lock = threading.Lock()


def install() -> None:
    """Answer ``stacker.*`` imports with stackyard's modules from now on (idempotent)."""
    with _lock:
        if not any(isinstance(f, StackerImports) for f in sys.meta_path):
            # First: the aliased packages have stackyard's ``__path__``, where the path
            # finder would find ``stacker.blueprints.base`` as a second copy of stackyard's
            # file, with classes of its own. An installed stacker is still never shadowed:
            # the finder answers nothing then.
            sys.meta_path.insert(0, StackerImports())
