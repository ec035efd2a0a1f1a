"""Canary weights on a listener rule: parsing, the actions set, reading them back, and a
stepped rollout that stops on a weight it cannot read back or a failing health reading.
AWS here is a fake; tests/integration/apps runs the same on the local AWS."""

from __future__ import annotations

from typing import Any

import pytest

from stackyard.apps.canary import (
    WeightedRule,
    WeightError,
    Weights,
    forward_actions,
    parse_duration,
    parse_steps,
    parse_weight,
    read_share,
    weight_from_scale,
)
from stackyard.apps.health import Health
from stackyard.apps.rollout import CanaryPolicy, StepProgress, run_steps
from stackyard.errors import UsageError

RULE = WeightedRule("web", "arn:rule/web", "arn:tg/parent", "arn:tg/canary")


class FakeClock:
    """Time that moves only when slept."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeELB:
    """A listener rule that takes its new actions after ``lag`` reads, or never."""

    def __init__(self, lag: int = 0, never: bool = False) -> None:
        self.actions: list[dict[str, Any]] = [
            {"Type": "forward", "TargetGroupArn": "arn:tg/parent"}
        ]
        self.pending: list[dict[str, Any]] | None = None
        self.lag, self.never, self.reads, self.writes = lag, never, 0, 0

    def modify_rule(self, RuleArn: str, Actions: list[dict[str, Any]]) -> None:
        self.writes += 1
        self.pending, self.wait = Actions, self.lag

    def describe_rules(self, RuleArns: list[str]) -> dict[str, Any]:
        self.reads += 1
        if self.pending is not None and not self.never:
            if self.wait <= 0:
                self.actions, self.pending = self.pending, None
            self.wait -= 1
        return {"Rules": [{"RuleArn": arn, "Actions": self.actions} for arn in RuleArns]}


@pytest.mark.parametrize(("text", "weight"), [("5%", 5), ("25", 25), (" 0 ", 0), (100, 100)])
def test_weights_are_whole_percentages(text: Any, weight: int) -> None:
    assert parse_weight(text) == weight


@pytest.mark.parametrize("text", ["101%", "-1", "5.5%", "five", ""])
def test_bad_weights(text: str) -> None:
    with pytest.raises(UsageError):
        parse_weight(text)


def test_steps_rise_and_durations_take_units() -> None:
    assert parse_steps("5,25,50") == (5, 25, 50)
    for bad in ("50,25", "0,5", "5,5", ""):
        with pytest.raises(UsageError):
            parse_steps(bad)
    assert [parse_duration(t) for t in ("5m", "30s", "500ms", "90", "1h")] == [
        300.0,
        30.0,
        0.5,
        90.0,
        3600.0,
    ]
    with pytest.raises(UsageError):
        parse_duration("soon")


def test_the_actions_weigh_parent_and_canary_to_a_hundred() -> None:
    groups = forward_actions(RULE, 5)[0]["ForwardConfig"]["TargetGroups"]
    assert groups == [
        {"TargetGroupArn": "arn:tg/parent", "Weight": 95},
        {"TargetGroupArn": "arn:tg/canary", "Weight": 5},
    ]


@pytest.mark.parametrize(
    ("actions", "share"),
    [
        (forward_actions(RULE, 25), 25.0),
        (forward_actions(RULE, 0), 0.0),
        ([{"Type": "forward", "TargetGroupArn": "arn:tg/parent"}], 0.0),
        ([{"Type": "forward", "TargetGroupArn": "arn:tg/other"}], None),
        ([{"Type": "fixed-response"}], None),
        (
            [
                {
                    "Type": "forward",
                    "ForwardConfig": {
                        "TargetGroups": [
                            {"TargetGroupArn": "arn:tg/parent", "Weight": 0},
                            {"TargetGroupArn": "arn:tg/canary", "Weight": 0},
                        ]
                    },
                }
            ],
            None,
        ),
    ],
)
def test_the_share_read_back(actions: list[dict[str, Any]], share: float | None) -> None:
    assert read_share(RULE, {"Actions": actions}) == share


def test_a_weight_is_confirmed_once_it_reads_back() -> None:
    clock, elb = FakeClock(), FakeELB(lag=2)
    weights = Weights(elb, [RULE], clock, clock.sleep)
    confirmation = weights.apply(5, timeout=10, poll=0.5)
    assert confirmation.confirmed and confirmation.reads == 3 and confirmation.seconds == 1.0


def test_a_weight_that_never_reads_back_is_an_error_naming_what_was_seen() -> None:
    clock, elb = FakeClock(), FakeELB(never=True)
    weights = Weights(elb, [RULE], clock, clock.sleep)
    with pytest.raises(WeightError) as caught:
        weights.apply(5, timeout=2, poll=0.5)
    assert "does not read back the canary weight 5% after 2.0s: web 0% (not 5%)" in str(
        caught.value
    )
    assert elb.reads == 5


def test_empires_share_from_task_counts() -> None:
    assert weight_from_scale(1, 9) == 10 and weight_from_scale(0, 0) == 0


class FakeWatch:
    """Health readings in turn; the last one repeats."""

    def __init__(self, readings: list[Health]) -> None:
        self.readings, self.count = readings, 0

    def read(self) -> Health:
        self.count += 1
        return self.readings[min(self.count - 1, len(self.readings) - 1)]


OK = Health(2, 2, {"api-web-5xx": "OK"}, reads=3)


def _run(
    watch: FakeWatch, elb: FakeELB, policy: CanaryPolicy
) -> tuple[Any, list[StepProgress], FakeClock]:
    clock = FakeClock()
    seen: list[StepProgress] = []
    weights = Weights(elb, [RULE], clock, clock.sleep)
    outcome = run_steps(policy, weights, watch, seen.append, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    return outcome, seen, clock


def test_each_step_is_confirmed_then_baked() -> None:
    policy = CanaryPolicy((5, 25, 50), bake=10, poll=2.5)
    outcome, seen, clock = _run(FakeWatch([OK]), FakeELB(), policy)
    assert outcome.ok and outcome.weight == 50 and outcome.first_confirmed == 0.0
    phases = [(p.step, p.weight, p.phase) for p in seen]
    assert phases == [
        (s, w, phase)
        for s, w in ((1, 5), (2, 25), (3, 50))
        for phase in ("confirmed", "baking", "baked")
    ]
    # 5 readings of 3 calls a bake (0, 2.5, 5, 7.5, 10 s) and one DescribeRules a weight
    assert outcome.reads_per_step == [16, 16, 16] and clock.now == 30.0


def test_a_failing_reading_ends_the_step_within_one_poll() -> None:
    bad = Health(1, 2, {"api-web-5xx": "ALARM"}, problem="alarm api-web-5xx is in ALARM")
    watch = FakeWatch([OK, OK, OK, OK, OK, OK, bad])
    outcome, seen, clock = _run(watch, FakeELB(), CanaryPolicy((5, 25), bake=10, poll=2.5))
    assert not outcome.ok and outcome.step == 2 and outcome.weight == 25
    assert outcome.reason == "step 2 (25%): alarm api-web-5xx is in ALARM"
    assert seen[-1].phase == "failed" and seen[-1].health is bad
    assert clock.now == 12.5  # step 1's 10 s bake, then the second reading of step 2


def test_a_weight_that_does_not_read_back_stops_before_baking() -> None:
    watch = FakeWatch([OK])
    outcome, seen, _ = _run(watch, FakeELB(never=True), CanaryPolicy((5,), bake=10, poll=1))
    assert not outcome.ok and outcome.weight == 0 and watch.count == 0
    assert "does not read back the weight" in outcome.reason
    assert [p.phase for p in seen] == ["failed"]


def test_a_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        CanaryPolicy((5,), bake=-1)
    with pytest.raises(ValueError):
        CanaryPolicy((5,), poll=0)
