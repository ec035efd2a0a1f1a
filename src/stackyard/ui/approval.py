"""Asking for approval, and saying afterwards what was not approved.

The prompt is one review of every protected change in the run, asked once before anything
is submitted (like ``terraform apply``): ``y`` approves them all, ``n`` declines them all,
``s`` shows the full diff of those stacks first. ``build -i`` (stacker's interactive mode)
asks instead about each stack that would change, one at a time (:func:`ask_each`): ``y``,
``n``, or ``v`` (stacker's letter; ``s`` works too) for the full diff. Answers are read from
standard input, a terminal or a pipe; when input ends, the answer is no. The policy of who
may approve what lives in ``stackyard.engine.approval``; this module only talks to the
person.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from stackyard.engine.approval import Approvals, By, Decision
from stackyard.plan.model import StackPlan
from stackyard.ui.diff import render_approval, render_changes, render_stack
from stackyard.ui.terminal import heading

if TYPE_CHECKING:
    from stackyard.plan.model import Plan

__all__ = [
    "EACH_PROMPT",
    "PROMPT",
    "ask_each",
    "ask_once",
    "read_answer",
    "render_review",
    "report_not_approved",
]

PROMPT = "Apply these protected changes? [y]es / [n]o / [s]how full diff: "
EACH_PROMPT = "Apply the changes to {name}? [y]es / [n]o / [v]iew full diff: "


def read_answer(console: Console, prompt: str) -> str | None:
    """One answer from standard input (a terminal or a pipe), lower case; None at its end.
    From a pipe the answer is echoed, so the transcript reads as a dialogue."""
    import sys

    try:
        # markup off: rich would read "[y]" as a style tag and eat it.
        answer = console.input(Text(prompt)).strip().lower()
    except EOFError:
        if not sys.stdin.isatty():
            console.print("(no more input: no)", highlight=False)
        return None
    if not sys.stdin.isatty():
        console.print(answer, highlight=False, markup=False)
    return answer


def ask_each(console: Console, *, replacements_only: bool = False) -> Callable[[StackPlan], bool]:
    """A question for ``ApprovalPolicy.ask_each``: one stack's changes, one answer.

    The stack's changes in short come first (with ``replacements_only``, only what is
    replaced, unless something needs approval), with what needs approval; ``v`` shows the
    full diff.
    """
    from stackyard.engine.replacements import replacements_view

    def ask(stack: StackPlan) -> bool:
        console.print()
        # A protected change is shown whole: what needs approval may be no replacement.
        narrow = replacements_only and not stack.needs_approval
        render_changes(replacements_view(stack) if narrow else stack, console)
        while True:
            answer = read_answer(console, EACH_PROMPT.format(name=stack.name))
            if answer is None or answer in ("n", "no"):
                return False
            if answer in ("y", "yes"):
                return True
            if answer in ("v", "view", "s", "show"):
                render_stack(stack, console, details=True, summary=False)
            else:
                console.print("please answer y, n or v")

    return ask


def ask_once(console: Console) -> Callable[[Sequence[StackPlan]], bool]:
    """A question for ``ApprovalPolicy.ask``: every stack shown, one answer for all."""

    def ask(stacks: Sequence[StackPlan]) -> bool:
        console.print()
        items = sum(len(s.protection.items) for s in stacks)
        heading(
            console,
            Text(f"approval needed: {items} protected change(s) in {len(stacks)} stack(s)"),
        )
        for stack in stacks:
            render_approval(stack, console)
        while True:
            answer = read_answer(console, PROMPT)
            if answer is None:
                return False
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            if answer in ("s", "show"):
                for stack in stacks:
                    render_stack(stack, console, details=True, summary=False)
            else:
                console.print("please answer y, n or s")

    return ask


def render_review(plan: Plan, console: Console) -> None:
    """The short form of a plan shown before a run: what changes, what needs approval."""
    from stackyard.ui.diff import summary_line

    changing = [s for s in plan.stacks if s.will_change or s.cannot_proceed]
    if not changing:
        return
    for stack in changing:
        console.print(summary_line(stack))
    held = plan.needing_approval
    if held:
        console.print(
            Text(f"{len(held)} stack(s) need approval before they run", style="bold magenta")
        )


def report_not_approved(console: Console, approvals: Approvals | None, command: str) -> None:
    """After a run: what break-glass approved, what was declined or held, how to approve."""
    if approvals is None:
        return
    for outcome in approvals.approved.values():
        if outcome.by is By.BREAK_GLASS:
            console.print(
                f"WARNING: {outcome.plan.name}: protected changes applied with --approve-protected",
                style="yellow",
                highlight=False,
                markup=False,
            )
    not_approved = approvals.not_approved.values()
    declined = [o for o in not_approved if o.decision is Decision.DECLINED]
    held = [o for o in not_approved if o.decision is Decision.HELD]
    for outcome in declined:
        console.print(
            f"{outcome.plan.name}: not changed (declined); its dependents were cancelled",
            highlight=False,
            markup=False,
        )
    if not held:
        return
    console.print()
    console.print(f"{len(held)} stack(s) need approval and were not changed:", style="bold magenta")
    for outcome in held:
        render_approval(outcome.plan, console)
    console.print()
    if command == "destroy":
        how = (
            "rerun on a terminal to be asked, save the plan with "
            "`stackyard plan --destroy -o plan.json ...` and apply it after review, "
            "or pass --approve-protected."
        )
    else:
        how = (
            "save the plan with `stackyard plan -o plan.json [ENVIRONMENT_FILE] CONFIG`, "
            "review it, then run `stackyard apply plan.json`"
            + (" (or rerun on a terminal to be asked)." if command == "build" else ".")
        )
    console.print("To approve: " + how, highlight=False, soft_wrap=True, markup=False)
