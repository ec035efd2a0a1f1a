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
    from stackyard.plan.model import Plan

__all__ = ["approve", "signed_items"]


def _key(local: bool, plan: Plan) -> bytes:
    """The approval key; AWS is reached only when the key is named in SSM."""
    from stackyard.aws.approval_key import KEY_ENV, KEY_SSM_ENV, approval_key

    if os.environ.get(KEY_ENV) or not os.environ.get(KEY_SSM_ENV):
        return approval_key(os.environ)
    from stackyard.cli.options import Invocation

    region = plan.inputs.region if plan.inputs else None
    profile = plan.inputs.profile if plan.inputs else None
    inv = Invocation("", None, (), region, profile, (), 0)
    with wiring.gateway(inv, local, "standard") as gateway:
        return approval_key(os.environ, gateway.clients)


def signed_items(
    plan: Plan, planfile: str, approvals: str | None, *, required: bool, local: bool
) -> frozenset[str] | None:
    """The item ids that verified approvals of ``plan`` approve; None when there is no
    approvals file and none is ``required`` (the reviewed plan then approves its own items)."""
    from stackyard.plan.approvals_file import approvals_path, load_approvals, verified_items

    path = Path(approvals) if approvals else approvals_path(planfile)
    if not path.exists():
        if approvals:
            raise click.UsageError(f"no approvals file {approvals}")
        return frozenset() if required else None
    loaded = load_approvals(path.read_text(encoding="utf-8"))
    items = verified_items(plan, loaded, key=_key(local, plan))
    names = ", ".join(sorted({a.by for a in loaded})) or "nobody"
    click.echo(
        f"approvals: {len(items)} item(s) approved by {names} (signatures verified)", err=True
    )
    return items


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

    The key comes from $STACKYARD_APPROVAL_KEY, or the SSM SecureString parameter named by
    $STACKYARD_APPROVAL_KEY_SSM. `stackyard apply PLANFILE` accepts the approval only for
    this exact plan, and only when the signature verifies.
    """
    from stackyard.cli.plan import read_plan
    from stackyard.plan.approvals_file import (
        approvable_items,
        approvals_path,
        dump_approvals,
        load_approvals,
        sign,
    )

    plan = read_plan(planfile)
    wanted = items or approvable_items(plan)
    if not wanted:
        click.echo("nothing in this plan needs approval", err=True)
        return
    key = _key(local, plan)
    approval = sign(plan, wanted, by=by, key=key, now=datetime.now(UTC))
    path = approvals_path(planfile)
    kept = load_approvals(path.read_text(encoding="utf-8")) if path.exists() else []
    path.write_text(dump_approvals([*kept, approval]), encoding="utf-8")
    click.echo(f"{by} approved {len(approval.items)} item(s); written to {path}")
