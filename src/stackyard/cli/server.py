"""``stackyard server``: run the control plane, and manage its users and tokens."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import click

CONFIG_HELP = (
    "The server file (default: server.yaml here if there is one; $STACKYARD_SERVER_CONFIG)."
)


def _db(database_url: str | None) -> Any:
    from stackyard.apps.db.database import Database

    return Database.open(database_url)


@click.group(invoke_without_command=True)
@click.option("--local", is_flag=True, help="SQLite and the local AWS (started when none runs).")
@click.option(
    "--database-url",
    envvar="STACKYARD_DATABASE_URL",
    default=None,
    help="postgresql+psycopg://USER@HOST/DB (default: SQLite under STACKYARD_HOME).",
)
@click.option("-c", "--config", "config_path", envvar="STACKYARD_SERVER_CONFIG", help=CONFIG_HELP)
@click.option("--apps-file", default=None, help="The environments file (default: server.yaml's).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port (0: any free).")
@click.option("-r", "--region", default=None, help="AWS region.")
@click.option(
    "--grace",
    default=30.0,
    show_default=True,
    type=float,
    help="On SIGTERM, seconds to let running deploys finish before handing them back.",
)
@click.option(
    "--public-dashboard/--private-dashboard",
    default=None,
    help="Whether / needs a token (default: server.yaml's; public with --local).",
)
@click.pass_context
def server(
    ctx: click.Context,
    local: bool,
    database_url: str | None,
    config_path: str | None,
    apps_file: str | None,
    host: str,
    port: int,
    region: str | None,
    grace: float,
    public_dashboard: bool | None,
) -> None:
    """Serve the JSON API, Slack slash commands, GitHub delivery and the dashboard.

    Secrets come from the environment: STACKYARD_SLACK_SIGNING_SECRET,
    STACKYARD_GITHUB_WEBHOOK_SECRET, STACKYARD_GITHUB_TOKEN. More than one server can share
    one PostgreSQL database: each deploy runs once.
    """
    ctx.ensure_object(dict)
    ctx.obj["database_url"] = database_url
    if ctx.invoked_subcommand is not None:
        return
    import socket

    import uvicorn

    from stackyard.apps.environments import load_environments
    from stackyard.server.app import create_app
    from stackyard.server.config import Secrets, load_settings
    from stackyard.server.core import Server

    if config_path is None and os.path.exists("server.yaml"):
        config_path = "server.yaml"
    settings, base = load_settings(config_path)
    if public_dashboard is not None or local:
        flag = public_dashboard if public_dashboard is not None else True
        settings = settings.model_copy(update={"public_dashboard": flag})
    apps_path = apps_file or str(base / settings.apps_file)
    environments = load_environments(apps_path) if os.path.exists(apps_path) else None
    with contextlib.ExitStack() as stack:
        endpoint = None
        if local:
            from stackyard.local.embedded import local_endpoint_url

            endpoint = stack.enter_context(local_endpoint_url(start_if_missing=True))
        db = _db(database_url)
        stack.callback(db.close)
        srv = Server(
            db,
            settings,
            Secrets.from_environ(),
            environments,
            endpoint,
            region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            base,
        )
        app = create_app(srv, grace=grace)
        # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it a kept-alive connection waits ~40 ms (Nagle and delayed ACKs) per answer
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        bound = sock.getsockname()[1]
        where = f"[{host}]" if ":" in host else host
        click.echo(f"stackyard server on http://{where}:{bound} ({srv.ident})", err=True)
        if environments is None:
            click.echo(f"no apps file at {apps_path}: deploys need one", err=True)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=int(grace) + 5,
            lifespan="on",
        )
        # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again to
        # the handler that was there before: make that one a no-op, so a graceful stop
        # exits 0 rather than dying of the signal.
        import signal

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        # what is loaded by now lives as long as the server: keep the collector off it
        import gc

        gc.collect()
        gc.freeze()
        uvicorn.Server(config).run(sockets=[sock])
        click.echo("stackyard server stopped", err=True)


@server.group()
def users() -> None:
    """The server's users and their scopes (ACTION:ENV; read, deploy, admin; ENV or *)."""


@users.command(name="add")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, help="read:*, deploy:stage, deploy:prod, admin:*")
@click.option("--slack", "slack_id", default=None, help="The user's Slack id (U…).")
@click.option("--github", "github_login", default=None, help="The user's GitHub login.")
@click.pass_obj
def users_add(
    obj: dict[str, Any],
    name: str,
    scopes: tuple[str, ...],
    slack_id: str | None,
    github_login: str | None,
) -> None:
    """Add user NAME (again: replace its scopes)."""
    from stackyard.server.auth import add_user

    db = _db(obj.get("database_url"))
    try:
        add_user(db, name, scopes, slack_id=slack_id, github_login=github_login, actor="cli")
    finally:
        db.close()
    click.echo(f"user {name}: {' '.join(scopes) or 'no scopes'}")


@users.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def users_list(obj: dict[str, Any], as_json: bool) -> None:
    """Every user, its scopes and tokens (prefixes only)."""
    from stackyard.server.auth import users as all_users

    db = _db(obj.get("database_url"))
    try:
        rows = all_users(db)
    finally:
        db.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        tokens = ", ".join(str(t["prefix"]) + "…" for t in row["tokens"])  # type: ignore[attr-defined]
        click.echo(f"{row['name']:<16} {' '.join(row['scopes']):<40} {tokens}")  # type: ignore[arg-type]


@server.group()
def tokens() -> None:
    """API tokens (the server keeps only their SHA-256)."""


@tokens.command(name="create")
@click.argument("user")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, help="Narrower scopes (default: the user's).")
@click.pass_obj
def tokens_create(obj: dict[str, Any], user: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create token NAME of USER and print it (once)."""
    from stackyard.server.auth import create_token

    db = _db(obj.get("database_url"))
    try:
        token = create_token(db, user, name, list(scopes) if scopes else None, actor="cli")
    finally:
        db.close()
    click.echo(token)


@tokens.command(name="revoke")
@click.argument("prefix")
@click.pass_obj
def tokens_revoke(obj: dict[str, Any], prefix: str) -> None:
    """Revoke the token starting PREFIX (its first 10 characters are enough)."""
    from stackyard.server.auth import revoke_token

    db = _db(obj.get("database_url"))
    try:
        count = revoke_token(db, prefix, actor="cli")
    finally:
        db.close()
    click.echo(f"revoked {count}")
    if not count:
        raise SystemExit(1)
