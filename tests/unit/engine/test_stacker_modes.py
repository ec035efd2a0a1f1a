"""stacker's run modes in the engine: ``--tail`` (events as they happen) and ``-i`` (a
question per stack that would change, ``--replacements-only`` narrowing it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from engine_fakes import World

from stackyard.aws.cloudformation import StackEvent
from stackyard.engine.approval import ApprovalPolicy, By, Decision, settle
from stackyard.engine.status import StackState
from stackyard.plan.model import (
    ChangeAction,
    Plan,
    Replacement,
    ResourceChange,
    StackAction,
    StackPlan,
)
from stackyard.plan.protection import RULE_TERMINATION_PROTECTION, assess

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CHAIN = """\
- {name: a, template_path: t.json, variables: {Value: a}}
- {name: b, template_path: t.json, variables: {Value: "${output a::Value}-b"}}
- {name: c, template_path: t.json, variables: {Value: c}}
"""


class Recorder:
    """A listener that keeps what ``--tail`` reports."""

    def __init__(self) -> None:
        self.events: list[tuple[str, StackEvent]] = []
        self.finished: dict[str, int] = {}  # stack -> how many events were reported before

    def stack_changed(self, state: StackState) -> None:
        if state.phase.terminal and state.name not in self.finished:
            self.finished[state.name] = sum(1 for n, _ in self.events if n == state.name)

    def note(self, message: str) -> None:
        pass

    def stack_events(self, state: StackState, events: Sequence[StackEvent]) -> None:
        self.events.extend((state.name, e) for e in events)


def test_tail_reports_each_event_once_oldest_first_before_the_stack_finishes(
    world: World,
) -> None:
    listener = Recorder()
    result = world.build(world.project(CHAIN), listener, tail=True)
    assert result.ok
    for name in ("a", "b", "c"):
        seen = [e for n, e in listener.events if n == name]
        assert [e.status for e in seen] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"], name
        assert seen[0].reason == "User Initiated"
        # Every event was out before the stack was reported finished.
        assert listener.finished[name] == len(seen)
    ids = [e.event_id for _, e in listener.events]
    assert len(ids) == len(set(ids))


def test_tail_follows_an_update_and_a_deletion_without_replaying_older_events(
    world: World,
) -> None:
    assert world.build(world.project(CHAIN)).ok
    listener = Recorder()
    changed = CHAIN.replace("Value: c}", "Value: c2}")
    assert world.build(world.project(changed), listener, tail=True).ok
    assert [(n, e.status) for n, e in listener.events] == [
        ("c", "UPDATE_IN_PROGRESS"),
        ("c", "UPDATE_COMPLETE"),
    ]


def test_without_tail_no_events_are_read_for_show(world: World) -> None:
    listener = Recorder()
    assert world.build(world.project(CHAIN), listener).ok
    assert listener.events == []


def _update(name: str, replacement: Replacement = Replacement.FALSE) -> StackPlan:
    action = ChangeAction.REPLACE if replacement is Replacement.TRUE else ChangeAction.MODIFY
    plan = StackPlan(
        name,
        f"ns-{name}",
        StackAction.UPDATE,
        resources=(ResourceChange("Thing", "AWS::SNS::Topic", action, replacement=replacement),),
    )
    return replace(plan, protection=assess(plan, False, project=None))


def _asker(answers: dict[str, bool]) -> tuple[list[str], Any]:
    asked: list[str] = []

    def ask(stack: StackPlan) -> bool:
        asked.append(stack.name)
        return answers.get(stack.name, True)

    return asked, ask


def test_interactive_asks_about_each_changing_stack_in_plan_order() -> None:
    same = StackPlan("same", "ns-same", StackAction.NO_CHANGE)
    created = StackPlan("new", "ns-new", StackAction.CREATE)
    plan = Plan.create([_update("one"), same, created, _update("two")], now=NOW)
    asked, ask = _asker({"two": False})
    settled = settle(plan, ApprovalPolicy(ask_each=ask))
    assert asked == ["one", "new", "two"]
    assert settled.allows("one") and settled.allows("new") and settled.allows("same")
    assert not settled.allows("two")
    declined = settled.outcomes["two"]
    assert (declined.decision, declined.by) == (Decision.DECLINED, By.PROMPT)


def test_interactive_does_not_ask_about_what_needs_a_declined_stack() -> None:
    plan = Plan.create([_update("base"), _update("mid"), _update("top"), _update("free")], now=NOW)
    waits_for = {
        "base": frozenset(),
        "mid": frozenset({"group"}),  # through a target
        "group": frozenset({"base"}),
        "top": frozenset({"mid"}),
        "free": frozenset(),
    }
    asked, ask = _asker({"base": False})
    settled = settle(plan, ApprovalPolicy(ask_each=ask), waits_for)
    assert asked == ["base", "free"]
    assert set(settled.not_approved) == {"base"}  # the engine cancels mid and top


def test_replacements_only_asks_only_where_something_is_replaced() -> None:
    recreated = StackPlan("failed", "ns-failed", StackAction.RECREATE)
    plan = Plan.create(
        [
            _update("plain"),
            _update("maybe", Replacement.CONDITIONAL),
            _update("replaced", Replacement.TRUE),
            recreated,
            StackPlan("new", "ns-new", StackAction.CREATE),
        ],
        now=NOW,
    )
    asked, ask = _asker({})
    settle(plan, ApprovalPolicy(ask_each=ask, replacements_only=True))
    assert asked == ["maybe", "replaced", "failed"]


def test_protected_changes_are_asked_even_with_replacements_only_unless_a_flag_approves() -> None:
    guarded = replace(_update("guarded"), protection=assess(_update("guarded"), True, project=None))
    deletion = StackPlan("old", "ns-old", StackAction.DELETE)
    deletion = replace(deletion, protection=assess(deletion, False, termination_protection=True))
    plan = Plan.create([guarded, deletion], now=NOW)
    asked, ask = _asker({})
    policy = ApprovalPolicy(
        ask_each=ask,
        replacements_only=True,
        approved_rules=frozenset({RULE_TERMINATION_PROTECTION}),
    )
    settled = settle(plan, policy)
    assert asked == ["guarded"]
    assert settled.outcomes["old"].by is By.FLAG


def test_a_declined_stack_and_its_dependents_do_not_run(world: World) -> None:
    asked, ask = _asker({"a": False})
    result = world.build(world.project(CHAIN), approvals=ApprovalPolicy(ask_each=ask))
    assert asked == ["a", "c"]  # b needs a: not asked
    assert {n: str(s.phase) for n, s in result.states.items()} == {
        "a": "cancelled",
        "b": "cancelled",
        "c": "complete",
    }
    assert result.exit_code == 3
    assert "t-a" not in world.cloud.stacks and "t-b" not in world.cloud.stacks


def test_the_questions_are_asked_inside_one_pause_and_none_is_opened_without_one() -> None:
    import contextlib

    log: list[str] = []

    @contextlib.contextmanager
    def asking() -> Any:
        log.append("pause")
        yield
        log.append("resume")

    def ask(stack: StackPlan) -> bool:
        log.append(stack.name)
        return True

    plan = Plan.create([_update("one"), _update("two")], now=NOW)
    settle(plan, ApprovalPolicy(ask_each=ask, asking=asking))
    assert log == ["pause", "one", "two", "resume"]
    log.clear()
    nothing = Plan.create([StackPlan("same", "ns-same", StackAction.NO_CHANGE)], now=NOW)
    settle(nothing, ApprovalPolicy(ask_each=ask, asking=asking))
    assert log == []
