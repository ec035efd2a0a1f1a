"""``stackyard local ...``: serve, up, down and status of the embedded local AWS, and
simulated traffic through one of its load balancers' listeners.

The group is :data:`local`; the main CLI adds it as a sub-command. moto and boto3 are imported
only when a command runs.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from stackyard.errors import StackyardError

__all__ = ["local"]

F = TypeVar("F", bound=Callable[..., Any])


def _reported(command: F) -> F:
    """Turn a StackyardError into its message on stderr and its exit code."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StackyardError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return run  # type: ignore[return-value]


def _serve_options(command: F) -> F:
    options = [
        click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address."),
        click.option("--port", type=int, default=4566, show_default=True, help="0 picks one."),
        click.option(
            "--latency",
            metavar="SPEC",
            help="Time per resource operation, e.g. resource=1.5s,jitter=0.2,"
            "AWS::RDS::DBInstance=20s,changeset=0s.",
        ),
        click.option(
            "--faults",
            metavar="SPEC",
            help="Fault injection, e.g. seed=7,cloudformation:DescribeStacks=throttle:0.3,"
            "*=error500:0.05,ssm:*=drop:0.1,cloudformation:CreateStack=lost:0.1.",
        ),
        click.option(
            "--state",
            metavar="DIR",
            type=click.Path(file_okay=False),
            help="Keep stacks and resources across restarts in DIR.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(name="local")
def local() -> None:
    """The embedded local AWS endpoint (moto, with a faithful CloudFormation)."""


@local.command()
@_serve_options
@click.option("--ready-file", type=click.Path(dir_okay=False), hidden=True)
@_reported
def serve(
    host: str,
    port: int,
    latency: str | None,
    faults: str | None,
    state: str | None,
    ready_file: str | None,
) -> None:
    """Run the local AWS endpoint in the foreground until Ctrl-C."""
    from stackyard.local.daemon import ServeOptions
    from stackyard.local.daemon import serve as serve_foreground

    options = ServeOptions(host, port, latency, faults, state)
    serve_foreground(
        options,
        ready_file=Path(ready_file) if ready_file else None,
        echo=lambda line: click.echo(line, err=True),
    )


@local.command()
@_serve_options
@_reported
def up(host: str, port: int, latency: str | None, faults: str | None, state: str | None) -> None:
    """Start the local AWS endpoint in the background."""
    from stackyard.local.daemon import ServeOptions
    from stackyard.local.daemon import up as start

    info = start(ServeOptions(host, port, latency, faults, state))
    click.echo(f"local AWS running at {info.url} (pid {info.pid}); log: {info.log}")
    click.echo(f"  export AWS_ENDPOINT_URL={info.url}")


@local.command()
@_reported
def down() -> None:
    """Stop the background local AWS endpoint."""
    from stackyard.local.daemon import down as stop

    info = stop()
    if info is None:
        click.echo("no local AWS endpoint is running")
        return
    click.echo(f"stopped the local AWS endpoint at {info.url} (pid {info.pid})")


@local.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status document as JSON.")
@_reported
def status(as_json: bool) -> None:
    """Show the background endpoint: url, pid, uptime, calls, unsupported resource types."""
    from stackyard.local.daemon import status as read_status

    document = read_status()
    if as_json:
        click.echo(json.dumps(document or {"running": False}, indent=2, sort_keys=True))
    elif document is None:
        click.echo("no local AWS endpoint is running (start one with `stackyard local up`)")
    else:
        click.echo(render_status(document))
    if document is None:
        sys.exit(1)


@local.command()
@click.argument("listener_arn")
@click.option("-n", "--requests", default=1000, show_default=True, help="How many requests.")
@click.option("--host", default="", help="The Host header of every request.")
@click.option("--path", default="/", show_default=True, help="The path of every request.")
@click.option("--header", "headers", multiple=True, help="NAME=VALUE, another header (repeat).")
@click.option("--seed", type=int, default=None, help="Make the random choices repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole answer as JSON.")
@_reported
def traffic(
    listener_arn: str,
    requests: int,
    host: str,
    path: str,
    headers: tuple[str, ...],
    seed: int | None,
    as_json: bool,
) -> None:
    """Send simulated requests through a listener of the background endpoint: which target
    group answered how many (rules, weights and target health as a load balancer has them)."""
    from stackyard.errors import UsageError
    from stackyard.local.daemon import recorded
    from stackyard.local.elbv2.traffic import TrafficError, send_traffic

    info = recorded()
    if info is None:
        raise StackyardError(
            "no local AWS endpoint is running (start one with `stackyard local up`)"
        )
    pairs = dict(h.partition("=")[::2] for h in headers)
    if any(not name for name in pairs):
        raise UsageError("a header is NAME=VALUE")
    try:
        answer = send_traffic(
            info.url, listener_arn, requests, host=host, path=path, seed=seed, headers=pairs
        )
    except TrafficError as exc:
        raise UsageError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(answer, indent=2, sort_keys=True))
        return
    click.echo(f"{requests} requests through rule {answer['rule']}")
    for group, count in sorted(answer["target_groups"].items(), key=lambda kv: -kv[1]):
        click.echo(f"  {group.split(':')[-1]:<60} {count:>7} {100 * count / requests:6.1f}%")
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(answer["statuses"].items()))
    click.echo(f"  statuses: {statuses}")


def _duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def render_status(document: dict[str, Any]) -> str:
    """The status document as a few human lines."""
    health = document.get("health", "ok")
    lines = [
        "local AWS: running" if health == "ok" else f"local AWS: {health}",
        f"  url        {document.get('url')}",
        f"  pid        {document.get('pid')}",
        f"  uptime     {_duration(float(document.get('uptime_seconds') or 0))}",
    ]
    if document.get("state_dir"):
        saved = document.get("last_saved") or "not yet"
        lines.append(f"  state      {document['state_dir']} (last saved: {saved})")
    faults = document.get("faults") or {}
    if faults.get("spec"):
        lines.append(f"  faults     {faults['spec']}")
    calls = document.get("calls") or {}
    services = calls.get("services") or {}
    per_service = sorted(
        ((sum(actions.values()), name) for name, actions in services.items()), reverse=True
    )
    summary = ", ".join(f"{name} {count}" for count, name in per_service[:6])
    lines.append(f"  calls      {calls.get('total', 0)} since {calls.get('since', '?')}")
    if summary:
        lines.append(f"             {summary}")
    statuses = calls.get("statuses") or {}
    if statuses:
        lines.append("             " + ", ".join(f"{k}: {v}" for k, v in statuses.items()))
    unsupported = document.get("unsupported_types") or {}
    if unsupported:
        listed = ", ".join(f"{name} ({count})" for name, count in sorted(unsupported.items()))
        lines.append(f"  recorded-only resource types: {listed}")
    else:
        lines.append("  recorded-only resource types: none")
    return "\n".join(lines)
