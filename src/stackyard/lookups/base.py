"""The interface every lookup implements, and helpers that several lookups share."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackyard.errors import LookupError_

if TYPE_CHECKING:
    from stackyard.lookups.context import ResolveContext

FILE_PREFIX = "file://"


class Lookup:
    """A lookup type: ``${name ARGUMENT}``.

    Subclasses set the metadata as class attributes and override the methods.
    ``validate`` runs at parse time and needs nothing but the argument;
    ``resolve`` runs with a :class:`ResolveContext`. A lookup whose
    ``needs_aws`` is true is never resolved without AWS: it becomes ``Unknown``.
    """

    name: str = ""
    needs_aws: bool = False
    description: str = ""

    def validate(self, arg: str) -> None:
        """Check the argument's syntax; raise ``LookupError_`` with a hint if it is wrong."""

    def dependencies(self, arg: str) -> set[str]:
        """Config stack names that must be deployed before this lookup can resolve.

        When the argument holds nested lookups that cannot be resolved yet,
        ``arg`` is only the literal text before the first of them.
        """
        return set()

    def resolve(self, arg: str, ctx: ResolveContext) -> Any:
        """The lookup's value."""
        raise NotImplementedError

    def error(self, arg: str, problem: str, hint: str | None = None) -> LookupError_:
        """A ``LookupError_`` that names this lookup and its argument."""
        return LookupError_(f"${{{self.name} {arg}}}: {problem}", hint=hint)


def split_pair(lookup: Lookup, arg: str, sep: str, form: str) -> tuple[str, str]:
    """Split ``arg`` at the first ``sep`` into two parts, or raise naming the expected ``form``."""
    if sep not in arg:
        raise lookup.error(arg, f"expected {form}", hint=f"write ${{{lookup.name} {form}}}")
    first, second = arg.split(sep, 1)
    return first, second


def split_region(arg: str, sep: str = "@") -> tuple[str | None, str]:
    """Split stacker's optional ``region@rest`` prefix off ``arg``."""
    if sep in arg:
        region, rest = arg.split(sep, 1)
        return region.strip() or None, rest
    return None, arg


def is_file_ref(arg: str) -> bool:
    """True for stacker's ``file://path`` form, whose real argument is in a file."""
    return arg.strip().startswith(FILE_PREFIX)


def read_value_from_path(lookup: Lookup, arg: str, config_dir: Path, *, strip: bool = True) -> str:
    """``arg`` itself, or for ``file://path`` the file's text (relative to the config's folder).

    The text is stripped of surrounding whitespace unless ``strip`` is false.
    """
    if not is_file_ref(arg):
        return arg
    path = config_dir / arg.strip()[len(FILE_PREFIX) :]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise lookup.error(
            arg,
            f"cannot read {path.name}: {exc.strerror or exc}",
            hint="file:// paths are relative to the config file's folder",
        ) from exc
    return text.strip() if strip else text
