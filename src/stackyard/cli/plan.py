"""``diff``, ``plan`` and ``apply PLANFILE``: the reviewed path, over ``stackyard.workflow``.

- ``diff`` renders the plan (``--json``: the plan as JSON). ``--detailed-exitcode``: 0 no
  changes, 2 changes, 1 an error or a stack that cannot be planned or applied (blocked).
- ``plan -o PLANFILE`` saves the plan with its inputs (config, environment file, ``-e``,
  stacks, region, profile, file digests) and fingerprints of what it saw.
- ``apply PLANFILE`` needs nothing else: it plans again from the recorded inputs and
  executes only if that gives exactly the saved plan; otherwise it names what moved.

Every form of output is masked: the plan holds no secret, and rendering masks again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stackyard.cli import wiring
from stackyard.cli.options import Invocation, config_arguments, stacker_flags
from stackyard.errors import StackyardError, UsageError

if TYPE_CHECKING:
    from stackyard.plan.model import Plan, PlanInputs
    from stackyard.plan.planner import Planned

__all__ = ["apply", "diff", "plan", "prune_option", "read_plan", "read_plan_text"]


def prune_option(func: Any) -> Any:
    """``--prune``: also delete this namespace's stacks that the config no longer names."""
    return click.option(
        "--prune",
        is_flag=True,
        help="Also delete stacks stackyard made for this namespace that the config no longer "
        "names (protected ones need approval; see `info --orphans`).",
    )(func)


def _plan_options(func: Any) -> Any:
    func = wiring.no_wait_option(func)
    func = prune_option(func)
    func = click.option(
        "--destroy",
        is_flag=True,
        help="Plan the deletion of the selected stacks (and their dependents) instead.",
    )(func)
    func = click.option(
        "--change-sets",
        is_flag=True,
        help="Cross-check updates with CloudFormation change sets (writes: each is created "
        "and deleted again).",
    )(func)
    func = click.option(
        "--force",
        "force",
        multiple=True,
        metavar="NAME",
        help="Plan this locked stack as if unlocked. Repeatable.",
    )(func)
    func = click.option(
        "--recreate-failed",
        is_flag=True,
        help="Plan stacks that failed to create as created again.",
    )(func)
    return func


def _inputs(
    inv: Invocation,
    recreate_failed: bool,
    force: tuple[str, ...],
    change_sets: bool,
    destroy: bool,
    no_wait: bool,
    disable_termination_protection: bool = False,
    prune: bool = False,
) -> PlanInputs:
    from stackyard.plan.model import PlanInputs

    pairs = tuple(
        (key.strip(), value) for key, _, value in (pair.partition("=") for pair in inv.overrides)
    )
    return PlanInputs(
        config=inv.config_path,
        environment_file=inv.environment_file,
        overrides=pairs,
        stacks=inv.stacks,
        region=inv.region,
        profile=inv.profile,
        recreate_failed=recreate_failed,
        force=tuple(sorted(force)),
        change_sets=change_sets,
        destroy=destroy,
        disable_termination_protection=disable_termination_protection,
        wait=not no_wait,
        prune=prune and not destroy,
    )


def _make_plan(
    inv: Invocation, local: bool, retry_mode: str, inputs: PlanInputs, *, record: bool
) -> Planned:
    from stackyard import workflow

    project = wiring.load_project(inv)
    wiring.check_forced(project, inputs.force)
    if inputs.change_sets and not inputs.destroy:
        click.echo(
            "--change-sets: each update is cross-checked with a change set, created and "
            "deleted again (templates over the inline limit are stored in the bucket)",
            err=True,
        )
    with wiring.gateway(inv, local, retry_mode) as gateway:
        return workflow.plan(
            project,
            gateway,
            workflow.options_of(inputs),
            inputs=inputs if record else None,
        )


