"""``audit``: what the config does not say. ``audit dns``: unmanaged and dangling records.

Exit codes: 0 nothing found, 2 something found, 1 an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from stackyard.cli import wiring
from stackyard.cli.options import Invocation, config_arguments

if TYPE_CHECKING:
    from stackyard.audit.dns import StackDns
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.project import Project

__all__ = ["audit"]

FOUND_EXIT = 2


@click.group()
def audit() -> None:
    """Audit what the config does not say."""


def _stacks(project: Project, gateway: CloudFormationGateway) -> list[StackDns]:
    """Every deployed stack of the config, with its template and resources."""
    from stackyard.audit.dns import StackDns
    from stackyard.plan.diff import snapshot

    out: list[StackDns] = []
    for stack in project.loaded.config.stacks:
        fqn, location = project.fqn(stack.name), project.location(stack.name)
        deployed = gateway.cached(fqn, location)
        if deployed is None:
            continue
        template = snapshot(deployed, gateway.get_template(fqn, location, stack=deployed)).template
        resources = gateway.stack_resources(fqn, location)
        out.append(
            StackDns(
                stack.name,
                template,
                dict(deployed.parameters),
                {
                    str(r["LogicalResourceId"]): str(r["PhysicalResourceId"])
                    for r in resources
                    if r.get("PhysicalResourceId")
                },
                {str(r["LogicalResourceId"]): str(r["ResourceType"]) for r in resources},
            )
        )
    return out


@audit.command()
@config_arguments
@wiring.aws_options
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def dns(ctx: click.Context, inv: Invocation, local: bool, retry_mode: str, as_json: bool) -> None:
    """Records in the stacks' hosted zones that no stack declares, and aliases or CNAMEs
    to load balancers, S3 websites, CloudFront or Elastic Beanstalk that no longer exist.

    Exit codes: 0 nothing found, 2 something found, 1 an error.
    """
    import json

    from stackyard.audit.dns import audit_dns
    from stackyard.aws.dns_reads import DnsReads
    from stackyard.aws.session import Location

    project = wiring.load_project(inv)
    with wiring.gateway(inv, local, retry_mode) as gateway:
        for location in {project.location(s.name) for s in project.loaded.config.stacks}:
            gateway.list_stacks(location)
        reads = DnsReads(gateway.clients, Location(project.region, project.profile))
        found = audit_dns(_stacks(project, gateway), reads)
    if as_json:
        click.echo(json.dumps(found.to_json(), indent=2))
    else:
        from stackyard.ui.dns_audit import render_dns_audit

        render_dns_audit(wiring.console(), found)
    ctx.exit(FOUND_EXIT if found.findings else 0)
