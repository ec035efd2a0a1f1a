"""The key that signs and verifies approvals: from the environment, or from SSM.

``STACKYARD_APPROVAL_KEY`` holds the key itself (a CI secret); otherwise
``STACKYARD_APPROVAL_KEY_SSM`` names a SecureString parameter read with decryption, so
the key can stay in the account and be granted by IAM. Never logged or shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from stackyard.errors import StackyardError

if TYPE_CHECKING:
    from stackyard.aws.session import ClientFactory

__all__ = ["KEY_ENV", "KEY_SSM_ENV", "approval_key"]

KEY_ENV = "STACKYARD_APPROVAL_KEY"
KEY_SSM_ENV = "STACKYARD_APPROVAL_KEY_SSM"
_MIN_LENGTH = 16


def approval_key(environ: Mapping[str, str], clients: ClientFactory | None = None) -> bytes:
    """The approval key: ``$STACKYARD_APPROVAL_KEY``, else the SSM parameter named by
    ``$STACKYARD_APPROVAL_KEY_SSM`` (read through ``clients``)."""
    key = environ.get(KEY_ENV, "")
    name = environ.get(KEY_SSM_ENV, "")
    if not key and name:
        if clients is None:
            raise StackyardError(f"{KEY_SSM_ENV} is set but AWS cannot be reached here")
        from stackyard.aws.errors import map_client_error

        try:
            answer = clients.client("ssm").get_parameter(Name=name, WithDecryption=True)
        except Exception as exc:
            raise map_client_error(exc, "GetParameter") from exc
        key = str(answer["Parameter"]["Value"])
    if not key:
        raise StackyardError(
            "no approval key: approvals are signed with a key only reviewers and the "
            "applying job hold",
            hint=f"set {KEY_ENV}, or {KEY_SSM_ENV} to the name of a SecureString parameter",
            exit_code=2,
        )
    if len(key) < _MIN_LENGTH:
        raise StackyardError(
            f"the approval key is too short (at least {_MIN_LENGTH} characters)", exit_code=2
        )
    return key.encode()
