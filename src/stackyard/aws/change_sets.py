"""The one change-set flow: create, wait, then execute or read, and always clean up.

The engine executes change sets and the planner's ``--change-sets`` cross-check only
reads them; both go through :func:`change_set`, which deletes the change set again
unless it was executed, whatever happens in between (errors, Ctrl-C).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from stackyard.aws.cloudformation import CloudFormationGateway, StackSubmission

__all__ = ["ChangeSet", "change_set", "sweep_leftovers"]

# CloudFormation's texts for a change set that holds nothing (FAILED with this reason).
_NO_CHANGES = ("didn't contain changes", "no updates are to be performed", "submitted information")


@dataclass
class ChangeSet:
    """A created change set and what DescribeChangeSet said when it settled."""

    gateway: CloudFormationGateway
    submission: StackSubmission
    change_set_id: str
    status: str = ""
    reason: str = ""
    executed: bool = False

    @property
    def ready(self) -> bool:
        """True when it can be executed."""
        return self.status == "CREATE_COMPLETE"

    @property
    def empty(self) -> bool:
        """True when CloudFormation found nothing to change."""
        return self.status == "FAILED" and any(t in self.reason.lower() for t in _NO_CHANGES)

    def changes(self) -> list[dict[str, Any]]:
        """Its ``Changes`` (paginated)."""
        return self.gateway.change_set_changes(self.change_set_id, self.submission.location)

    def execute(self, token: str) -> None:
        """ExecuteChangeSet with ``token``; afterwards it is CloudFormation's to clean up.
        A lost answer or an "already executed" of our own execution counts as done."""
        from stackyard.aws.idempotent import execute_change_set

        execute_change_set(
            self.gateway,
            self.change_set_id,
            self.submission.location,
            self.submission.fqn,
            token,
        )
        self.executed = True


def _create(
    gateway: CloudFormationGateway, submission: StackSubmission, name: str, token: str | None
) -> str:
    from stackyard.aws.errors import AWSCallError
    from stackyard.aws.idempotent import AMBIGUOUS

    try:
        return gateway.create_change_set(submission, name, token)
    except AWSCallError as exc:
        if exc.code not in ("AlreadyExistsException", *AMBIGUOUS):
            raise
        try:
            found = gateway.find_change_set(name, submission.location, submission.fqn)
        except AWSCallError:
            raise exc from None
        return found.change_set_id


@contextlib.contextmanager
def change_set(
    gateway: CloudFormationGateway,
    submission: StackSubmission,
    name: str,
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    stopping: Callable[[], bool] = lambda: False,
    first_delay: float = 0.1,
    max_delay: float = 2.0,
    token: str | None = None,
) -> Iterator[ChangeSet]:
    """Create an UPDATE change set (``token``: its ClientToken), wait until it settles (or
    ``stopping()``, or ``timeout``), and yield it; on the way out it is deleted unless it
    was executed. A create whose answer was lost, or that meets "already exists", takes the
    change set of that name: names are derived from the run, so it is ours."""
    journal = gateway.journal
    noted = journal.begin(name, submission.fqn, submission.location) if journal else None
    try:
        made = ChangeSet(gateway, submission, _create(gateway, submission, name, token))
    except BaseException:
        if journal is not None:
            journal.end(noted)
        raise
    try:
        waited, delay = 0.0, first_delay
        while True:
            info = gateway.describe_change_set(made.change_set_id, submission.location)
            made.status, made.reason = info.status, info.reason
            if info.status in ("CREATE_COMPLETE", "FAILED") or stopping():
                break
            if waited >= timeout:
                made.status = "FAILED"
                made.reason = f"change set still {info.status} after {waited:.0f}s"
                break
            sleep(delay)
            waited += delay
            delay = min(delay * 2, max_delay)
        yield made
    finally:
        if not made.executed:
            from stackyard.aws.idempotent import delete_change_set

            delete_change_set(gateway, made.change_set_id, submission.location, submission.fqn)
        if journal is not None:
            journal.end(noted)


def sweep_leftovers(gateway: CloudFormationGateway) -> int:
    """Delete the change sets that runs killed on this machine left behind (from the
    gateway's journal); how many were deleted. Ones already executed are only forgotten."""
    from stackyard.aws.errors import AWSCallError

    journal = gateway.journal
    if journal is None:
        return 0
    deleted = 0
    for entry in journal.leftovers():
        try:
            info = gateway.find_change_set(entry.name, entry.location, entry.fqn)
            if info.execution_status in ("AVAILABLE", "UNAVAILABLE", ""):
                gateway.delete_change_set(info.change_set_id, entry.location, entry.fqn)
                deleted += 1
        except AWSCallError as exc:
            gone = exc.code in ("ChangeSetNotFound", "ChangeSetNotFoundException")
            if not (gone or "does not exist" in str(exc)):
                continue  # unreachable now: try again next run
        journal.end(entry.path)
    return deleted
