"""The deletion plan as a person confirms it: every stack in order, protection marked."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.text import Text

from stackyard.errors import UsageError
from stackyard.plan.model import Plan, StackAction
from stackyard.plan.protection import RULE_TERMINATION_PROTECTION

__all__ = ["confirm_deletion"]


def confirm_deletion(console: Console, plan: Plan, *, ask: bool) -> bool:
    """Show what will be deleted, in order; with ``ask``, confirm on a terminal (refuse
    without one). True to go on."""
    doomed = [s for s in plan.stacks if s.action is StackAction.DELETE]
    if not doomed:
        console.print("nothing to delete: none of the selected stacks exists")
        return True
    console.print("These stacks will be deleted, in this order:")
    for stack in doomed:
        line = Text(f"  {stack.fqn} ")
        line.append(f"({stack.reason})", style="dim")
        rules = {i.rule_id for i in stack.protection.items}
        if RULE_TERMINATION_PROTECTION in rules:
            line.append(" [termination protection]", style="bold magenta")
        if rules - {RULE_TERMINATION_PROTECTION}:
            line.append(" [protected]", style="bold magenta")
        console.print(line)
    held = sum(1 for s in doomed if s.needs_approval)
    if held:
        console.print(
            Text(
                f"{held} of them need approval: nothing is deleted unless every one has it",
                style="bold magenta",
            )
        )
    if not ask:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "refusing to delete stacks without confirmation",
            hint="pass --yes (or --force) to delete without asking",
        )
    click.confirm("Delete them?", abort=True)
    return True
