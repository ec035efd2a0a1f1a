"""What a lookup may read while it resolves: the run, the config's folder, and AWS.

``AWSAccess`` is the narrow seam to AWS that the AWS-backed lookups use. The
engine passes an implementation (``BotoAWSAccess``, or a fake in tests); when
``aws`` is ``None`` -- ``render`` and ``validate`` -- those lookups resolve to
``Unknown`` values instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stackyard.context import Context


class AWSAccess(Protocol):
    """The AWS reads that lookups need. Errors are raised as ``StackyardError`` subclasses."""

    def stack_outputs(self, fqn: str, region: str | None = None) -> dict[str, str]:
        """The outputs of the deployed stack ``fqn``; ``LookupError_`` if it does not exist."""
        ...

    def ssm_parameter(self, name: str, region: str | None = None) -> tuple[str, str]:
        """An SSM parameter's decrypted value and its type (``String``, ``SecureString``...)."""
        ...

    def kms_decrypt(self, ciphertext_b64: str, region: str | None = None) -> str:
        """The UTF-8 plaintext of a base64-encoded KMS ciphertext blob."""
        ...

    def ami_search(
        self,
        owners: Sequence[str],
        filters: Mapping[str, Sequence[str]],
        name_regex: str,
        region: str | None = None,
        executable_users: Sequence[str] = (),
    ) -> str:
        """The id of the newest image whose whole name matches ``name_regex``."""
        ...

    def dynamodb_item(
        self, table: str, key: Mapping[str, Mapping[str, str]], region: str | None = None
    ) -> dict[str, Any] | None:
        """The item with ``key`` (typed, e.g. ``{"Id": {"S": "x"}}``) as DynamoDB returns it."""
        ...


@dataclass(frozen=True)
class ResolveContext:
    """Everything a lookup may read while it resolves one value.

    ``stack_fqns`` maps config stack names to their stack names on AWS (a
    stack's ``stack_name`` may differ from its config name); names missing from
    it get the namespace applied. ``stack_regions`` gives the region of stacks
    that are not in the run's region. ``pending_stacks`` lists config stacks
    whose outputs are not known yet because they are created in this run: ``output``
    lookups of them resolve to ``Unknown``. ``changing_outputs`` names, for stacks
    updated in this run, the outputs whose values may change; their other outputs keep
    the deployed values.
    """

    context: Context
    config_dir: Path = field(default_factory=Path.cwd)
    aws: AWSAccess | None = None
    region: str | None = None
    stack_fqns: Mapping[str, str] = field(default_factory=dict)
    stack_regions: Mapping[str, str] = field(default_factory=dict)
    pending_stacks: frozenset[str] = frozenset()
    changing_outputs: Mapping[str, frozenset[str]] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def output_pending(self, stack: str, output: str) -> bool:
        """True when ``stack``'s output ``output`` is known only after this run applies it."""
        return stack in self.pending_stacks or output in self.changing_outputs.get(stack, ())

    def stack_fqn(self, name: str) -> str:
        """The stack name on AWS of the config stack ``name``."""
        return self.stack_fqns.get(name) or self.context.get_fqn(name)
