"""The ``AWSAccess`` the engine gives lookups: outputs from the shared listing, the rest boto3.

``output``/``xref``/``rxref`` lookups read the gateway's shared listing, which
the batched poll refreshes when the upstream stack completes, so they cost no
CloudFormation call of their own. SSM, KMS, AMI and DynamoDB reads go to
``BotoAWSAccess`` with clients from the same ``ClientFactory``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from stackyard.aws.cloudformation import CloudFormationGateway
from stackyard.aws.session import ClientFactory, Location
from stackyard.errors import LookupError_

if TYPE_CHECKING:
    from stackyard.project import Project

__all__ = ["EngineAWSAccess"]


class _SessionShim:
    """Looks enough like a boto3 ``Session`` for ``BotoAWSAccess``: clients from our factory."""

    def __init__(self, clients: ClientFactory, location: Location) -> None:
        self._clients = clients
        self._location = location

    def client(self, service: str, **_: Any) -> Any:
        return self._clients.client(service, self._location)


class EngineAWSAccess:
    """Lookups' AWS reads during a run."""

    def __init__(
        self,
        gateway: CloudFormationGateway,
        *,
        default: Location,
        locations: Mapping[str, Location] | None = None,
    ) -> None:
        from stackyard.lookups.boto_access import BotoAWSAccess

        self.gateway = gateway
        self.default = default
        self.locations = dict(locations or {})  # stack name on AWS -> where it lives
        clients = gateway.clients

        def session_for(region: str | None) -> Any:
            return _SessionShim(clients, Location(region or default.region, default.profile))

        self._boto = BotoAWSAccess(cast(Any, session_for))

    @classmethod
    def for_project(
        cls,
        gateway: CloudFormationGateway,
        project: Project,
        names: Iterable[str] | None = None,
    ) -> EngineAWSAccess:
        """Reads for ``project``'s stacks (``names``; all of them when None), each at the
        location the project gives it."""
        chosen = project.graph.stacks if names is None else names
        return cls(
            gateway,
            default=Location(project.region, project.profile),
            locations={project.fqn(n): project.location(n) for n in chosen},
        )

    def _location(self, fqn: str, region: str | None) -> Location:
        known = self.locations.get(fqn)
        if known is not None and (region is None or known.region in (None, region)):
            return known
        return Location(region or self.default.region, self.default.profile)

    def stack_outputs(self, fqn: str, region: str | None = None) -> dict[str, str]:
        """Outputs of ``fqn`` from the shared listing."""
        stack = self.gateway.cached(fqn, self._location(fqn, region))
        if stack is None:
            raise LookupError_(
                f"stack {fqn} does not exist", hint="build it first (or check the name)"
            )
        return dict(stack.outputs)

    def ssm_parameter(self, name: str, region: str | None = None) -> tuple[str, str]:
        """An SSM parameter's value and type."""
        return self._boto.ssm_parameter(name, region)

    def kms_decrypt(self, ciphertext_b64: str, region: str | None = None) -> str:
        """A KMS plaintext."""
        return self._boto.kms_decrypt(ciphertext_b64, region)

    def ami_search(
        self,
        owners: Sequence[str],
        filters: Mapping[str, Sequence[str]],
        name_regex: str,
        region: str | None = None,
        executable_users: Sequence[str] = (),
    ) -> str:
        """The newest matching AMI id."""
        return self._boto.ami_search(owners, filters, name_regex, region, executable_users)

    def dynamodb_item(
        self, table: str, key: Mapping[str, Mapping[str, str]], region: str | None = None
    ) -> dict[str, Any] | None:
        """A DynamoDB item."""
        return self._boto.dynamodb_item(table, key, region)
