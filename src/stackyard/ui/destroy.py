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


def confirm_deletion(console: Console, plan: Plan, *, ask: bool, from_pipe: bool = False) -> bool:
    """Show what will be deleted, in order; with ``ask``, confirm on a terminal (refuse
    without one, unless ``from_pipe``: then the answer is read from standard input whatever
    it is, and its end is no). True to go on."""
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
    if from_pipe:
        from stackyard.ui.approval import read_answer

        while True:
            answer = read_answer(console, "Delete them? [y]es / [n]o: ")
            if answer is None or answer in ("n", "no"):
                return False
            if answer in ("y", "yes"):
                return True
            console.print("please answer y or n")
    if not sys.stdin.isatty():
        raise UsageError(
            "refusing to delete stacks without confirmation",
            hint="pass --yes (or --force) to delete without asking",
        )
    click.confirm("Delete them?", abort=True)
    return True
