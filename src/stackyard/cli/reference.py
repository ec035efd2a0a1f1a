"""``docs/cli.md``, generated from the click commands: usage, help and options of each.

    python -m stackyard.cli.reference > docs/cli.md

A test regenerates it and fails when the file is out of date.
"""

from __future__ import annotations

import click

__all__ = ["render_reference"]

HEADER = """\
# Command reference

Generated from the click commands by `python -m stackyard.cli.reference`; do not edit by hand.
"""


def render_reference() -> str:
    """Every command and subcommand as Markdown, in the order of ``stackyard --help``."""
    from stackyard.cli.main import cli

    parts = [HEADER]
    # make_context applies each command's context_settings (the -h alias of --help).
    root = cli.make_context("stackyard", [], resilient_parsing=True)
    parts.append(_command(cli, root, "stackyard"))
    for name, command, context in _walk(cli, root, "stackyard"):
        parts.append(_command(command, context, name))
    return "".join(parts)


def _walk(
    group: click.Command, parent: click.Context, prefix: str
) -> list[tuple[str, click.Command, click.Context]]:
    found: list[tuple[str, click.Command, click.Context]] = []
    if not isinstance(group, click.Group):
        return found
    for name in group.list_commands(parent):
        command = group.get_command(parent, name)
        if command is None or command.hidden:
            continue
        context = command.make_context(name, [], parent=parent, resilient_parsing=True)
        full = f"{prefix} {name}"
        found.append((full, command, context))
        found.extend(_walk(command, context, full))
    return found


def _command(command: click.Command, context: click.Context, name: str) -> str:
    usage = " ".join(command.collect_usage_pieces(context))
    lines = [f"\n## `{name}`\n\n```\n{name} {usage}\n```\n"]
    if command.help:
        lines.append("\n" + _paragraphs(command.help) + "\n")
    options = [p for p in command.get_params(context) if isinstance(p, click.Option)]
    if options:
        lines.append("\n| option | help |\n|---|---|\n")
        for option in options:
            record = option.get_help_record(context)
            if record is None:
                continue
            flags, text = record
            described = " ".join(text.split()).replace("|", "\\|")
            lines.append(f"| `{flags}` | {described} |\n")
    return "".join(lines)


def _paragraphs(text: str) -> str:
    blocks = [" ".join(block.split()) for block in click.unstyle(text).split("\n\n")]
    return "\n\n".join(b for b in blocks if b)


if __name__ == "__main__":
    print(render_reference(), end="")
