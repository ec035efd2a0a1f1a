"""Signed approvals of a saved plan: what a reviewer approved on the pull request.

``stackyard approve PLANFILE --by NAME`` writes ``PLANFILE.approvals.json`` beside the
plan: per approval the plan's digest (SHA-256 of its canonical JSON), the approved item
ids, who and when, and an HMAC-SHA256 over all of these with a key only reviewers and the
applying job hold. ``apply PLANFILE`` accepts an approval only when its signature verifies
and its digest is the digest of the plan being applied; a plan edited after approval, an
approval edited after signing, or an approval of another plan is refused, never ignored.

A plan is anything :class:`Reviewable`: a stack plan (``plan -o``) or an app deploy's plan
(``apps plan -o``), whose digest then covers the release too. This module is pure (no AWS,
no files): :mod:`stackyard.aws.approval_key` finds the key, the CLI reads and writes the
file. The threat model is in ``docs/approvals.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from stackyard.errors import StackyardError
from stackyard.plan.model import StackPlan

__all__ = [
    "FORMAT",
    "VERSION",
    "Approval",
    "ApprovalRefused",
    "Reviewable",
    "approvable_items",
    "approvals_path",
    "dump_approvals",
    "load_approvals",
    "plan_digest",
    "sign",
    "verified_items",
]

FORMAT = "stackyard-approvals"
VERSION = 1
_SUFFIX = ".approvals.json"


class Reviewable(Protocol):
    """What can be approved: a saved stack plan, or an app deploy's saved plan (its release
    and stack plan), each with the stacks that need approval and a canonical JSON form."""

    @property
    def needing_approval(self) -> tuple[StackPlan, ...]:
        """The stacks whose changes need approval."""
        ...

    def to_json(self, *, indent: int | None = 2) -> str:
        """The whole document as JSON with sorted keys."""
        ...


class ApprovalRefused(StackyardError):
    """An approval that is stale (another plan) or forged (its signature does not verify)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, exit_code=2)


@dataclass(frozen=True)
class Approval:
    """One reviewer's signed approval of some items of one plan."""

    plan_digest: str
    items: tuple[str, ...]
    by: str
    at: str
    signature: str

    def message(self) -> bytes:
        """What the signature covers: everything but the signature, canonically."""
        return _message(self.plan_digest, self.items, self.by, self.at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "plan_digest": self.plan_digest,
            "items": list(self.items),
            "by": self.by,
            "at": self.at,
            "signature": self.signature,
        }


def _message(digest: str, items: Sequence[str], by: str, at: str) -> bytes:
    body = {"format": FORMAT, "plan_digest": digest, "items": sorted(items), "by": by, "at": at}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def plan_digest(plan: Reviewable) -> str:
    """SHA-256 of the plan's canonical JSON: any edit to the plan changes it."""
    return hashlib.sha256(plan.to_json(indent=None).encode()).hexdigest()


def approvable_items(plan: Reviewable) -> tuple[str, ...]:
    """The ids of every item of ``plan`` that needs approval, in plan order."""
    return tuple(i.id for s in plan.needing_approval for i in s.protection.items)


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(plan: Reviewable, items: Iterable[str], *, by: str, key: bytes, now: datetime) -> Approval:
    """An approval by ``by`` of ``items`` (ids of ``plan``'s approval items), signed."""
    wanted = tuple(sorted(set(items)))
    known = set(approvable_items(plan))
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise StackyardError(
            f"not an approval item of this plan: {', '.join(unknown)}",
            hint="the ids are in the plan's report (stackyard report PLANFILE) and its JSON",
            exit_code=2,
        )
    if not by.strip():
        raise StackyardError("--by needs the approver's name", exit_code=2)
    digest = plan_digest(plan)
    at = now.isoformat()
    return Approval(digest, wanted, by, at, _mac(key, _message(digest, wanted, by, at)))


def verified_items(
    plan: Reviewable, approvals: Sequence[Approval], *, key: bytes
) -> frozenset[str]:
    """The item ids that ``approvals`` approve for ``plan``; ``ApprovalRefused`` for any
    approval whose signature does not verify or that was made for another plan."""
    digest = plan_digest(plan)
    approved: set[str] = set()
    for approval in approvals:
        expected = _mac(key, approval.message())
        if not hmac.compare_digest(expected, approval.signature):
            raise ApprovalRefused(
                f"refusing the approval by {approval.by!r}: its signature does not verify "
                "(the approval was altered, or signed with another key)",
                hint="ask the reviewer to approve again: stackyard approve PLANFILE --by NAME",
            )
        if approval.plan_digest != digest:
            raise ApprovalRefused(
                f"refusing the approval by {approval.by!r}: it approves another plan "
                f"(digest {approval.plan_digest[:12]}, this plan {digest[:12]}); the plan file "
                "changed after it was approved, or the approval is stale",
                hint="review the plan again and approve it: stackyard approve PLANFILE --by NAME",
            )
        approved.update(approval.items)
    return frozenset(approved)


def approvals_path(planfile: str | Path) -> Path:
    """Where the approvals of ``planfile`` are kept: beside it."""
    path = Path(planfile)
    return path.with_name(path.name + _SUFFIX)


def dump_approvals(approvals: Sequence[Approval]) -> str:
    """The approvals file's text."""
    data = {"format": FORMAT, "version": VERSION, "approvals": [a.to_dict() for a in approvals]}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def load_approvals(text: str) -> list[Approval]:
    """Read an approvals file; a malformed one is refused."""
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError("not a stackyard approvals file of this version")
        return [
            Approval(
                plan_digest=str(a["plan_digest"]),
                items=tuple(str(i) for i in a["items"]),
                by=str(a["by"]),
                at=str(a["at"]),
                signature=str(a["signature"]),
            )
            for a in data["approvals"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ApprovalRefused(f"malformed approvals file: {exc}") from exc
