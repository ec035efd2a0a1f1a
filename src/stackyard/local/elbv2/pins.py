"""Listener rules pinned on purpose: ModifyRule answers as AWS does, but the rule keeps its
actions, as when another controller (an ingress controller, a second deploy tool) writes the
rule back at once, or a read lags the write. A canary rollout must notice that the weights it
set do not read back, and stop; this is how tests make that happen.

``POST /_stackyard/elbv2/pinned-rules`` with ``{"rule_arn": "arn:...", "pinned": true}`` pins
a rule (``"pinned": false`` releases it; ``DELETE`` releases all; ``GET`` lists them). Pins
belong to the running endpoint and are not saved with ``--state``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

from stackyard.local.wsgi import StartResponse, json_response, read_body

__all__ = ["PINS_PATH", "RulePins", "rule_pins"]

PINS_PATH = "/_stackyard/elbv2/pinned-rules"


class RulePins:
    """The listener rules whose actions ModifyRule leaves as they are."""

    def __init__(self) -> None:
        self._pinned: set[str] = set()
        self._lock = threading.Lock()

    def is_pinned(self, rule_arn: str) -> bool:
        """Whether ModifyRule leaves ``rule_arn``'s actions alone."""
        with self._lock:
            return rule_arn in self._pinned

    def pin(self, rule_arn: str, pinned: bool = True) -> None:
        """Pin ``rule_arn`` (``pinned=False``: release it)."""
        with self._lock:
            if pinned:
                self._pinned.add(rule_arn)
            else:
                self._pinned.discard(rule_arn)

    def clear(self) -> None:
        """Release every rule."""
        with self._lock:
            self._pinned.clear()

    def pinned(self) -> list[str]:
        """The pinned rules, sorted."""
        with self._lock:
            return sorted(self._pinned)

    def handle(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The ``/_stackyard/elbv2/pinned-rules`` route."""
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "DELETE":
            self.clear()
        elif method == "POST":
            try:
                body = json.loads(read_body(environ) or b"{}")
                arn = str(body["rule_arn"])
                pinned = bool(body.get("pinned", True))
            except (ValueError, KeyError, TypeError):
                return json_response(
                    start_response,
                    400,
                    {"error": 'expected JSON {"rule_arn": "arn:...", "pinned": true}'},
                )
            self.pin(arn, pinned)
        elif method != "GET":
            return json_response(start_response, 405, {"error": f"{method} not allowed"})
        return json_response(start_response, 200, {"pinned": self.pinned()})


rule_pins = RulePins()
