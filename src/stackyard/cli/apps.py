"""``stackyard apps``: thin wiring of the apps service layer to the command line."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from stackyard.apps.deploy_plan import DeployPlan
    from stackyard.apps.follow import Rollout
    from stackyard.apps.rollout import StepProgress
    from stackyard.apps.service import AppsService, DeployResult

APPS_FILE_HELP = "The environments file (default: apps.yaml here, or $STACKYARD_APPS_FILE)."


def _common(func: Any) -> Any:
    func = click.option(
        "--apps-file", envvar="STACKYARD_APPS_FILE", default="apps.yaml", help=APPS_FILE_HELP
    )(func)
    func = click.option("--local", is_flag=True, help="Use the local AWS endpoint.")(func)
    func = click.option("-r", "--region", default=None, help="AWS region.")(func)
    return func


def _target(func: Any) -> Any:
    func = click.option("-e", "--env", "env", required=True, help="The environment.")(func)
    func = click.option("-a", "--app", required=True, help="The app.")(func)
    return func


def _json_option(func: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


@contextlib.contextmanager
def _service(
    apps_file: str | None, local: bool, region: str | None, aws: bool = True
) -> Iterator[AppsService]:
    from stackyard.apps.db.database import Database
    from stackyard.apps.environments import load_environments
    from stackyard.apps.service import AppsService, caller_identity
    from stackyard.workflow import connect

    server = click.get_current_context().meta.get("stackyard.server")
    if server:  # the backend switch: the same operations through a stackyard server's API
        from stackyard.server.client import RemoteService

        yield RemoteService(server)  # type: ignore[misc]
        return
    db = Database.open()
    with contextlib.ExitStack() as stack:
        stack.callback(db.close)
        if not aws:
            # the apps file, when there is one, gives sub-environments and placement
            environments = None
            if apps_file and os.path.exists(apps_file):
                environments = load_environments(apps_file)
            yield AppsService(db, environments, actor="local user")
            return
        endpoint = None
        if local:
            from stackyard.local.embedded import local_endpoint_url

            endpoint = stack.enter_context(local_endpoint_url(start_if_missing=True))
        gw = connect(endpoint_url=endpoint, region=region)
        environments = load_environments(apps_file) if apps_file else None
        actor = caller_identity(gw.clients.client("sts"))
        yield AppsService(db, environments, gw, actor, region)


def _print(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _progress(rollout: Rollout) -> None:
    state = rollout.state if not rollout.reason else f"{rollout.state}: {rollout.reason}"
    click.echo(
        f"  {rollout.process:<10} {rollout.running}/{rollout.desired} running  {state}", err=True
    )


def _version(text: str) -> int:
    """``v3`` or ``3`` → 3."""
    from stackyard.errors import UsageError

    number = text.lower().removeprefix("v")
    if not number.isdigit():
        raise UsageError(f"{text!r} is not a release number (v3 or 3)")
    return int(number)


def _step(step: StepProgress) -> None:
    head = f"  step {step.step}/{step.steps} {step.weight:>3}%"
    if step.phase == "confirmed":
        text = "weight read back from the listener"
    elif step.phase == "baking":
        text = f"baking {step.elapsed:.0f}s/{step.bake:g}s"
    elif step.phase == "baked":
        text = f"baked {step.bake:g}s"
    else:
        text = f"FAILED: {step.reason}"
    if step.health is not None and step.phase != "failed":
        text += f"  {step.health.summary()}"
    click.echo(f"{head}  {text}", err=True)


def _wait_message(who: str) -> None:
    click.echo(f"waiting for the deploy lock held by {who}", err=True)


def _report(app: str, env: str, result: DeployResult) -> None:
    """The outcome lines of a deploy (and of a canary's rollback); exits with its code."""
    release = result.release
    line = f"{app} {env} v{release.version}: {release.status}"
    if release.reason:
        line += f" ({release.reason})"
    click.echo(line)
    if result.canary is not None and result.canary.ok:
        click.echo(f"{app} {env}: {result.canary.weight}% of the traffic")
    back = result.rolled_back_to
    if back is not None:
        click.echo(f"{app} {env}: weight 0%, rolled back: v{back.version} {back.status}")
    if result.exit_code:
        raise SystemExit(result.exit_code)


def _deploy(
    service: AppsService,
    app: str,
    env: str,
    image: str | None,
    approve_protected: bool = False,
    **kw: Any,
) -> None:
    from stackyard.cli.wiring import approval_policy, console

    result = service.deploy(
        app,
        env,
        image,
        approvals=approval_policy(console(), None, approve_protected=approve_protected),
        on_progress=_progress,
        on_wait=_wait_message,
        **kw,
    )
    _report(app, env, result)


@click.group()
@click.option(
    "--server",
    envvar="STACKYARD_SERVER",
    default=None,
    help="A stackyard server's URL: act through its API ($STACKYARD_TOKEN) instead of here.",
)
@click.pass_context
def apps(ctx: click.Context, server: str | None) -> None:
    """Apps on ECS: releases, config, scale and rollback in environments."""
    ctx.meta["stackyard.server"] = server


@apps.command()
@click.argument("app")
@click.option(
    "-m",
    "--manifest",
    "manifest_path",
    default="Procfile",
    help="The manifest (extended Procfile YAML, or a plain Procfile).",
)
def create(app: str, manifest_path: str) -> None:
    """Register APP with its manifest (again: replace the manifest)."""
    from stackyard.apps.manifest import load_manifest

    manifest = load_manifest(manifest_path)
    with _service(None, False, None, aws=False) as service:
        service.create(app, manifest)
    click.echo(f"created {app}: processes {', '.join(sorted(manifest.processes))}")


@apps.command(name="list")
@_json_option
def list_apps(as_json: bool) -> None:
    """Every app and its current release per environment."""
    with _service(None, False, None, aws=False) as service:
        rows = service.apps()
    if as_json:
        _print(rows)
        return
    for row in rows:
        envs = ", ".join(f"{e} v{r}" if r else f"{e} -" for e, r in row["environments"].items())
        click.echo(f"{row['name']:<20} {' '.join(row['processes']):<24} {envs}")


@apps.command()
@click.option("-a", "--app", required=True, help="The app.")
@click.option("--apps-file", envvar="STACKYARD_APPS_FILE", default="apps.yaml", help=APPS_FILE_HELP)
@_json_option
def info(app: str, apps_file: str, as_json: bool) -> None:
    """An app's manifest and, per environment, release, formation and the effective
    placement of each process (with the apps file)."""
    from stackyard.apps.envdiff import placement_text
    from stackyard.apps.manifest import Placement

    with _service(apps_file, False, None, aws=False) as service:
        data = service.info(app)
    if as_json:
        _print(data)
        return
    click.echo(f"app {data['name']}")
    for name, spec in data["manifest"].get("processes", {}).items():
        click.echo(f"  {name}: {spec['command']}")
    for env, state in data["environments"].items():
        release = f"v{state['current_release']}" if state["current_release"] else "-"
        click.echo(f"  {env}: release {release} formation {state['formation']}")
        for process, placement in state.get("placement", {}).items():
            constraints, strategy = placement_text(Placement.model_validate(placement))
            click.echo(f"    {process:<10} constraints: {constraints}  strategy: {strategy}")


@apps.group()
def env() -> None:
    """Config vars: get, set, unset (a secret is KEY=secret:/path); diff two environments."""


@env.command(name="get")
@_target
@_json_option
def env_get(app: str, env: str, as_json: bool) -> None:
    """Print the config vars (secrets as their references)."""
    with _service(None, False, None, aws=False) as service:
        values = service.config_get(app, env)
    if as_json:
        _print(values)
        return
    for key, value in sorted(values.items()):
        click.echo(f"{key}={value}")


@env.command(name="diff")
@click.option("-a", "--app", required=True, help="The app.")
@click.option("--apps-file", envvar="STACKYARD_APPS_FILE", default="apps.yaml", help=APPS_FILE_HELP)
@click.option("--changes", is_flag=True, help="Only the keys that differ.")
@_json_option
@click.argument("left")
@click.argument("right")
def env_diff(app: str, apps_file: str, changes: bool, as_json: bool, left: str, right: str) -> None:
    """The effective difference of two environments, key by key: release, bindings,
    defaults, config vars (secrets masked) and formation, each with where it comes from
    (e.g. prod prod/canary)."""
    with _service(apps_file, False, None, aws=False) as service:
        rows = service.env_diff(app, left, right, only_changes=changes)
    if as_json:
        _print([dataclasses.asdict(r) for r in rows])
        return

    def shown(value: str | None, origin: str) -> str:
        if value is None:
            return "(none)"
        return f"{value} ({origin})" if origin == "inherited" else value

    width = max([len(f"{r.section}.{r.key}") for r in rows] + [8])
    left_width = max([len(shown(r.left, r.left_origin)) for r in rows] + [len(left)])
    click.echo(f"  {'':<{width}}  {left:<{left_width}}  {right}")
    for r in rows:
        mark = " " if r.same else "~"
        name = f"{r.section}.{r.key}"
        click.echo(
            f"{mark} {name:<{width}}  {shown(r.left, r.left_origin):<{left_width}}  "
            f"{shown(r.right, r.right_origin)}"
        )


@env.command(name="set")
@_target
@_common
@click.option("--no-deploy", is_flag=True, help="Record only; the next deploy takes it.")
@click.argument("pairs", nargs=-1, required=True)
def env_set(
    app: str,
    env: str,
    apps_file: str,
    local: bool,
    region: str | None,
    no_deploy: bool,
    pairs: tuple[str, ...],
) -> None:
    """Set KEY=VALUE config vars, then deploy them as a new release."""
    from stackyard.apps.config_vars import parse_assignments

    values = parse_assignments(pairs)
    with _service(apps_file, local, region, aws=not no_deploy) as service:
        service.config_change(app, env, values, [])
        if not no_deploy:
            _deploy(service, app, env, None, description="set " + ", ".join(sorted(values)))


@env.command(name="unset")
@_target
@_common
@click.option("--no-deploy", is_flag=True, help="Record only; the next deploy takes it.")
@click.argument("keys", nargs=-1, required=True)
def env_unset(
    app: str,
    env: str,
    apps_file: str,
    local: bool,
    region: str | None,
    no_deploy: bool,
    keys: tuple[str, ...],
) -> None:
    """Unset config vars, then deploy as a new release."""
    with _service(apps_file, local, region, aws=not no_deploy) as service:
        service.config_change(app, env, {}, list(keys))
        if not no_deploy:
            _deploy(service, app, env, None, description="unset " + ", ".join(keys))


@apps.command()
@click.argument("image")
@_target
@_common
@click.option("-m", "--message", default="", help="What this release is.")
@click.option("--no-wait-lock", is_flag=True, help="Refuse if another deploy holds the lock.")
@click.option(
    "--approve-protected",
    is_flag=True,
    help="Break glass: deploy to a protected environment without review.",
)
@click.option(
    "--steps",
    default=None,
    help="A canary (sub-environment) only: its share of the parent's traffic in steps, "
    "e.g. 5,25,50 (percent); each is read back from the listener, then baked.",
)
@click.option(
    "--bake",
    default="5m",
    show_default=True,
    help="With --steps: how long each step runs while its health is watched.",
)
@click.option(
    "--poll",
    default="10s",
    show_default=True,
    help="With --steps: how often health is read while a step bakes.",
)
def deploy(
    image: str,
    app: str,
    env: str,
    apps_file: str,
    local: bool,
    region: str | None,
    message: str,
    no_wait_lock: bool,
    approve_protected: bool,
    steps: str | None,
    bake: str,
    poll: str,
) -> None:
    """Deploy IMAGE as a new release of APP in ENV, and follow it to COMPLETED.

    To a canary with --steps: then step its weight, watching target health, the ECS
    deployment and the app's alarms; any failure sets the weight to 0, rolls the canary
    back to its previous release and exits 1."""
    from stackyard.apps.canary import parse_duration, parse_steps
    from stackyard.apps.rollout import CanaryPolicy

    policy = None
    if steps is not None:
        bake_seconds = parse_duration(bake)
        policy = CanaryPolicy(
            parse_steps(steps), bake=bake_seconds, poll=min(parse_duration(poll), bake_seconds or 1)
        )
    with _service(apps_file, local, region) as service:
        _deploy(
            service,
            app,
            env,
            image,
            approve_protected,
            description=message,
            lock_wait=0.0 if no_wait_lock else 900.0,
            canary=policy,
            on_step=_step,
        )


@apps.command()
@click.argument("env")
@click.option("-a", "--app", required=True, help="The app.")
@_common
@click.option("--release", default=None, help="Promote only if the canary runs this (v7 or 7).")
@click.option(
    "--with-config",
    is_flag=True,
    help="Also move the canary's config overrides to the parent (then dropped from it).",
)
@click.option("--no-wait-lock", is_flag=True, help="Refuse if another deploy holds the lock.")
@click.option(
    "--approve-protected",
    is_flag=True,
    help="Break glass: deploy to a protected parent without review.",
)
def promote(
    env: str,
    app: str,
    apps_file: str,
    local: bool,
    region: str | None,
    release: str | None,
    with_config: bool,
    no_wait_lock: bool,
    approve_protected: bool,
) -> None:
    """Promote the canary ENV (prod/canary): a release of its parent with the canary's image
    and manifest, deployed through the normal reviewed path; then the canary's weight is 0."""
    from stackyard.cli.wiring import approval_policy, console

    number = _version(release) if release else None
    with _service(apps_file, local, region) as service:
        result = service.promote(
            app,
            env,
            release=number,
            with_config=with_config,
            approvals=approval_policy(console(), None, approve_protected=approve_protected),
            on_progress=_progress,
            on_wait=_wait_message,
            lock_wait=0.0 if no_wait_lock else 900.0,
        )
    from stackyard.apps.inheritance import parent_name

    _report(app, parent_name(env) or env, result)
    click.echo(f"{app} {env}: weight 0%")


@apps.group()
def canary() -> None:
    """A canary's share of its parent's traffic: weight, status."""


@canary.command(name="weight")
@_target
@_common
@click.option(
    "--from-scale",
    is_flag=True,
    help="Set the share the task counts give (canary tasks ÷ all tasks), once.",
)
@click.argument("weight", required=False)
def canary_weight(
    app: str,
    env: str,
    apps_file: str,
    local: bool,
    region: str | None,
    from_scale: bool,
    weight: str | None,
) -> None:
    """Set the canary ENV's share of its parent's traffic to WEIGHT (5%), on the parent's
    listener rules, and read it back (exit 1 when it does not read back as set)."""
    from stackyard.apps.canary import parse_weight
    from stackyard.errors import UsageError

    if (weight is None) == (not from_scale):
        raise UsageError("give a WEIGHT (5%) or --from-scale")
    with _service(apps_file, local, region) as service:
        percent = (
            service.canaries.weight_from_scale(app, env)
            if from_scale
            else parse_weight(weight or "")
        )
        confirmed = service.canary_weight(app, env, percent, on_wait=_wait_message)
    click.echo(
        f"{app} {env}: weight {percent}% read back from the listener "
        f"({confirmed.reads} read{'s' if confirmed.reads != 1 else ''}, {confirmed.seconds:.1f}s)"
    )


@canary.command(name="status")
@_target
@_common
@_json_option
def canary_status(
    app: str, env: str, apps_file: str, local: bool, region: str | None, as_json: bool
) -> None:
    """The canary ENV: its release and its parent's, its share per process as the listener
    has it, its health now, and its last rollout."""
    with _service(apps_file, local, region) as service:
        status = service.canary_status(app, env)
    if as_json:
        data = dataclasses.asdict(status)
        if status.health is not None:
            data["health"]["ok"] = status.health.ok
        _print(data)
        return
    parent = f"v{status.parent_release}" if status.parent_release else "-"
    mine = f"v{status.release}" if status.release else "-"
    click.echo(f"{app} {env}: release {mine} ({status.image or '-'})")
    click.echo(f"{app} {status.parent}: release {parent} ({status.parent_image or '-'})")
    for process, share in sorted(status.weights.items()):
        shown = "no weighted forward" if share is None else f"{share:g}%"
        click.echo(f"  {process:<10} weight {shown}")
    if status.health is not None:
        verdict = "healthy" if status.health.ok else f"UNHEALTHY: {status.health.problem}"
        click.echo(f"  {status.health.summary()}: {verdict}")
    if status.rollout is not None:
        r = status.rollout
        steps = ",".join(str(s) for s in r["steps"])
        click.echo(
            f"  last rollout: v{r['release']} steps {steps} bake {r['bake_seconds']:g}s: "
            f"{r['status']} at step {r['step']} ({r['weight']}%)"
            + (f": {r['reason']}" if r["reason"] else "")
        )


@apps.command()
@click.argument("image", required=False)
@_target
@_common
@_json_option
def diff(
    image: str | None,
    app: str,
    env: str,
    apps_file: str,
    local: bool,
    region: str | None,
    as_json: bool,
) -> None:
    """What deploying IMAGE (default: the current one) would change, resource by resource."""
    with _service(apps_file, local, region) as service:
        planned = service.plan(app, env, image)
    if as_json:
        click.echo(planned.to_json())
        return
    from stackyard.cli.wiring import console
    from stackyard.ui.diff import render_plan

    render_plan(planned, console(), details=True)


def read_deploy_plan(path: str) -> DeployPlan:
    """The app deploy's plan saved at ``path``; a usage error naming the file when it cannot
    be read, is not a plan, or is a stack plan."""
    from stackyard.apps.deploy_plan import DeployPlan
    from stackyard.cli.plan import read_plan_text
    from stackyard.errors import StackyardError, UsageError
    from stackyard.plan.model import FORMAT as STACK_PLAN

    text, found = read_plan_text(path)
    if found == STACK_PLAN:
        raise UsageError(
            f"{path} is a stack plan (stackyard plan), not an app deploy's plan",
            hint=f"apply it with: stackyard apply {path}; plan a deploy with: "
            "stackyard apps plan IMAGE -a APP -e ENV -o FILE",
        )
    try:
        return DeployPlan.from_json(text)
    except StackyardError as exc:
        raise UsageError(
            f"{path}: {exc.message}",
            hint=exc.hint or "plan a deploy with: stackyard apps plan IMAGE -a APP -e ENV -o FILE",
        ) from None


@apps.command(name="plan")
@click.argument("image", required=False)
@_target
@_common
@click.option(
    "-o",
    "--out",
    "out",
    required=True,
    metavar="FILE",
    help="Write the plan (JSON: the release and its stack's plan) to this file.",
)
def plan_deploy(
    image: str | None,
    app: str,
    env: str,
    apps_file: str,
    local: bool,
    region: str | None,
    out: str,
) -> None:
    """Save a deploy of IMAGE (default: the current one) to review: the release it would
    make (image digest, manifest, config with secrets as references, formation, its version
    and the one it replaces) and its stack's plan. Nothing is recorded; `stackyard approve
    FILE --by NAME` signs it, `stackyard apps apply FILE` deploys exactly it."""
    from rich.markup import escape

    from stackyard.cli.wiring import console
    from stackyard.ui.diff import render_plan

    with _service(apps_file, local, region) as service:
        saved = service.plan_deploy(app, env, image)
    Path(out).write_text(saved.to_json() + "\n", encoding="utf-8")
    shown = console()
    render_plan(saved.plan, shown, details=True)
    release = saved.release
    replaces = f"v{release.replaces}" if release.replaces is not None else "no release"
    shown.print(
        f"{escape(app)} {escape(env)} v{release.version} (replacing {replaces}): "
        f"{escape(release.image)}",
        highlight=False,
    )
    shown.print(
        f"plan saved to {escape(out)}; approve it with `stackyard approve {escape(out)} --by "
        f"NAME`, deploy it with `stackyard apps apply {escape(out)}`",
        highlight=False,
    )


@apps.command(name="apply")
@click.argument("planfile", metavar="FILE")
@click.option("-a", "--app", default=None, help="Refuse unless the plan is of this app.")
@click.option(
    "-e", "--env", "env", default=None, help="Refuse unless the plan is of this environment."
)
@click.option("--apps-file", envvar="STACKYARD_APPS_FILE", default="apps.yaml", help=APPS_FILE_HELP)
@click.option("--local", is_flag=True, help="Use the local AWS endpoint.")
@click.option(
    "--approvals",
    metavar="FILE",
    help="Signed approvals to accept (default: FILE.approvals.json, when it exists).",
)
@click.option("-m", "--message", default="", help="What this release is.")
@click.option("--no-wait-lock", is_flag=True, help="Refuse if another deploy holds the lock.")
@click.option(
    "--approve-protected",
    is_flag=True,
    help="Break glass: deploy to a protected environment without a signed approval.",
)
def apply_deploy(
    planfile: str,
    app: str | None,
    env: str | None,
    apps_file: str,
    local: bool,
    approvals: str | None,
    message: str,
    no_wait_lock: bool,
    approve_protected: bool,
) -> None:
    """Deploy a saved plan (`stackyard apps plan -o FILE`) exactly, and follow it.

    Under the deploy lock, the release is made again from what the plan was asked for and
    its stack planned again: if either differs from FILE (another release made since, the
    image, manifest, config or formation changed, the stack moved, or FILE edited),
    nothing is recorded and every difference is named. Protected changes run only with a
    signed approval of FILE (`stackyard approve FILE --by NAME`) or --approve-protected;
    otherwise the deploy is held and nothing is recorded, so FILE can be approved and
    applied again.

    Exit codes: 0 done, 1 the deploy failed or the plan moved, 2 usage or plan-file error
    (or an approval that is stale or does not verify), 3 held for approval.
    """
    from stackyard.apps.deploy_plan import DeployHeld
    from stackyard.cli.approve import signed_items
    from stackyard.errors import ConfigError, UsageError

    saved = read_deploy_plan(planfile)
    release = saved.release
    for flag, given, planned in (("-a", app, release.app), ("-e", env, release.environment)):
        if given is not None and given != planned:
            raise UsageError(
                f"{planfile} is a plan of {release.app} in {release.environment}, "
                f"not {flag} {given}",
                hint="plan the deploy you mean: stackyard apps plan IMAGE -a APP -e ENV -o FILE",
            )
    signed = signed_items(
        saved, planfile, approvals, required=True, local=local, where=(saved.region, None)
    )
    if approve_protected:
        click.echo(
            "WARNING: --approve-protected: a protected environment's deploy runs WITHOUT a "
            "signed approval. Use it only to break glass.",
            err=True,
        )
    with _service(apps_file, local, saved.region) as service:
        try:
            result = service.apply_plan(
                saved,
                signed_items=signed or frozenset(),
                approve_protected=approve_protected,
                description=message,
                on_progress=_progress,
                on_wait=_wait_message,
                lock_wait=0.0 if no_wait_lock else 900.0,
            )
        except DeployHeld as exc:
            raise DeployHeld(
                exc.message,
                hint=f"approve it: stackyard approve {planfile} --by NAME, then apply it "
                "again (or break glass with --approve-protected)",
            ) from None
        except (UsageError, ConfigError) as exc:
            # the app or environment the plan names is unknown here: say which file named it
            where = exc.location()
            raise UsageError(
                f"{planfile}, a plan of {release.app} in {release.environment}: "
                + (f"{where}: {exc.message}" if where else exc.message),
                hint=exc.hint,
            ) from None
    _report(release.app, release.environment, result)


@apps.command()
@_target
@_common
@click.option("--no-deploy", is_flag=True, help="Record only; the next deploy takes it.")
@click.argument("specs", nargs=-1, required=True)
def scale(
    app: str,
    env: str,
    apps_file: str,
    local: bool,
    region: str | None,
    no_deploy: bool,
    specs: tuple[str, ...],
) -> None:
    """Scale processes: web=3 worker=2:512:1024 (count[:cpu[:memory]]), as a new release.
    In a sub-environment a scaled process no longer follows its parent's formation."""
    from stackyard.apps.formation import parse_scale

    scales = [parse_scale(s) for s in specs]
    with _service(apps_file, local, region, aws=not no_deploy) as service:
        service.scale_formation(app, env, scales)
        if not no_deploy:
            _deploy(service, app, env, None, description="scale " + " ".join(specs))
        else:
            click.echo(f"{app} {env}: recorded " + " ".join(specs))


@apps.command()
@_target
@_common
@click.argument("version", required=False)
def rollback(
    app: str, env: str, apps_file: str, local: bool, region: str | None, version: str | None
) -> None:
    """Deploy a new release made from release VERSION (v3 or 3; default: the one before)."""
    number = _version(version) if version else 0
    with _service(apps_file, local, region) as service:
        target = number or service.previous_version(app, env)
        _deploy(service, app, env, None, rollback_to=target)


@apps.command()
@_target
@_common
@click.argument("process", required=False)
def restart(
    app: str, env: str, apps_file: str, local: bool, region: str | None, process: str | None
) -> None:
    """Replace the tasks of every process (or PROCESS) with new ones of the same release."""
    with _service(apps_file, local, region) as service:
        rollouts = service.restart(app, env, process, on_progress=_progress)
    failed = [r for r in rollouts.values() if r.state != "COMPLETED"]
    for r in failed:
        click.echo(f"{r.process}: {r.reason}")
    if failed:
        raise SystemExit(1)
    click.echo(f"{app} {env}: restarted {process or 'all processes'}")


@apps.command(context_settings={"ignore_unknown_options": True})
@_target
@_common
@click.option("-p", "--process", default=None, help="Run as this process (default: the first).")
@click.argument("command", nargs=-1, required=True)
def run(
    app: str,
    env: str,
    apps_file: str,
    local: bool,
    region: str | None,
    process: str | None,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND once with the current release (-- COMMAND ARGS); exits with its code."""
    with _service(apps_file, local, region) as service:
        result = service.run(app, env, list(command), process=process)
    for line in result.logs:
        click.echo(line)
    click.echo(f"task {result.task} exited {result.exit_code}", err=True)
    raise SystemExit(result.exit_code)


@apps.command()
@_target
@_common
@click.option("--yes", is_flag=True, help="Do not ask.")
def destroy(app: str, env: str, apps_file: str, local: bool, region: str | None, yes: bool) -> None:
    """Delete APP's stack in ENV (a planned deletion) and its records there."""
    from stackyard.cli.wiring import approval_policy, console

    if not yes:
        click.confirm(f"delete {app} in {env}: its services, tasks and records?", abort=True)
    with _service(apps_file, local, region) as service:
        code = service.destroy(app, env, approvals=approval_policy(console(), None))
    if code:
        raise SystemExit(code)
    click.echo(f"destroyed {app} in {env}")


@apps.command()
@_target
@_json_option
def releases(app: str, env: str, as_json: bool) -> None:
    """The releases of APP in ENV, newest first."""
    with _service(None, False, None, aws=False) as service:
        rows = service.releases(app, env)
    if as_json:
        _print([dataclasses.asdict(r) for r in rows])
        return
    for r in rows:
        click.echo(
            f"v{r.version:<4} {r.status:<10} {r.created_at}  {r.created_by}  {r.description}"
        )


@apps.command()
@_target
@_common
@_json_option
def ps(app: str, env: str, apps_file: str, local: bool, region: str | None, as_json: bool) -> None:
    """The tasks of every process: state, release, instance type, pool, zone, start."""
    with _service(apps_file, local, region) as service:
        rows = service.ps(app, env)
    if as_json:
        _print([dataclasses.asdict(r) for r in rows])
        return
    for t in rows:
        click.echo(
            f"{t.process:<8} {t.task[:12]:<13} {t.status:<9} {t.release:<5} "
            f"{t.instance_type:<10} {t.profile:<8} {t.zone:<12} {t.started}"
        )


@apps.command()
@click.option("-a", "--app", required=True, help="The app.")
@_json_option
def events(app: str, as_json: bool) -> None:
    """The audit events of APP: what changed, who, when, which release."""
    with _service(None, False, None, aws=False) as service:
        rows = service.events(app)
    if as_json:
        _print([dataclasses.asdict(r) for r in rows])
        return
    for e in rows:
        release = f"v{e.release}" if e.release else "-"
        click.echo(
            f"{e.time}  {e.environment or '-':<8} {release:<5} {e.kind:<8} {e.actor}  {e.message}"
        )
