"""A canary's stepped rollout: at each step set the weight, read it back, then bake.

    policy = CanaryPolicy(steps=(5, 25, 50), bake=300, poll=10)
    outcome = run_steps(policy, weights, watch, on_progress)

A step sets the canary's weight on the parent's listener rules and reads it back
(:mod:`stackyard.apps.canary`); a weight that does not read back as set ends the rollout
there. Then the step bakes: the canary's health (:mod:`stackyard.apps.health`) is read at
once and every ``poll`` seconds until ``bake`` seconds have passed, and the first failing
reading ends the rollout, so a failure is caught within ``poll`` seconds of showing (never
later than the bake period). Nothing here rolls back: the caller does, with the reason.
The clock and sleep are parameters, so tests control time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from stackyard.apps.canary import Weights
from stackyard.apps.health import Health, HealthWatch

__all__ = ["CanaryPolicy", "RolloutOutcome", "StepProgress", "run_steps"]


@dataclass(frozen=True)
class CanaryPolicy:
    """How a canary rollout goes: the weights in turn, how long each bakes, how often health
    is read while it does, and how long a weight may take to read back."""

    steps: tuple[int, ...]
    bake: float = 300.0
    poll: float = 10.0
    confirm_timeout: float = 30.0
    confirm_poll: float = 0.5

    def __post_init__(self) -> None:
        if self.bake < 0 or self.poll <= 0:
            raise ValueError("bake must be at least 0 and poll above 0")


@dataclass(frozen=True)
class StepProgress:
    """Where a rollout is: ``phase`` is ``confirmed`` (the weight reads back), ``baking``
    (a health reading that differs from the one before), ``baked`` or ``failed``."""

    step: int
    steps: int
    weight: int
    phase: str
    health: Health | None = None
    elapsed: float = 0.0
    bake: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class RolloutOutcome:
    """How a rollout ended: the last step reached and the weight confirmed last, the reason
    of a failure, the read calls of each step (DescribeRules to confirm, then the health
    readings), and when the first step's weight was confirmed (seconds from the start)."""

    ok: bool
    step: int
    weight: int
    reason: str = ""
    reads_per_step: list[int] = field(default_factory=list)
    first_confirmed: float | None = None


def run_steps(
    policy: CanaryPolicy,
    weights: Weights,
    watch: HealthWatch,
    on_progress: Callable[[StepProgress], None] | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RolloutOutcome:
    """Run the steps of ``policy``; see the module's docstring."""
    from stackyard.apps.canary import WeightError

    started = clock()
    emit = on_progress or (lambda _: None)
    total = len(policy.steps)
    confirmed_weight = 0
    first: float | None = None
    reads: list[int] = []
    for number, weight in enumerate(policy.steps, start=1):
        try:
            weights.set(weight)
        except WeightError as exc:
            return RolloutOutcome(False, number, confirmed_weight, exc.message, reads, first)
        confirmation = weights.confirm(weight, policy.confirm_timeout, policy.confirm_poll)
        step_reads = confirmation.reads
        if not confirmation.confirmed:
            reason = (
                f"step {number} ({weight}%): the listener does not read back the weight after "
                f"{confirmation.seconds:.1f}s: {confirmation.describe()}"
            )
            emit(StepProgress(number, total, weight, "failed", reason=reason))
            return RolloutOutcome(
                False, number, confirmed_weight, reason, [*reads, step_reads], first
            )
        confirmed_weight = weight
        if first is None:
            first = clock() - started
        emit(StepProgress(number, total, weight, "confirmed", bake=policy.bake))
        health, step_reads = _bake(
            policy, watch, number, total, weight, emit, clock, sleep, step_reads
        )
        reads.append(step_reads)
        if not health.ok:
            reason = f"step {number} ({weight}%): {health.problem}"
            emit(StepProgress(number, total, weight, "failed", health, reason=reason))
            return RolloutOutcome(False, number, weight, reason, reads, first)
        emit(StepProgress(number, total, weight, "baked", health, policy.bake, policy.bake))
    return RolloutOutcome(True, total, confirmed_weight, "", reads, first)


def _bake(
    policy: CanaryPolicy,
    watch: HealthWatch,
    number: int,
    total: int,
    weight: int,
    emit: Callable[[StepProgress], None],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    reads: int,
) -> tuple[Health, int]:
    """Read health now and every ``poll`` seconds until the bake ends or a reading fails."""
    began = clock()
    deadline = began + policy.bake
    shown: tuple[object, ...] | None = None
    while True:
        health = watch.read()
        reads += health.reads
        if not health.ok:
            return health, reads  # the caller reports it as the step's failure
        if health.key() != shown:
            shown = health.key()
            emit(
                StepProgress(number, total, weight, "baking", health, clock() - began, policy.bake)
            )
        now = clock()
        if now >= deadline:
            return health, reads
        sleep(min(policy.poll, deadline - now))
