"""botocore's exceptions mapped to stackyard's, once, at the AWS boundary.

botocore has two roots (``ClientError`` for answers, ``BotoCoreError`` for
everything else: connections, credentials, parameter validation); both become
``AWSError`` here, carrying the action, the AWS error code and a hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackyard.errors import AWSError

__all__ = ["AWSCallError", "error_code", "map_client_error"]


@dataclass(eq=False)
class AWSCallError(AWSError):
    """An AWS API call failed; ``code`` is AWS's error code (``ValidationError``...)."""

    code: str = ""
    action: str = ""


def error_code(exc: BaseException) -> str:
    """AWS's error code of a botocore ``ClientError``, else ''."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        message = response.get("Error", {}).get("Message")
        if message:
            return str(message)
    return str(exc)


_HINTS = {
    "ExpiredToken": "refresh your AWS credentials",
    "ExpiredTokenException": "refresh your AWS credentials",
    "AccessDenied": "check the IAM permissions of the profile or role",
    "Throttling": "CloudFormation is rate limiting; lower -j or try again",
    "InsufficientCapabilitiesException": "the template needs more capabilities",
}


def map_client_error(exc: BaseException, action: str, stack: str | None = None) -> AWSCallError:
    """An ``AWSCallError`` for a botocore exception raised by ``action``."""
    import botocore.exceptions

    code = error_code(exc)
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return AWSCallError(
            f"{action}: no AWS credentials found",
            stack=stack,
            hint="set AWS_PROFILE, pass --profile, or use --local",
            code="NoCredentials",
            action=action,
        )
    if isinstance(exc, botocore.exceptions.EndpointConnectionError | ConnectionError):
        return AWSCallError(
            f"{action}: cannot reach the endpoint: {exc}",
            stack=stack,
            hint="is the endpoint running? (stackyard local status)",
            code="EndpointConnectionError",
            action=action,
        )
    return AWSCallError(
        f"{action} failed: {code + ': ' if code else ''}{_message(exc)}",
        stack=stack,
        hint=_HINTS.get(code),
        code=code or type(exc).__name__,
        action=action,
    )
