"""Errors the emulated CloudFormation answers with, as AWS names and words them."""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "ApiError",
    "ChangeSetNotFound",
    "InsufficientCapabilities",
    "InvalidChangeSetStatus",
    "ResourceFailure",
    "ValidationError",
]


class ApiError(Exception):
    """An error answer: AWS's error code, message and HTTP status."""

    code = "InternalFailure"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ApiError):
    """The request is invalid (``ValidationError``)."""

    code = "ValidationError"


class AlreadyExists(ApiError):
    """A stack or change set of that name exists (``AlreadyExistsException``)."""

    code = "AlreadyExistsException"


class InsufficientCapabilities(ApiError):
    """The template needs a capability the caller did not acknowledge."""

    code = "InsufficientCapabilitiesException"


class ChangeSetNotFound(ApiError):
    """No change set of that name or ARN (``ChangeSetNotFound``)."""

    code = "ChangeSetNotFound"
    status = 404


class InvalidChangeSetStatus(ApiError):
    """The change set cannot be executed or deleted in its status."""

    code = "InvalidChangeSetStatus"


class ResourceFailure(Exception):
    """One resource operation failed; the message becomes the event's status reason."""
