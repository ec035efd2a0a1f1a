"""What the commands share: loading the project, reaching AWS (or the local endpoint),
Ctrl-C handling and the console. Heavy imports stay inside the functions so that
``stackyard --help`` stays instant.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from stackyard.cli.options import Invocation

if TYPE_CHECKING:
    from rich.console import Console

    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.engine.scheduler import Interrupt
    from stackyard.project import Project

__all__ = ["aws_options", "console", "gateway", "interrupts", "load_project"]


def aws_options(func: Any) -> Any:
    """``--local`` and ``--retry-mode``, for every command that talks to AWS."""
    func = click.option(
        "--retry-mode",
        type=click.Choice(["standard", "adaptive"]),
        default="standard",
        show_default=True,
        help="botocore's retry mode for AWS calls.",
    )(func)
    func = click.option(
        "--local",
        is_flag=True,
        help="Use the local AWS endpoint (the running one, or one for this command).",
    )(func)
    return func


def load_project(inv: Invocation) -> Project:
    """Load the config the user named, and tell them its notices on stderr."""
    from stackyard.cli.main import notice
    from stackyard.config.environment import parse_overrides
    from stackyard.project import Project

    project = Project.load(
        inv.config_path,
        environment_file=inv.environment_file,
        overrides=parse_overrides(list(inv.overrides)),
        region=inv.region,
        profile=inv.profile,
    )
    for message in project.notices:
        notice(message)
    return project


@contextlib.contextmanager
def gateway(inv: Invocation, local: bool, retry_mode: str) -> Iterator[CloudFormationGateway]:
    """The CloudFormation gateway; ``--local`` changes the endpoint and nothing else."""
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.aws.session import ClientFactory
    from stackyard.aws.template_cache import TemplateCache, default_cache_dir

    with contextlib.ExitStack() as stack:
        endpoint: str | None = None
        if local:
            from stackyard.local.embedded import local_endpoint_url

            endpoint = stack.enter_context(local_endpoint_url(start_if_missing=True))
        factory = ClientFactory(
            endpoint_url=endpoint,
            retry_mode="adaptive" if retry_mode == "adaptive" else "standard",
            default_region=inv.region,
        )
        yield CloudFormationGateway(factory, templates=TemplateCache(default_cache_dir()))


@contextlib.contextmanager
def interrupts() -> Iterator[Interrupt]:
    """Count Ctrl-C presses for the engine while the block runs (main thread only)."""
    from stackyard.engine.scheduler import Interrupt

    interrupt = Interrupt()
    try:
        previous = signal.signal(signal.SIGINT, interrupt.handler)
    except ValueError:  # not the main thread (e.g. embedded use): no handler
        yield interrupt
        return
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)


def console() -> Console:
    """The one console output goes through."""
    from rich.console import Console

    return Console(highlight=False)
