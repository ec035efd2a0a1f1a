"""What the server sends out: Slack messages (a command's ``response_url``, the notify
webhook) and GitHub deployments and their statuses. Sent from worker threads; a failure to
deliver is logged and never fails a deploy."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger("stackyard.server")
TIMEOUT = 10.0
# Slack accepts five messages on one response_url (within 30 minutes): keep one for the end.
RESPONSE_URL_BUDGET = 5


def post_json(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    """POST ``body`` as JSON; the parsed answer (None when it is not JSON); raises on HTTP
    errors."""
    with httpx.Client(timeout=TIMEOUT) as client:
        answer = client.post(url, json=body, headers=headers or {})
        answer.raise_for_status()
        try:
            return answer.json()
        except ValueError:
            return None


def notify(url: str, text: str) -> None:
    """Post ``text`` to a Slack incoming webhook (nothing when no URL is set)."""
    if not url:
        return
    try:
        post_json(url, {"text": text})
    except httpx.HTTPError as exc:
        log.warning("could not notify Slack: %s", exc)


@dataclass
class SlackResponder:
    """Messages to one slash command's ``response_url``, within Slack's budget: progress
    until one message is left, which the final result always gets."""

    url: str
    sent: int = 0
    last: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _send(self, text: str, final: bool) -> bool:
        with self._lock:
            if not self.url or text == self.last:
                return False
            if not final and self.sent >= RESPONSE_URL_BUDGET - 1:
                return False
            if self.sent >= RESPONSE_URL_BUDGET:
                return False
            self.sent += 1
            self.last = text
        try:
            post_json(self.url, {"response_type": "in_channel", "text": text})
        except httpx.HTTPError as exc:
            log.warning("could not post to the response_url: %s", exc)
        return True

    def progress(self, text: str) -> bool:
        """Post a progress line, if the budget allows; whether it went."""
        return self._send(text, final=False)

    def final(self, text: str) -> bool:
        """Post the result."""
        return self._send(text, final=True)


@dataclass
class GitHub:
    """The few GitHub REST calls the server makes, with its token."""

    api_url: str
    token: str

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "stackyard-server",
        }

    def commit_sha(self, repository: str, ref: str) -> str | None:
        """The commit ``ref`` names in ``repository``, or None."""
        with httpx.Client(timeout=TIMEOUT) as client:
            answer = client.get(
                f"{self.api_url}/repos/{repository}/commits/{ref}", headers=self._headers()
            )
        if answer.status_code != 200:
            return None
        sha = answer.json().get("sha")
        return str(sha) if sha else None

    def create_deployment(
        self, repository: str, sha: str, environment: str, description: str
    ) -> int:
        """A GitHub deployment of ``sha`` to ``environment``; its id."""
        answer = post_json(
            f"{self.api_url}/repos/{repository}/deployments",
            {
                "ref": sha,
                "environment": environment,
                "description": description[:140],
                "auto_merge": False,
                "required_contexts": [],
                "production_environment": environment.split("/")[0] == "prod",
                "transient_environment": "/" in environment,
            },
            self._headers(),
        )
        return int(answer["id"])

    def status(
        self, repository: str, deployment: int, state: str, description: str, environment: str
    ) -> None:
        """Report ``state`` (in_progress, success, failure, error) of a deployment."""
        post_json(
            f"{self.api_url}/repos/{repository}/deployments/{deployment}/statuses",
            {
                "state": state,
                "description": description[:140],
                "environment": environment,
                "auto_inactive": state == "success",
            },
            self._headers(),
        )