@click.command()
@config_arguments
@wiring.aws_options
@_plan_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when something would, 1 on an error or when "
    "some stack cannot be planned or applied (blocked).",
)
@stacker_flags(
    interactive="Accepted, as stacker accepted it: diff always shows every change in full, "
    "so it changes nothing here.",
    replacements_only="Show only the resources that would (or may) be replaced and the "
    "failed stacks that would be recreated, and only their stacks; with "
    "--detailed-exitcode, 2 means a replacement. (stacker needed -i with it.)",
    recreate_failed=None,
)
@click.pass_context
def diff(
    ctx: click.Context,
    inv: Invocation,
    local: bool,
    retry_mode: str,
    recreate_failed: bool,
    force: tuple[str, ...],
    change_sets: bool,
    destroy: bool,
    no_wait: bool,
    prune: bool,
    as_json: bool,
    detailed_exitcode: bool,
    interactive: bool,
    replacements_only: bool,
) -> None:
    """Show what a build would change, stack by stack and property by property.

    Exit codes: 0 done, 1 error, 2 usage or config error; with --detailed-exitcode 0 no
    changes, 2 changes, 1 error or a stack that cannot be planned or applied.
    """
    inputs = _inputs(inv, recreate_failed, force, change_sets, destroy, no_wait, prune=prune)
    try:
        made = _make_plan(inv, local, retry_mode, inputs, record=False).plan
    except StackyardError as exc:
        if not detailed_exitcode:
            raise
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)
    blocked = made.cannot_proceed
    if replacements_only:
        from stackyard.engine.replacements import only_replacements

        made = only_replacements(made)
    if as_json:
        click.echo(made.to_json())
    elif replacements_only and not made.stacks:
        click.echo("no replacements")
    else:
        from stackyard.ui.diff import render_plan

        render_plan(made, wiring.console(), details=True)
    if detailed_exitcode:
        if blocked:
            names = ", ".join(s.name for s in blocked)
            click.echo(f"error: cannot be applied: {names}", err=True)
            ctx.exit(1)
        ctx.exit(2 if made.has_changes else 0)


@click.command()
@config_arguments
@wiring.aws_options
@_plan_options
@click.option(
    "--disable-termination-protection",
    is_flag=True,
    help="With --destroy: turn termination protection off on the stacks that have it.",
)
@click.option(
    "-o",
    "--out",
    "out",
    required=True,
    metavar="PLANFILE",
    help="Write the plan (JSON, with its inputs and fingerprints) to this file.",
)
@click.option(
    "--report",
    "reports",
    multiple=True,
    type=click.Choice(["html", "markdown"]),
    help="Also write a report beside the plan (PLANFILE.html, PLANFILE.md). Repeatable.",
)
def plan(
    inv: Invocation,
    local: bool,
    retry_mode: str,
    recreate_failed: bool,
    force: tuple[str, ...],
    change_sets: bool,
    destroy: bool,
    no_wait: bool,
    prune: bool,
    disable_termination_protection: bool,
    out: str,
    reports: tuple[str, ...],
) -> None:
    """Save a plan to review; `stackyard apply PLANFILE` executes exactly it."""
    from rich.markup import escape

    from stackyard.ui.diff import render_plan

    if inv.config_path == "-":
        raise UsageError(
            "a saved plan records its config file, and the config came from stdin",
            hint="name the config file, so `stackyard apply PLANFILE` can read it again",
        )
    inputs = _inputs(
        inv,
        recreate_failed,
        force,
        change_sets,
        destroy,
        no_wait,
        disable_termination_protection,
        prune=prune,
    )
    made = _make_plan(inv, local, retry_mode, inputs, record=True).plan
    Path(out).write_text(made.to_json() + "\n", encoding="utf-8")
    console = wiring.console()
    render_plan(made, console, details=True)
    console.print(f"plan saved to {escape(out)}; apply it with `stackyard apply {escape(out)}`")
    from stackyard.cli.report import beside, render_report

    for fmt in dict.fromkeys(reports):
        target = beside(out, fmt)
        target.write_text(render_report(made, fmt), encoding="utf-8")
        console.print(f"{fmt} report saved to {escape(str(target))}")


def read_plan_text(path: str) -> tuple[str, str | None]:
    """The text of the plan file at ``path`` and the format it declares (None when it is
    not a JSON object); a usage error naming the file when it cannot be read."""
    import json

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not text"
        raise UsageError(
            f"cannot read plan file {path}: {reason}",
            hint="give the file `stackyard plan -o` or `stackyard apps plan -o` wrote",
        ) from None
    try:
        data = json.loads(text)
    except ValueError:
        return text, None
    found = data.get("format") if isinstance(data, dict) else None
    return text, found if isinstance(found, str) else None


def read_plan(path: str) -> Plan:
    """The stack plan saved at ``path``; a usage error naming the file when it cannot be
    read, is not a plan, or is an app deploy's plan."""
    from stackyard.apps.deploy_plan import FORMAT as DEPLOY_PLAN
    from stackyard.plan.model import Plan

    text, found = read_plan_text(path)
    if found == DEPLOY_PLAN:
        raise UsageError(
            f"{path} is an app deploy's plan (stackyard apps plan), not a stack plan",
            hint=f"apply it with: stackyard apps apply {path}",
        )
    try:
        return Plan.from_json(text)
    except StackyardError as exc:
        raise StackyardError(
            f"{path}: {exc.message}",
            hint=exc.hint or "make a plan with: stackyard plan -o PLANFILE [ENV_FILE] CONFIG",
            exit_code=exc.exit_code,
        ) from None


