"""Writes that survive a lost answer: idempotency tokens, and reconciliation from what is there.

Every CloudFormation write stackyard makes carries a token derived from the run and the
stack (:func:`run_token`), and change sets get names derived the same way. botocore
retries a write whose answer was lost with the same token, and CloudFormation answers it
as it answered the first attempt. When an answer is still lost, or CloudFormation says the
write conflicts (the stack already exists, the change set was already executed), the stack
is read once and the write is decided from what is there: our own stack or change set is
followed as ours; anything else is reported as someone else's.
"""

from __future__ import annotations

import hashlib

from stackyard.aws.cloudformation import CloudFormationGateway, StackSubmission
from stackyard.aws.errors import AWSCallError
from stackyard.aws.session import Location

__all__ = [
    "AMBIGUOUS",
    "change_set_name",
    "create_stack",
    "delete_change_set",
    "delete_stack",
    "execute_change_set",
    "run_token",
    "stack_started_by",
    "update_stack",
]

# Failures after which a write may or may not have happened.
AMBIGUOUS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
    }
)
_EXECUTED = frozenset({"EXECUTE_IN_PROGRESS", "EXECUTE_COMPLETE", "EXECUTE_FAILED"})


def _digest(fqn: str) -> str:
    return hashlib.sha256(fqn.encode()).hexdigest()[:16]


def run_token(run_id: str, operation: str, fqn: str) -> str:
    """The ClientRequestToken of one write: the run, the operation and the stack."""
    return f"stackyard-{run_id}-{operation}-{_digest(fqn)}"


def change_set_name(run_id: str, fqn: str) -> str:
    """The name of the change set a run makes for a stack (derived like tokens)."""
    return f"stackyard-{run_id}-{_digest(fqn)}"


def stack_started_by(
    gateway: CloudFormationGateway, fqn: str, location: Location, token: str
) -> str | None:
    """The stack's id when its latest operation carries ``token`` (ours), else None."""
    stack = gateway.describe_stack(fqn, location)
    if stack is None:
        return None
    events = gateway.stack_events(stack.stack_id, location)
    return stack.stack_id if any(e.token == token for e in events) else None


def create_stack(gateway: CloudFormationGateway, submission: StackSubmission, token: str) -> str:
    """CreateStack; a create whose answer was lost, or that meets "already exists", is ours
    when the stack's events carry our token."""
    try:
        return gateway.create_stack(submission, token)
    except AWSCallError as exc:
        if exc.code != "AlreadyExistsException" and exc.code not in AMBIGUOUS:
            raise
        ours = stack_started_by(gateway, submission.fqn, submission.location, token)
        if ours is not None:
            return ours
        if exc.code == "AlreadyExistsException":
            raise AWSCallError(
                f"stack {submission.fqn} already exists, and this run did not create it",
                stack=submission.fqn,
                hint="another tool or run created it meanwhile: rerun to plan it as an update",
                code=exc.code,
                action="CreateStack",
            ) from exc
        raise


def update_stack(gateway: CloudFormationGateway, submission: StackSubmission, token: str) -> bool:
    """UpdateStack; False when CloudFormation has nothing to update. An update whose answer
    was lost, or that meets the stack already updating, is ours when the stack's events carry
    our token."""
    try:
        gateway.update_stack(submission, token)
        return True
    except AWSCallError as exc:
        text = str(exc).lower()
        if exc.code == "ValidationError" and "no updates are to be performed" in text:
            return False
        busy = exc.code == "ValidationError" and "can not be updated" in text
        if not busy and exc.code not in AMBIGUOUS:
            raise
        if stack_started_by(gateway, submission.fqn, submission.location, token) is not None:
            return True
        raise


def execute_change_set(
    gateway: CloudFormationGateway,
    change_set_id: str,
    location: Location,
    fqn: str,
    token: str,
) -> None:
    """ExecuteChangeSet; one that meets "already executed" (or whose answer was lost) is
    ours when the change set says it was executed or the stack's events carry our token."""
    try:
        gateway.execute_change_set(change_set_id, location, fqn, token)
        return
    except AWSCallError as exc:
        conflict = exc.code in ("InvalidChangeSetStatus", "InvalidChangeSetStatusException")
        if not conflict and exc.code not in AMBIGUOUS:
            raise
        try:
            info = gateway.describe_change_set(change_set_id, location)
        except AWSCallError:
            info = None
        if info is not None and info.execution_status in _EXECUTED:
            return
        if stack_started_by(gateway, fqn, location, token) is not None:
            return
        raise


def delete_stack(
    gateway: CloudFormationGateway,
    fqn: str,
    location: Location,
    role_arn: str | None,
    token: str,
) -> None:
    """DeleteStack; one whose answer was lost is done when the stack is gone or deleting."""
    try:
        gateway.delete_stack(fqn, location, role_arn, token)
    except AWSCallError as exc:
        if exc.code not in AMBIGUOUS:
            raise
        stack = gateway.describe_stack(fqn, location)
        if stack is not None and not stack.status.startswith("DELETE_"):
            raise


def delete_change_set(
    gateway: CloudFormationGateway, change_set_id: str, location: Location, fqn: str
) -> None:
    """DeleteChangeSet; one whose answer was lost is done when the change set is gone, else
    it is sent once more (no change set of ours is left behind)."""
    try:
        gateway.delete_change_set(change_set_id, location, fqn)
    except AWSCallError as exc:
        if exc.code not in AMBIGUOUS:
            raise
        try:
            gateway.describe_change_set(change_set_id, location)
        except AWSCallError as gone:
            if gone.code in ("ChangeSetNotFound", "ChangeSetNotFoundException"):
                return
            raise exc from None
        gateway.delete_change_set(change_set_id, location, fqn)
