"""Listener rules pinned on purpose: ModifyRule answers as AWS does, but the rule keeps its
actions, as when another controller (an ingress controller, a second deploy tool) writes the
rule back at once, or a read lags the write. A canary rollout must notice that the weights it
set do not read back, and stop; this is how tests make that happen.

``POST /_stackyard/elbv2/pinned-rules`` with ``{"rule_arn": "arn:...", "pinned": true}`` pins
a rule (``"pinned": false`` releases it; ``DELETE`` releases all; ``GET`` lists them). Pins
belong to the running endpoint and are not saved with ``--state``.
"""

from __future__ import annotations

from stackyard.local.marks import MarkedNames

__all__ = ["PINS_PATH", "RulePins", "rule_pins"]

PINS_PATH = "/_stackyard/elbv2/pinned-rules"


class RulePins(MarkedNames):
    """The listener rules whose actions ModifyRule leaves as they are."""

    def __init__(self) -> None:
        super().__init__(
            key="rule_arn", flag="pinned", marks=True, listed_as="pinned", example="arn:..."
        )

    def is_pinned(self, rule_arn: str) -> bool:
        """Whether ModifyRule leaves ``rule_arn``'s actions alone."""
        return rule_arn in self

    def pin(self, rule_arn: str, pinned: bool = True) -> None:
        """Pin ``rule_arn`` (``pinned=False``: release it)."""
        self.set(rule_arn, pinned)

    def pinned(self) -> list[str]:
        """The pinned rules, sorted."""
        return self.names()


rule_pins = RulePins()
