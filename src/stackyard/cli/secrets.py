"""``stackyard secrets ...``: put, get, list, history, rm, migrate and audit secrets in SSM.

Values enter only through a no-echo prompt, standard input or ``--from-file``,
never as an argument (arguments end up in shell history and process lists),
and leave only through ``get --reveal``. boto3 and rich are imported when a
command runs, so ``stackyard --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from stackyard.errors import UsageError

if TYPE_CHECKING:
    from stackyard.secrets.store import SecretStore

__all__ = ["secrets"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Target:
    """Where the secrets live: endpoint, region, profile, namespace."""

    local: bool
    endpoint_url: str | None
    region: str | None
    profile: str | None
    namespace: str | None


def _aws_options(command: F) -> F:
    options = [
        click.option("--local", is_flag=True, help="Use the embedded local AWS endpoint."),
        click.option("--endpoint-url", metavar="URL", help="Use this AWS endpoint."),
        click.option("-r", "--region", help="AWS region (default: the profile's)."),
        click.option("-p", "--profile", help="AWS profile."),
        click.option(
            "-n",
            "--namespace",
            envvar="STACKYARD_NAMESPACE",
            help="Namespace: secrets live under /NAMESPACE/, encrypted under "
            "alias/NAMESPACE/secrets (default: a path's first segment).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _target(kwargs: dict[str, Any]) -> Target:
    return Target(
        local=bool(kwargs.pop("local")),
        endpoint_url=kwargs.pop("endpoint_url"),
        region=kwargs.pop("region"),
        profile=kwargs.pop("profile"),
        namespace=kwargs.pop("namespace"),
    )


@contextmanager
def open_store(target: Target) -> Iterator[SecretStore]:
    """A :class:`SecretStore` for ``target``; with ``--local``, on the local endpoint."""
    from stackyard.aws.session import ClientFactory, Location
    from stackyard.secrets.store import SecretStore

    with ExitStack() as stack:
        endpoint = target.endpoint_url
        if target.local and not endpoint:
            from stackyard.local.embedded import local_endpoint_url

            endpoint = stack.enter_context(local_endpoint_url(start_if_missing=True))
        factory = ClientFactory(endpoint_url=endpoint, default_region=target.region)
        location = Location(region=target.region, profile=target.profile)
        yield SecretStore(lambda service: factory.client(service, location), target.namespace)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def _table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.table import Table

    from stackyard.ui.terminal import make_console

    table = Table(title=title, show_edge=False, header_style="bold", title_justify="left")
    for index, column in enumerate(columns):
        table.add_column(column, overflow="fold", no_wrap=index == 0)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    # Piped output is for grep and scripts: one line per row, however wide.
    make_console(sys.stdout).print(table)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


@click.group()
def secrets() -> None:
    """Secrets in SSM Parameter Store, encrypted under one KMS key per namespace.

    Names look like /NAMESPACE/APP/NAME. Values are read from a no-echo prompt,
    standard input or --from-file, never from the command line.
    """


def read_value(from_file: str | None) -> str:
    """The secret value: from the file, from standard input, or from a no-echo prompt.

    One trailing newline is dropped from standard input (``echo`` adds it).
    """
    if from_file is not None:
        try:
            data = Path(from_file).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {from_file}: {exc.strerror or exc}") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{from_file} is not UTF-8 text") from None
    stdin = sys.stdin
    if stdin.isatty():
        value: str = click.prompt(
            "Value (input hidden)", hide_input=True, confirmation_prompt=True, prompt_suffix=": "
        )
        return value
    value = stdin.read()
    if value.endswith("\r\n"):
        return value[:-2]
    return value[:-1] if value.endswith("\n") else value


@secrets.command()
@click.argument("path")
@click.option(
    "--from-file",
    metavar="FILE",
    help="Read the value from FILE (as is). Default: standard input, or a hidden prompt.",
)
@click.option("--key", metavar="ALIAS|ARN", help="KMS key (default: alias/NAMESPACE/secrets).")
@click.option("--overwrite", is_flag=True, help="Replace the value of an existing secret.")
@click.option("--description", help="A description stored with the parameter.")
@_aws_options
def put(
    path: str,
    from_file: str | None,
    key: str | None,
    overwrite: bool,
    description: str | None,
    **kwargs: Any,
) -> None:
    """Store a secret at PATH as a SecureString (the value is never an argument)."""
    with open_store(_target(kwargs)) as store:
        key_info, _ = store.prepare_put(path, key, overwrite)
        value = read_value(from_file)
        result = store.put(path, value, key, overwrite=overwrite, description=description)
    verb = "created" if result.created else "updated"
    click.echo(f"{verb} {result.name} version {result.version} (key {key_info.given})")


@secrets.command()
@click.argument("path")
@click.option("--reveal", is_flag=True, help="Print the value itself (and only it).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_aws_options
def get(path: str, reveal: bool, as_json: bool, **kwargs: Any) -> None:
    """Show a secret, its value masked unless --reveal."""
    from stackyard.lookups.secret import MASK

    with open_store(_target(kwargs)) as store:
        info, value = store.get(path)
    if as_json:
        _emit_json({**info.as_dict(), "value": value.reveal() if reveal else MASK})
    elif reveal:
        click.echo(value.reveal())
    else:
        click.echo(
            f"{info.name} = {MASK}  (version {info.version}, key {info.key_id}, "
            f"changed {_when(info.last_modified)} by {info.last_modified_user or '-'})"
        )


@secrets.command(name="list")
@click.argument("prefix", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_aws_options
def list_(prefix: str | None, as_json: bool, **kwargs: Any) -> None:
    """List secrets under PREFIX (default: the namespace): names, versions, changes; no values."""
    with open_store(_target(kwargs)) as store:
        found = store.list_secrets(prefix)
    if as_json:
        _emit_json([s.as_dict() for s in found])
        return
    if not found:
        click.echo(f"no secrets under {store.scope(prefix)}", err=True)
        return
    _table(
        None,
        ["NAME", "VERSION", "LAST CHANGE", "BY", "KEY"],
        [
            (s.name, s.version, _when(s.last_modified), s.last_modified_user, s.key_id)
            for s in found
        ],
    )


@secrets.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_aws_options
def history(path: str, as_json: bool, **kwargs: Any) -> None:
    """Versions of a secret: dates, users, keys; never values."""
    with open_store(_target(kwargs)) as store:
        versions = store.history(path)
    if as_json:
        _emit_json([v.as_dict() for v in versions])
        return
    _table(
        path,
        ["VERSION", "DATE", "BY", "KEY", "LABELS"],
        [(v.version, _when(v.modified), v.user, v.key_id, ",".join(v.labels)) for v in versions],
    )


@secrets.command()
@click.argument("path")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@_aws_options
def rm(path: str, yes: bool, **kwargs: Any) -> None:
    """Delete a secret and all its versions (asks first unless --yes)."""
    with open_store(_target(kwargs)) as store:
        info = store.require_secret(path)
        if not yes:
            # Without a terminal nobody can answer: refuse as destroy and fleet do.
            if not sys.stdin.isatty():
                raise UsageError(
                    "refusing to delete a secret without confirmation",
                    hint="pass --yes to delete without asking",
                )
            click.confirm(
                f"Delete secret {info.name} (version {info.version}) and its history?",
                abort=True,
            )
        store.delete(path)
    click.echo(f"deleted {info.name}")


@secrets.command()
@click.option(
    "--from-key",
    "from_keys",
    multiple=True,
    required=True,
    metavar="KEY",
    help="A key secrets are encrypted under now (repeatable).",
)
@click.option("--to-key", required=True, metavar="KEY", help="The key to re-encrypt under.")
@click.option("--prefix", metavar="PATH", help="Only secrets under PATH (default: namespace).")
@click.option("--dry-run", is_flag=True, help="Report what would move; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_aws_options
def migrate(
    from_keys: tuple[str, ...],
    to_key: str,
    prefix: str | None,
    dry_run: bool,
    as_json: bool,
    **kwargs: Any,
) -> None:
    """Re-encrypt SecureStrings under --from-key keys with --to-key, checking each value."""
    from stackyard.secrets.store import SecretsError

    with open_store(_target(kwargs)) as store:
        report = store.migrate(from_keys, to_key, prefix, dry_run=dry_run)
    if as_json:
        _emit_json(report.as_dict())
    else:
        _table(
            "would move" if dry_run else "moved",
            ["NAME", "FROM KEY", "VERSION", "NEW VERSION", "STATUS"],
            [
                (
                    m.name,
                    m.from_key,
                    m.from_version,
                    m.to_version or "-",
                    m.status + (f": {m.error}" if m.error else ""),
                )
                for m in report.moves
            ],
        )
        moved = sum(1 for m in report.moves if m.status == "moved")
        click.echo(
            f"{'would move' if dry_run else 'moved'} {len(report.moves) if dry_run else moved}, "
            f"already under {report.to_key.given}: {len(report.already)}, "
            f"under other keys (left alone): {len(report.other)}, failed: {len(report.failed)}"
        )
    if report.failed:
        raise SecretsError(
            f"{len(report.failed)} secret(s) could not be moved",
            hint="see the table; rerun migrate to retry them",
        )


@secrets.command()
@click.argument("prefix", required=False)
@click.option("--role-path", default="/", show_default=True, help="Only roles under this IAM path.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_aws_options
def audit(prefix: str | None, role_path: str, as_json: bool, **kwargs: Any) -> None:
    """Which roles can read which secrets, and which roles can read more than they name."""
    from stackyard.secrets.audit import run_audit

    with open_store(_target(kwargs)) as store:
        report = run_audit(store, prefix, role_path)
    if as_json:
        _emit_json(report.as_dict())
        return
    _table(
        f"secrets under {report.scope}",
        ["SECRET", "READABLE BY"],
        [(s.name, ", ".join(s.readers) or "(no role)") for s in report.secrets],
    )
    if report.unreadable:
        click.echo(f"\nno role can read: {', '.join(report.unreadable)}")
    if report.roles:
        click.echo()
        _table(
            "roles",
            ["ROLE", "DECLARED", "CAN READ", "BEYOND DECLARED"],
            [
                (
                    r.role,
                    ", ".join(r.declared) or "-",
                    len(r.reads),
                    "; ".join([*r.undeclared, *r.broad]) or "-",
                )
                for r in report.roles
            ],
        )
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
