"""``build --outline`` and ``build --dump DIR``: what a build would do, changing nothing.

Both are stacker 1.7's. Neither runs hooks nor writes to AWS:

- the outline is the build's steps in the order they would start, with no AWS call at all,
  in stacker's lines (``Plan "Create/Update stacks":`` then ``  - step: N: target: "NAME",
  action: "build"``; targets' action is ``target``);
- the dump writes each selected stack's rendered template where stacker wrote it,
  ``DIR/stack_templates/<stack name on AWS>/<stack name>-<version>.json``, the version being
  the first 8 hex digits of the template's MD5. Values from other stacks' outputs, SSM, KMS...
  are read from AWS (read calls only) when a template itself holds them; the outputs of a
  stack that is not deployed yet stay ``(known after apply: ...)`` (stacker stopped with an
  error there, and read AWS for values that only reach parameters too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.desired import DesiredStack
    from stackyard.graph import Graph
    from stackyard.project import Project

__all__ = ["Dumped", "dump_path", "dump_templates", "outline_lines"]


def outline_lines(graph: Graph) -> list[str]:
    """The steps of a build of ``graph``, in the order they would start."""
    lines = ['Plan "Create/Update stacks":']
    for number, node in enumerate(graph.order(), start=1):
        action = "target" if node in graph.targets else "build"
        lines.append(f'  - step: {number}: target: "{node}", action: "{action}"')
    return lines


@dataclass(frozen=True)
class Dumped:
    """One template written by ``--dump``."""

    name: str
    path: Path
    unknowns: bool  # it holds values known only once another stack is deployed


def dump_path(directory: Path, desired: DesiredStack) -> Path:
    """Where stacker's ``--dump`` put a stack's template."""
    version = hashlib.md5(desired.template_body.encode("utf-8"), usedforsecurity=False)
    return (
        directory
        / "stack_templates"
        / desired.fqn
        / f"{desired.name}-{version.hexdigest()[:8]}.json"
    )


def dump_templates(
    project: Project,
    names: Iterable[str],
    directory: str,
    connect: Callable[[], CloudFormationGateway],
) -> list[Dumped]:
    """Render ``names`` and write their templates under ``directory``.

    Rendering needs no AWS unless some template holds a value from AWS (values that only
    reach parameters do not count); only then is ``connect()`` called, for reads only.
    """
    wanted = list(names)
    offline = project.resolve_context(aws=None)
    rendered = [project.render(name, offline) for name in wanted]
    if any(_incomplete(d) for d in rendered):
        rendered = _render_with_aws(project, wanted, connect())
    folder = Path(directory).expanduser()
    out: list[Dumped] = []
    for desired in rendered:
        path = dump_path(folder, desired)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(desired.template_body, encoding="utf-8")
        out.append(Dumped(desired.name, path, _incomplete(desired)))
    return out


def _incomplete(desired: DesiredStack) -> bool:
    """True when the template itself holds a value known only after apply (parameters do
    not matter: the dump is of templates)."""
    return "(known after apply:" in desired.template_body


def _render_with_aws(
    project: Project, names: list[str], gateway: CloudFormationGateway
) -> list[DesiredStack]:
    """Render with lookups reading AWS; config stacks not deployed yet give Unknowns."""
    from stackyard.engine.access import EngineAWSAccess

    access = EngineAWSAccess.for_project(gateway, project)
    missing = {
        name
        for name in project.graph.stacks
        if gateway.cached(project.fqn(name), project.location(name)) is None
    }
    context = project.resolve_context(aws=access, pending=missing)
    return [project.render(name, context) for name in names]
