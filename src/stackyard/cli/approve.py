"""``approve PLANFILE --by NAME``: a reviewer's signed approval, written beside the plan.

The signing is :mod:`stackyard.plan.approvals_file`; the key comes from the environment or
SSM (:mod:`stackyard.aws.approval_key`). ``apply`` reads the file back through
:func:`signed_items`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stackyard.cli import wiring

if TYPE_CHECKING:
    from stackyard.plan.approvals_file import Reviewable

__all__ = ["approve", "signed_items"]


def _key(local: bool, where: tuple[str | None, str | None]) -> bytes:
    """The approval key; AWS (``where``: the plan's region and profile) is reached only when
    the key is named in SSM."""
    from stackyard.aws.approval_key import KEY_ENV, KEY_SSM_ENV, approval_key

    if os.environ.get(KEY_ENV) or not os.environ.get(KEY_SSM_ENV):
        return approval_key(os.environ)
    from stackyard.cli.options import Invocation

    region, profile = where
    inv = Invocation("", None, (), region, profile, (), 0)
    with wiring.gateway(inv, local, "standard") as gateway:
        return approval_key(os.environ, gateway.clients)


def signed_items(
    plan: Reviewable,
    planfile: str,
    approvals: str | None,
    *,
    required: bool,
    local: bool,
    where: tuple[str | None, str | None] = (None, None),
) -> frozenset[str] | None:
    """The item ids that verified approvals of ``plan`` approve; None when there is no
    approvals file and none is ``required`` (the reviewed plan then approves its own items).
    ``where``: the plan's region and profile, for a key kept in SSM."""
    from stackyard.plan.approvals_file import approvals_path, load_approvals, verified_items

    path = Path(approvals) if approvals else approvals_path(planfile)
    if not path.exists():
        if approvals:
            raise click.UsageError(f"no approvals file {approvals}")
        return frozenset() if required else None
    loaded = load_approvals(path.read_text(encoding="utf-8"))
    items = verified_items(plan, loaded, key=_key(local, where))
    names = ", ".join(sorted({a.by for a in loaded})) or "nobody"
    click.echo(
        f"approvals: {len(items)} item(s) approved by {names} (signatures verified)", err=True
    )
    return items


def _read_reviewable(planfile: str) -> tuple[Reviewable, tuple[str | None, str | None]]:
    """A stack plan or an app deploy's plan, read from ``planfile``, and its region and
    profile."""
    from stackyard.apps.deploy_plan import FORMAT as DEPLOY_PLAN
    from stackyard.cli.plan import read_plan, read_plan_text

    _, found = read_plan_text(planfile)
    if found == DEPLOY_PLAN:
        from stackyard.cli.apps import read_deploy_plan

        deploy = read_deploy_plan(planfile)
        return deploy, (deploy.region, None)
    plan = read_plan(planfile)
    return plan, (plan.inputs.region, plan.inputs.profile) if plan.inputs else (None, None)


@click.command()
@click.argument("planfile", metavar="PLANFILE")
@click.option("--by", "by", required=True, metavar="NAME", help="Who approves (a person).")
@click.option(
    "--items",
    "items",
    multiple=True,
    metavar="ID",
    help="Approve only these approval items (ids as in the report). Repeatable; "
    "default: every item that needs approval.",
)
@click.option("--local", is_flag=True, help="Read the key from SSM on the local endpoint.")
def approve(planfile: str, by: str, items: tuple[str, ...], local: bool) -> None:
    """Sign an approval of a saved plan's protected changes (PLANFILE.approvals.json).

    PLANFILE is a stack plan (`stackyard plan -o`) or an app deploy's plan (`stackyard apps
    plan -o`). The key comes from $STACKYARD_APPROVAL_KEY, or the SSM SecureString parameter
    named by $STACKYARD_APPROVAL_KEY_SSM. `stackyard apply PLANFILE` (`stackyard apps apply
    PLANFILE`) accepts the approval only for this exact plan, and only when the signature
    verifies.
    """
    from stackyard.plan.approvals_file import (
        approvable_items,
        approvals_path,
        dump_approvals,
        load_approvals,
        sign,
    )

    plan, where = _read_reviewable(planfile)
    wanted = items or approvable_items(plan)
    if not wanted:
        click.echo("nothing in this plan needs approval", err=True)
        return
    key = _key(local, where)
    approval = sign(plan, wanted, by=by, key=key, now=datetime.now(UTC))
    path = approvals_path(planfile)
    kept = load_approvals(path.read_text(encoding="utf-8")) if path.exists() else []
    path.write_text(dump_approvals([*kept, approval]), encoding="utf-8")
    click.echo(f"{by} approved {len(approval.items)} item(s); written to {path}")