def _same_file(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    return Path(a).resolve() == Path(b).resolve()


def _check_arguments(saved: Plan, files: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Arguments given to apply must agree with the plan's recorded inputs."""
    inputs = saved.inputs
    if inputs is None:
        return
    if len(files) > 2:
        raise UsageError(f"expected PLANFILE [ENVIRONMENT_FILE] [CONFIG], got {len(files) + 1}")
    if files:
        config = files[-1]
        environment = files[0] if len(files) == 2 else None
        if not _same_file(config, inputs.config) or (
            environment is not None and not _same_file(environment, inputs.environment_file)
        ):
            made_with = " ".join(filter(None, (inputs.environment_file, inputs.config)))
            raise UsageError(
                f"the plan was made from {made_with}, not {' '.join(files)}",
                hint="`stackyard apply PLANFILE` needs no other arguments",
            )
    secret = {k for k, _ in inputs.secret_overrides}
    given = tuple(
        (k.strip(), v)
        for k, _, v in (p.partition("=") for p in overrides)
        if k.strip() not in secret
    )
    if given and given != inputs.overrides:
        made_with = inputs.overrides_text() or "no -e"
        raise UsageError(
            f"the plan was made with {made_with}; apply uses the plan's own inputs",
            hint="leave out -e: `stackyard apply PLANFILE` applies exactly what was planned",
        )


@click.command()
@click.argument("planfile", metavar="PLANFILE")
@click.argument("files", nargs=-1, metavar="[ENVIRONMENT_FILE] [CONFIG]")
@click.option(
    "-e",
    "--env",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only for a secret value the plan was made with (plans store only its digest).",
)
@wiring.aws_options
@click.option(
    "-j",
    "--max-parallel",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Work on at most N stacks at once (default: no limit).",
)
@click.option("-v", "--verbose", count=True, help="More output; repeat for more.")
@click.option("--stats", is_flag=True, help="Print the CloudFormation calls made, by action.")
@click.option(
    "--approvals",
    metavar="FILE",
    help="Signed approvals to accept (default: PLANFILE.approvals.json, when it exists).",
)
@click.option(
    "--require-approvals",
    is_flag=True,
    help="Protected changes run only with signed approvals (`stackyard approve`); the plan "
    "file alone approves nothing.",
)
@click.pass_context
def apply(
    ctx: click.Context,
    planfile: str,
    files: tuple[str, ...],
    overrides: tuple[str, ...],
    local: bool,
    retry_mode: str,
    max_parallel: int,
    verbose: int,
    stats: bool,
    approvals: str | None,
    require_approvals: bool,
) -> None:
    """Execute a saved plan, exactly: PLANFILE is all it needs.

    The plan is made again from its recorded inputs; if that differs from the file in any
    way (an input file, the deployed stacks, or the file itself edited), nothing runs and
    every difference is named. Protected changes in the reviewed plan count as approved,
    unless signed approvals are given (PLANFILE.approvals.json, --approvals) or required
    (--require-approvals): then only the items they approve do, and an approval that is
    stale or does not verify is refused.

    Exit codes: 0 done, 1 a stack failed or the plan moved, 2 usage or plan-file error,
    3 a protected change not in the reviewed plan, 130 interrupted.
    """
    from stackyard import workflow
    from stackyard.cli.approve import signed_items
    from stackyard.cli.options import Invocation

    saved = read_plan(planfile)
    _check_arguments(saved, files, overrides)
    where = (saved.inputs.region, saved.inputs.profile) if saved.inputs else (None, None)
    signed = signed_items(
        saved, planfile, approvals, required=require_approvals, local=local, where=where
    )
    if saved.inputs is None:
        raise UsageError(
            "this plan file does not record its inputs",
            hint="make the plan again with this version: stackyard plan -o PLANFILE ...",
        )
    inputs = saved.inputs
    pairs = dict(p.partition("=")[::2] for p in overrides)
    secrets = workflow.check_secret_overrides(inputs, {k.strip(): v for k, v in pairs.items()})
    inv = Invocation(
        inputs.config,
        inputs.environment_file,
        tuple(f"{k}={v}" for k, v in inputs.overrides),
        inputs.region,
        inputs.profile,
        inputs.stacks,
        verbose,
    )
    console = wiring.console()
    with wiring.gateway(inv, local, retry_mode) as gateway:
        changing = [s.name for s in saved.stacks if s.will_change]
        console.print(
            f"applying the plan of {saved.created_at}: "
            f"{len(changing)} changing stack(s) of {len(saved.stacks)}",
            highlight=False,
        )
        result = wiring.run_in_view(
            console,
            lambda view, interrupt: workflow.apply(
                saved,
                gateway,
                listener=view,
                interrupt=interrupt,
                max_parallel=max_parallel,
                secrets=secrets,
                signed_items=signed,
            ),
            verbose=verbose,
        )
        code = wiring.finish_run(console, result, "apply", gateway, stats)
    ctx.exit(code)
