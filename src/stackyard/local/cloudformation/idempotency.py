"""Client request tokens: a retried write with the same token gets the first call's answer.

AWS documents ``ClientRequestToken`` (``ClientToken`` for CreateChangeSet) as the way to retry
a write "so that CloudFormation knows that you're not attempting to create a stack with the
same name" again: the retry of an accepted call is answered as the first call was, instead of
``AlreadyExistsException`` or ``InvalidChangeSetStatus``. Every event of the operation carries
the token. The ledger records, per account and region, which token was used for which action
on which subject (a stack name for CreateStack, a stack id, a change set id), and the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["TOKEN_ACTIONS", "TokenLedger"]

# Actions whose request has a token, and the request member holding it (botocore's model).
TOKEN_ACTIONS: dict[str, str] = {
    "CreateStack": "ClientRequestToken",
    "UpdateStack": "ClientRequestToken",
    "DeleteStack": "ClientRequestToken",
    "ExecuteChangeSet": "ClientRequestToken",
    "CancelUpdateStack": "ClientRequestToken",
    "ContinueUpdateRollback": "ClientRequestToken",
    "CreateChangeSet": "ClientToken",
}

_Key = tuple[str, str, str, str, str]


@dataclass
class TokenLedger:
    """Answers given to token-carrying writes, to repeat on a retry."""

    answers: dict[_Key, dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def token_of(action: str, request: dict[str, Any]) -> str | None:
        """The request's token, if the action takes one and the caller gave one."""
        member = TOKEN_ACTIONS.get(action)
        token = request.get(member) if member else None
        return str(token) if token else None

    def recall(
        self, where: tuple[str, str], action: str, subject: str, token: str | None
    ) -> dict[str, Any] | None:
        """The answer of an earlier call with this token on this subject, or None."""
        if token is None:
            return None
        found = self.answers.get((*where, action, subject, token))
        return dict(found) if found is not None else None

    def remember(
        self,
        where: tuple[str, str],
        action: str,
        subject: str,
        token: str | None,
        answer: dict[str, Any],
    ) -> dict[str, Any]:
        """Record the answer of a call that carried ``token``; return the answer."""
        if token is not None:
            self.answers[(*where, action, subject, token)] = dict(answer)
        return answer
