"""Orphans: stacks stackyard made for this namespace that the config no longer names.

A stack is stackyard's when it carries the ``stackyard:namespace`` tag (added on create);
it belongs to this project when that tag is the project's namespace. It is an orphan when
no stack of the config (enabled or not) has its CloudFormation name. Its name is the
``stackyard:stack`` tag it was created with, else its CloudFormation name.

Only the locations the config uses (its stacks' regions and profiles, and the default) are
read: one shared listing each, the same one the planner reads. Stacks of another namespace,
and stacks without the tag, are never orphans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stackyard.aws.cloudformation import CloudFormationGateway, DeployedStack
from stackyard.aws.session import Location
from stackyard.submission import OWNER_TAG, STACK_TAG

if TYPE_CHECKING:
    from stackyard.project import Project

__all__ = ["Orphan", "find_orphans"]


@dataclass(frozen=True)
class Orphan:
    """A deployed stack of this namespace that the config no longer names."""

    name: str  # the name it had in the config
    location: Location
    stack: DeployedStack

    @property
    def fqn(self) -> str:
        """Its CloudFormation name."""
        return self.stack.name


def project_locations(project: Project) -> list[Location]:
    """Every location the config's stacks live in, and the project's default, sorted."""
    locations = {Location(project.region, project.profile)}
    locations |= {project.location(s.name) for s in project.loaded.config.stacks}
    return sorted(locations, key=lambda x: x.sort_key)


def find_orphans(project: Project, gateway: CloudFormationGateway) -> list[Orphan]:
    """The orphans of ``project``, by name (from the gateway's shared listings)."""
    namespace = project.context.namespace or "-"
    configured = {project.fqn(s.name) for s in project.loaded.config.stacks}
    names = {s.name for s in project.loaded.config.stacks}
    found: dict[str, Orphan] = {}
    for location in project_locations(project):
        for fqn, stack in sorted(gateway.list_stacks(location).items()):
            if stack.tags.get(OWNER_TAG) != namespace or fqn in configured:
                continue
            if stack.status == "DELETE_COMPLETE":
                continue
            name = stack.tags.get(STACK_TAG) or fqn
            if name in names or name in found:
                # Its config name is taken (reused, or the same stack name in another
                # location): call it by its CloudFormation name and location instead.
                name = f"{fqn}@{location}"
            found[name] = Orphan(name, location, stack)
    return [found[n] for n in sorted(found)]
