"""CloudFormation's rules for stack names, checked against the config before AWS sees them.

A stack's CloudFormation name is ``namespace`` + ``namespace_delimiter`` + (``stack_name`` or
``name``). CloudFormation takes 1 to 128 characters, ASCII letters, digits and hyphens,
starting with a letter. Two stacks that end up with the same name in the same region and
account would overwrite each other, so that is refused too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stackyard.config.loader import LoadedConfig

__all__ = ["MAX_LENGTH", "check_stack_names"]

MAX_LENGTH = 128
_VALID = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


def check_stack_names(loaded: LoadedConfig, fqn: Callable[[str], str]) -> None:
    """Refuse a CloudFormation name that breaks the rules, or one used by two stacks."""
    config = loaded.config
    seen: dict[tuple[str, str | None, str | None], int] = {}
    for index, stack in enumerate(config.stacks):
        key = "stack_name" if stack.stack_name else "name"
        path = ("stacks", index, key)
        name = fqn(stack.name)
        problem = _problem(name)
        if problem:
            raise loaded.source.error(
                f"CloudFormation stack name {name!r} {problem}",
                path,
                stack=stack.name,
                hint="stack names are namespace + delimiter + name: up to 128 ASCII letters, "
                "digits and hyphens, starting with a letter; check 'namespace' and "
                "'namespace_delimiter' too",
            )
        where = (name.lower(), stack.region, stack.profile)
        if where in seen:
            first = config.stacks[seen[where]]
            raise loaded.source.error(
                f"stacks {first.name!r} and {stack.name!r} both deploy as {name!r}",
                path,
                stack=stack.name,
                hint=f"the first is at line {loaded.source.line(('stacks', seen[where]))}; "
                "give one of them another stack_name",
            )
        seen[where] = index


def _problem(name: str) -> str | None:
    if len(name) > MAX_LENGTH:
        return f"is {len(name)} characters long; CloudFormation allows {MAX_LENGTH}"
    if not _VALID.fullmatch(name):
        if not name or not (name[0].isascii() and name[0].isalpha()):
            return "must start with an ASCII letter"
        bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c == "-"))})
        return f"has characters CloudFormation refuses: {' '.join(repr(c) for c in bad)}"
    return None
