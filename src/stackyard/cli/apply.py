"""``build``, ``destroy`` and ``info``: the commands that act on (or read) AWS.

Wiring only, over ``stackyard.workflow``: load the project, make the gateway (``--local``
points it at the local endpoint and changes nothing else), run plan → approve → execute
with a progress view, and turn the result into an exit code: 0 ok, 1 failure, 2 usage or
config, 3 protected changes held or declined, 130 interrupted. Heavy imports stay inside
the functions so ``--help`` is instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from stackyard.cli import wiring
from stackyard.cli.options import NO_EFFECT, Invocation, config_arguments, stacker_flags
from stackyard.cli.plan import prune_option

if TYPE_CHECKING:
    from stackyard.plan.planner import Planned
    from stackyard.project import Project

__all__ = ["build", "destroy", "info"]


def _run_options(func: Any) -> Any:
    func = click.option(
        "--stats", is_flag=True, help="Print the CloudFormation calls made, by action."
    )(func)
    func = click.option(
        "-j",
        "--max-parallel",
        type=click.IntRange(min=0),
        default=0,
        metavar="N",
        help="Work on at most N stacks at once (default: no limit).",
    )(func)
    return func


def _approve_option(func: Any) -> Any:
    return click.option(
        "--approve-protected",
        is_flag=True,
        help="Break glass: run protected changes without asking (says so loudly).",
    )(func)


def _tail_option(func: Any) -> Any:
    return click.option(
        "-t",
        "--tail",
        is_flag=True,
        help="Print each stack's CloudFormation events as they happen: "
        "[STACK] STATUS TYPE LOGICAL_ID: REASON.",
    )(func)


@click.command()
@config_arguments
@wiring.aws_options
@_run_options
@click.option(
    "--recreate-failed",
    is_flag=True,
    help="Delete and create again stacks stackyard created that failed to create.",
)
@stacker_flags(
    interactive="Ask about each stack that would change, one at a time in build order, "
    "before anything is submitted: y applies it, n leaves it and the stacks that need it "
    "unchanged (exit 3), v shows its full diff. Answers may come from a pipe; end of input "
    "is n. Implies --recreate-failed (a recreation is asked about like any change).",
    replacements_only="With -i: ask only about stacks where a resource would (or may) be "
    "replaced or a failed stack recreated, and about protected changes; the other changes "
    "run without asking. Without -i it changes nothing.",
    recreate_failed=None,
)
@click.option(
    "--force",
    "force",
    multiple=True,
    metavar="NAME",
    help="Update this locked stack anyway. Repeatable.",
)
@_approve_option
@wiring.no_wait_option
@click.option(
    "--change-sets",
    is_flag=True,
    help="Update through change sets (create, review, execute) instead of one UpdateStack "
    "per stack; stacks with transforms or nested stacks always use one.",
)
@prune_option
@_tail_option
@click.option(
    "-o",
    "--outline",
    is_flag=True,
    help="Print the steps the build would take, in order, and stop: no AWS call, no hook, "
    "no change.",
)
@click.option(
    "-d",
    "--dump",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Write each stack's rendered template to "
    "DIR/stack_templates/<stack name on AWS>/<name>-<md5[:8]>.json, as stacker named them, "
    "and stop: no hook, no change (AWS is read only when a template itself holds a value "
    "from it, such as another stack's output).",
)
@click.pass_context
def build(
    ctx: click.Context,
    inv: Invocation,
    local: bool,
    retry_mode: str,
    max_parallel: int,
    stats: bool,
    recreate_failed: bool,
    interactive: bool,
    replacements_only: bool,
    force: tuple[str, ...],
    approve_protected: bool,
    no_wait: bool,
    change_sets: bool,
    prune: bool,
    tail: bool,
    outline: bool,
    dump: str | None,
) -> None:
    """Plan, approve, then create or update stacks, each as soon as what it needs is done.

    Every protected change is shown and asked about once, on a terminal, before anything
    is submitted; without a terminal protected stacks are held (the rest still run).
    With -i every change is asked about, stack by stack, answers read from standard input.

    Exit codes: 0 done, 1 a stack failed, 2 usage or config error, 3 protected changes
    held or declined (or a stack declined with -i), 130 interrupted.
    """
    from stackyard import workflow
    from stackyard.engine.run import RunOptions

    project = wiring.load_project(inv)
    wiring.check_forced(project, force)
    if outline or dump:
        _outline_and_dump(project, inv, local, retry_mode, outline=outline, dump=dump)
        return
    options = RunOptions(
        stacks=inv.stacks,
        max_parallel=max_parallel,
        recreate_failed=recreate_failed or interactive,
        force=frozenset(force),
        wait=not no_wait,
        change_sets=change_sets,
        prune=prune,
        tail=tail,
    )
    console = wiring.console()
    with wiring.gateway(inv, local, retry_mode) as gateway:
        result = wiring.run_in_view(
            console,
            lambda view, interrupt: workflow.build(
                project,
                gateway,
                options,
                listener=view,
                interrupt=interrupt,
                approvals=wiring.approval_policy(
                    console,
                    view,
                    approve_protected=approve_protected,
                    interactive=interactive,
                    replacements_only=replacements_only,
                ),
                review=wiring.review_in_view(console, view),
            ),
            verbose=inv.verbose,
        )
        code = wiring.finish_run(console, result, "build", gateway, stats)
    ctx.exit(code)


def _outline_and_dump(
    project: Project,
    inv: Invocation,
    local: bool,
    retry_mode: str,
    *,
    outline: bool,
    dump: str | None,
) -> None:
    """``build --outline`` and/or ``--dump DIR``: print or write, change nothing."""
    import contextlib

    from stackyard.cli.main import notice
    from stackyard.engine.outline import dump_templates, outline_lines

    graph = project.selected(inv.stacks)
    if outline:
        for line in outline_lines(graph):
            click.echo(line)
    if not dump:
        return
    with contextlib.ExitStack() as stack:

        def connect() -> Any:
            return stack.enter_context(wiring.gateway(inv, local, retry_mode))

        written = dump_templates(project, graph.stacks, dump, connect)
    for item in written:
        click.echo(f"{item.name}: wrote {item.path}")
        if item.unknowns:
            notice(
                f"{item.name}: values from stacks that are not deployed yet are shown as "
                "(known after apply: ...)"
            )


@click.command()
@config_arguments(dependents=True)
@wiring.aws_options
@_run_options
@click.option("-y", "--yes", is_flag=True, help="Delete without asking.")
@click.option(
    "-f",
    "--force",
    "force",
    is_flag=True,
    help="Same as --yes (stacker's spelling, for existing scripts).",
)
@click.option(
    "--disable-termination-protection",
    is_flag=True,
    help="Turn termination protection off on stacks that have it, then delete them.",
)
@_approve_option
@_tail_option
@stacker_flags(
    interactive="Ask before deleting even when standard input is not a terminal, so answers "
    "may come from a pipe (end of input is no); --yes/--force still deletes without asking.",
    replacements_only=NO_EFFECT,
)
@click.pass_context
def destroy(
    ctx: click.Context,
    inv: Invocation,
    local: bool,
    retry_mode: str,
    max_parallel: int,
    stats: bool,
    yes: bool,
    force: bool,
    disable_termination_protection: bool,
    approve_protected: bool,
    tail: bool,
    interactive: bool,
    replacements_only: bool,
    recreate_failed: bool,
) -> None:
    """Delete stacks, dependents first. Asks first unless --yes/--force (without a terminal
    it refuses, unless -i reads the answer from standard input); protected and
    terminate-protected stacks need approval on top (a prompt on a terminal or with -i,
    --approve-protected, or a reviewed `plan --destroy` file), and nothing is deleted
    unless every one has it.

    Exit codes: 0 done, 1 a stack failed, 2 usage or config error, 3 approval missing or
    declined, 130 interrupted.
    """
    from stackyard import workflow
    from stackyard.engine.run import RunOptions
    from stackyard.plan.protection import RULE_TERMINATION_PROTECTION

    project = wiring.load_project(inv)
    options = RunOptions(
        stacks=inv.stacks,
        max_parallel=max_parallel,
        disable_termination_protection=disable_termination_protection,
        tail=tail,
    )
    console = wiring.console()
    rules = (
        frozenset({RULE_TERMINATION_PROTECTION}) if disable_termination_protection else frozenset()
    )

    def review(planned: Planned) -> bool:
        from stackyard.ui.destroy import confirm_deletion

        return confirm_deletion(
            console, planned.plan, ask=not (yes or force), from_pipe=interactive
        )

    with wiring.gateway(inv, local, retry_mode) as gateway:
        result = wiring.run_in_view(
            console,
            lambda view, interrupt: workflow.destroy(
                project,
                gateway,
                options,
                listener=view,
                interrupt=interrupt,
                approvals=wiring.approval_policy(
                    console,
                    view,
                    approve_protected=approve_protected,
                    approved_rules=rules,
                    read_answers=interactive,
                ),
                review=lambda planned: _paused(view, lambda: review(planned)),
            ),
            verbose=inv.verbose,
        )
        code = wiring.finish_run(console, result, "destroy", gateway, stats)
    ctx.exit(code)


def _paused(view: Any, call: Any) -> Any:
    with view.paused():
        return call()


@click.command()
@config_arguments
@wiring.aws_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--orphans",
    is_flag=True,
    help="List this namespace's stacks that the config no longer names (what --prune "
    "deletes), deleting nothing.",
)
@stacker_flags(interactive=NO_EFFECT, replacements_only=NO_EFFECT)
def info(
    inv: Invocation,
    local: bool,
    retry_mode: str,
    as_json: bool,
    orphans: bool,
    interactive: bool,
    replacements_only: bool,
    recreate_failed: bool,
) -> None:
    """Show deployed stacks: status, outputs, last change, and drift from the config."""
    import json

    if orphans:
        _orphans(inv, local, retry_mode, as_json)
        return
    from stackyard.engine.access import EngineAWSAccess
    from stackyard.plan.status import stack_info

    project = wiring.load_project(inv)
    graph = project.selected(inv.stacks)
    names = [n for n in graph.order() if n not in graph.targets]
    with wiring.gateway(inv, local, retry_mode) as gateway:
        locations = {n: project.location(n) for n in names}
        access = EngineAWSAccess.for_project(gateway, project, names)
        infos = stack_info(project, gateway, access, names, locations)
    if as_json:
        click.echo(json.dumps({"stacks": [i.to_json() for i in infos]}, indent=2))
        return
    from stackyard.ui.info import render_info

    render_info(wiring.console(), infos, verbose=inv.verbose)


def _orphans(inv: Invocation, local: bool, retry_mode: str, as_json: bool) -> None:
    import json

    from stackyard.plan.orphans import find_orphans
    from stackyard.ui.orphans import orphans_json, render_orphans

    project = wiring.load_project(inv)
    with wiring.gateway(inv, local, retry_mode) as gateway:
        found = find_orphans(project, gateway)
    if as_json:
        click.echo(json.dumps(orphans_json(found), indent=2))
        return
    render_orphans(wiring.console(), found)
