"""``stackyard apps``: thin wiring of the apps service layer to the command line."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from stackyard.apps.follow import Rollout
    from stackyard.apps.service import AppsService

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
            yield AppsService(db, actor="local user")
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
        on_wait=lambda who: click.echo(f"waiting for the deploy lock held by {who}", err=True),
        **kw,
    )
    release = result.release
    line = f"{app} {env} v{release.version}: {release.status}"
    if release.reason:
        line += f" ({release.reason})"
    click.echo(line)
    if result.exit_code:
        raise SystemExit(result.exit_code)


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
@_json_option
def info(app: str, as_json: bool) -> None:
    """An app's manifest and, per environment, release and formation."""
    with _service(None, False, None, aws=False) as service:
        data = service.info(app)
    if as_json:
        _print(data)
        return
    click.echo(f"app {data['name']}")
    for name, spec in data["manifest"].get("processes", {}).items():
        click.echo(f"  {name}: {spec['command']}")
    for env, state in data["environments"].items():
        click.echo(f"  {env}: release v{state['current_release']} formation {state['formation']}")


@apps.group()
def env() -> None:
    """Config vars: get, set, unset (a secret is KEY=secret:/path)."""


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
) -> None:
    """Deploy IMAGE as a new release of APP in ENV, and follow it to COMPLETED."""
    with _service(apps_file, local, region) as service:
        _deploy(
            service,
            app,
            env,
            image,
            approve_protected,
            description=message,
            lock_wait=0.0 if no_wait_lock else 900.0,
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


@apps.command()
@_target
@_common
@click.argument("specs", nargs=-1, required=True)
def scale(
    app: str, env: str, apps_file: str, local: bool, region: str | None, specs: tuple[str, ...]
) -> None:
    """Scale processes: web=3 worker=2:512:1024 (count[:cpu[:memory]]), as a new release."""
    from stackyard.apps.formation import parse_scale

    scales = [parse_scale(s) for s in specs]
    with _service(apps_file, local, region) as service:
        service.scale_formation(app, env, scales)
        _deploy(service, app, env, None, description="scale " + " ".join(specs))


@apps.command()
@_target
@_common
@click.argument("version", required=False)
def rollback(
    app: str, env: str, apps_file: str, local: bool, region: str | None, version: str | None
) -> None:
    """Deploy a new release made from release VERSION (v3 or 3; default: the one before)."""
    from stackyard.errors import UsageError

    number = (version or "0").lower().removeprefix("v")
    if not number.isdigit():
        raise UsageError(f"{version!r} is not a release number (v3 or 3)")
    with _service(apps_file, local, region) as service:
        target = int(number) or service.previous_version(app, env)
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
