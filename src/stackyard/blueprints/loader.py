"""Turn a stack's ``class_path`` or ``template_path`` into a blueprint instance.

This is the one door the config layer and the planner use::

    blueprint = load_blueprint(
        stack_name="vpc", class_path="blueprints.vpc.VPC", template_path=None,
        context=context, description=None, mappings=config_mappings,
        sys_path=["."], base_dir=config_dir,
    )

Every failure is a :class:`~stackyard.errors.BlueprintError` with the stack,
the config key and a hint; never a raw ``ImportError``.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from stackyard.errors import BlueprintError, StackyardError

if TYPE_CHECKING:
    from stackyard.context import Context

    from .base import Blueprint

__all__ = ["import_blueprint_class", "load_blueprint", "resolve_template_path"]


def load_blueprint(
    *,
    stack_name: str,
    class_path: str | None,
    template_path: str | None,
    context: Context,
    description: str | None,
    mappings: dict[str, Any] | None,
    sys_path: list[str] | None,
    base_dir: Path,
) -> Blueprint:
    """The blueprint for one stack: an instance of ``class_path``, or a raw template.

    Relative ``sys_path`` entries are taken from ``base_dir``; an entry not yet on
    ``sys.path`` is there only while the module is imported. ``template_path`` is
    found as :func:`resolve_template_path` says. Exactly one of ``class_path`` and
    ``template_path`` must be given. Variables are not resolved here: call
    ``resolve_variables`` next.
    """
    if bool(class_path) == bool(template_path):
        given = "both" if class_path else "neither"
        raise BlueprintError(
            f"stack has {given} of class_path and template_path",
            stack=stack_name,
            key="class_path",
            hint="give a stack exactly one: a Python blueprint (class_path) or a template file "
            "(template_path)",
        )
    if template_path:
        from .raw import RawTemplateBlueprint

        path = resolve_template_path(template_path, base_dir=base_dir, sys_path=sys_path)
        if path is None:
            raise BlueprintError(
                f"template_path {template_path!r} does not exist",
                file=str(base_dir / template_path),
                stack=stack_name,
                key="template_path",
                hint="template_path is looked for in the working directory, then under "
                "sys_path and the other entries of Python's path, then in the config file's "
                "folder",
            )
        return RawTemplateBlueprint(
            stack_name, context, path, mappings=mappings, description=description
        )

    assert class_path is not None
    cls = import_blueprint_class(
        class_path, sys_path=sys_path, base_dir=base_dir, stack_name=stack_name
    )
    try:
        return cls(stack_name, context, mappings=mappings, description=description)
    except StackyardError:
        raise
    except (Exception, SystemExit, KeyboardInterrupt) as exc:
        raise BlueprintError(
            f"blueprint {class_path} failed to initialise: {type(exc).__name__}: {exc}",
            stack=stack_name,
            key="class_path",
            hint="the error comes from the blueprint's __init__; --debug shows the traceback",
        ) from exc


def resolve_template_path(
    template_path: str, *, base_dir: Path, sys_path: list[str] | None = None
) -> Path | None:
    """Where ``template_path`` is, searched as stacker 1.7 searched it, then one place more.

    stacker (``stacker.blueprints.raw.get_template_path``) looks in the working directory,
    then under every ``sys.path`` entry, which holds the config's ``sys_path`` once the
    config is loaded. After those, the config's ``sys_path`` entries (relative to
    ``base_dir``) and ``base_dir`` itself (the config file's folder) are tried, so a
    project run from another folder still finds its templates.
    """
    candidates = [Path(template_path)]
    candidates += [
        Path(entry or ".") / template_path for entry in sys.path if isinstance(entry, str)
    ]
    candidates += [base_dir / entry / template_path for entry in sys_path or []]
    candidates.append(base_dir / template_path)
    for candidate in candidates:
        if candidate.is_file():
            return Path(os.path.abspath(candidate))
    return None


def import_blueprint_class(
    class_path: str,
    *,
    sys_path: list[str] | None = None,
    base_dir: Path,
    stack_name: str | None = None,
) -> type[Blueprint]:
    """Import ``package.module.ClassName`` and check it is a :class:`Blueprint` subclass."""
    from .base import Blueprint

    module_name, _, class_name = class_path.rpartition(".")
    if not module_name or not class_name:
        raise BlueprintError(
            f"class_path {class_path!r} is not of the form module.ClassName",
            stack=stack_name,
            key="class_path",
            hint="for example: blueprints.vpc.VPC",
        )
    module = _import_module(module_name, class_path, sys_path or [], base_dir, stack_name)
    cls = getattr(module, class_name, None)
    if cls is None:
        names = [
            name
            for name, obj in vars(module).items()
            if inspect.isclass(obj) and issubclass(obj, Blueprint) and obj is not Blueprint
        ]
        by_lower = {name.lower(): name for name in names}
        close = [by_lower[m] for m in difflib.get_close_matches(class_name.lower(), by_lower, n=1)]
        raise BlueprintError(
            f"module {module_name!r} has no class {class_name!r}",
            file=getattr(module, "__file__", None),
            stack=stack_name,
            key="class_path",
            hint=f"did you mean {module_name}.{close[0]}?"
            if close
            else f"blueprints defined there: {', '.join(sorted(names)) or 'none'}",
        )
    if not (inspect.isclass(cls) and issubclass(cls, Blueprint)):
        hint = "a blueprint subclasses stackyard.blueprints.base.Blueprint"
        if inspect.isclass(cls) and any(b.__name__ == "Blueprint" for b in cls.__mro__[1:]):
            hint = "import Blueprint from stackyard.blueprints.base instead of stacker's"
        raise BlueprintError(
            f"{class_path} is not a Blueprint class (it is {_describe(cls)})",
            file=getattr(module, "__file__", None),
            stack=stack_name,
            key="class_path",
            hint=hint,
        )
    return cls


def _describe(obj: Any) -> str:
    if inspect.isclass(obj):
        return f"class {obj.__module__}.{obj.__qualname__}"
    return f"a {type(obj).__name__}"


@contextmanager
def _extra_sys_path(entries: list[str], base_dir: Path) -> Iterator[list[str]]:
    """``sys_path`` entries (relative to ``base_dir``) on ``sys.path`` for the duration."""
    added: list[str] = []
    for entry in entries:
        path = str((base_dir / entry).resolve())
        if path not in sys.path:
            added.append(path)
    sys.path[:0] = added
    if added:
        importlib.invalidate_caches()
    try:
        yield added
    finally:
        for path in added:
            with suppress(ValueError):  # the module may have removed it itself
                sys.path.remove(path)


def _import_module(
    module_name: str,
    class_path: str,
    sys_path: list[str],
    base_dir: Path,
    stack_name: str | None,
) -> ModuleType:
    def error(message: str, hint: str, **where: Any) -> BlueprintError:
        return BlueprintError(message, stack=stack_name, key="class_path", hint=hint, **where)

    from stackyard.stacker_imports import install

    install()  # blueprints written for stacker import `stacker.*` unchanged
    searched = ", ".join(sys_path) if sys_path else "none"
    with _extra_sys_path(sys_path, base_dir):
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing == "stacker" or missing.startswith("stacker."):
                raise error(
                    f"cannot import {module_name!r} for {class_path}: {exc}",
                    "stackyard stands in for stacker.blueprints, stacker.lookups, stacker.hooks, "
                    "stacker.util and stacker.exceptions; for other stacker modules change the "
                    "import to stackyard's equivalent",
                ) from exc
            if module_name == missing or module_name.startswith(missing + "."):
                raise error(
                    f"cannot import module {module_name!r} for {class_path}: {exc}",
                    f"add the directory that contains {missing.split('.')[0]!r} to sys_path "
                    f"in the config (relative to the working directory, as in stacker; sys_path "
                    f"now: {searched})",
                ) from exc
            raise error(
                f"importing {module_name!r} for {class_path} failed: {exc}",
                f"the blueprint imports {missing!r}: install it, or add its directory to "
                f"sys_path in the config (sys_path now: {searched})",
            ) from exc
        except ImportError as exc:
            raise error(
                f"importing {module_name!r} for {class_path} failed: {exc}",
                f"check the blueprint's imports, and sys_path in the config "
                f"(sys_path now: {searched})",
            ) from exc
        except SyntaxError as exc:
            raise error(
                f"blueprint module {module_name!r} has a syntax error: {exc.msg}",
                "fix the Python syntax on that line",
                file=exc.filename,
                line=exc.lineno,
            ) from exc
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            raise error(
                f"importing {module_name!r} for {class_path} raised {type(exc).__name__}: {exc}",
                "the module's top-level code failed; --debug shows the traceback",
            ) from exc
