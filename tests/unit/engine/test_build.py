"""The engine on a fake CloudFormation and a fake clock: scheduling, updates, failures."""

from __future__ import annotations

from typing import Any

from engine_fakes import World

from stackyard.engine.status import Phase

DIAMOND = """\
- {name: a, template_path: t.json, variables: {Value: a}}
- {name: b, template_path: t.json, variables: {Value: "${output a::Value}-b"}}
- {name: c, template_path: t.json, variables: {Value: "${output a::Value}-c"}}
- {name: d, template_path: t.json, variables: {Value: "${output b::Value}${output c::Value}"}}
"""


def phases(result) -> dict[str, str]:
    return {name: str(state.phase) for name, state in result.states.items()}


def test_diamond_builds_each_stack_when_its_needs_are_done(world: World) -> None:
    result = world.build(world.project(DIAMOND))
    assert result.exit_code == 0
    assert set(phases(result).values()) == {"complete"}
    started = world.started()
    assert started["t-a"] < started["t-b"] == started["t-c"] < started["t-d"]
    assert world.cloud.stacks["t-d"].params == {"Value": "a-ba-c"}
    # Four stacks of 10 s, three levels: the makespan is the critical path plus polling slack.
    assert result.finished - result.started < 30 + 3 * 1.5


def test_a_slow_stack_never_holds_back_an_unrelated_one(world: World) -> None:
    project = world.project(
        """\
        - {name: slow, template_path: t.json, variables: {Value: s}}
        - {name: x, template_path: t.json, variables: {Value: x}}
        - {name: y, template_path: t.json, variables: {Value: "${output x::Value}"}}
        - {name: z, template_path: t.json, variables: {Value: "${output y::Value}"}}
        """
    )
    world.cloud.durations = {"t-slow": 300.0, "t-x": 5.0, "t-y": 5.0, "t-z": 5.0}
    result = world.build(project)
    assert result.ok
    started = world.started()
    assert started["t-z"] - started["t-x"] < 15 + 2 * 1.0  # not held back by level or by slow
    assert result.states["z"].finished < result.states["slow"].finished


def test_max_parallel_limits_stacks_in_flight(world: World) -> None:
    stacks = "".join(
        f"- {{name: s{i}, template_path: t.json, variables: {{Value: v}}}}\n" for i in range(6)
    )
    project = world.project(stacks)
    peak = 0

    def watch(action: str, stack: str) -> None:
        nonlocal peak
        peak = max(peak, world.cloud.in_flight())

    world.cloud.on_call = watch
    result = world.build(project, max_parallel=2)
    assert result.ok
    assert peak == 2
    assert world.cloud.count("CreateStack") == 6


def test_no_op_rebuild_makes_no_update_calls(world: World) -> None:
    project = world.project(DIAMOND)
    assert world.build(project).ok
    world.cloud.calls.clear()
    world.gateway.stats.reset()
    result = world.build(world.project(DIAMOND))
    assert set(phases(result).values()) == {"no change"}
    actions = sorted({a for _, a, _ in world.cloud.calls})
    assert actions == ["DescribeStacks", "GetTemplate"]
    assert world.cloud.count("DescribeStacks") == 1
    assert world.cloud.count("GetTemplate") == 4


def test_one_leaf_update_is_one_update_stack_call(world: World) -> None:
    assert world.build(world.project(DIAMOND)).ok
    world.cloud.calls.clear()
    changed = DIAMOND.replace('"${output b::Value}${output c::Value}"', '"new"')
    result = world.build(world.project(changed))
    assert phases(result) == {"a": "no change", "b": "no change", "c": "no change", "d": "complete"}
    assert result.states["d"].detail == "updated"
    # The reviewed plan says what changes: one UpdateStack, no change-set round trip.
    writes = [a for _, a, _ in world.cloud.calls if not a.startswith(("Describe", "Get"))]
    assert writes == ["UpdateStack"]
    assert world.cloud.stacks["t-d"].params == {"Value": "new"}


def test_a_template_with_a_transform_is_updated_through_a_change_set(world: World) -> None:
    import json

    from engine_fakes import TEMPLATE

    (world.tmp / "tx.json").write_text(
        json.dumps({**TEMPLATE, "Transform": "AWS::Serverless-2016-10-31"})
    )
    stacks = "- {name: x, template_path: tx.json, variables: {Value: '${v}'}}\n"
    assert world.build(world.project(stacks.replace("${v}", "one"))).ok
    world.cloud.calls.clear()
    result = world.build(world.project(stacks.replace("${v}", "two")))
    assert phases(result) == {"x": "complete"}
    assert world.cloud.count("CreateChangeSet") == 1
    assert world.cloud.count("ExecuteChangeSet") == 1
    assert world.cloud.count("UpdateStack") == 0
    assert world.cloud.change_sets == {}


def test_failed_create_cancels_dependents_and_reports_the_first_reason(world: World) -> None:
    world.cloud.fail_create = {"t-b"}
    result = world.build(world.project(DIAMOND))
    assert result.exit_code == 1
    assert phases(result) == {"a": "complete", "b": "failed", "c": "complete", "d": "cancelled"}
    failure = result.states["b"].failure
    assert failure is not None and failure.resource == "Param"
    assert failure.reason == "Value is not allowed"
    assert result.states["b"].detail == "ROLLBACK_COMPLETE"
    assert "dependency b failed" in result.states["d"].detail
    assert "Value is not allowed" in result.states["d"].detail


def test_failed_update_reports_update_rollback_complete_as_failed(world: World) -> None:
    assert world.build(world.project(DIAMOND)).ok
    world.cloud.fail_update = {"t-a"}
    result = world.build(world.project(DIAMOND.replace("Value: a}", "Value: a2}")))
    assert result.states["a"].phase is Phase.FAILED
    assert result.states["a"].detail == "UPDATE_ROLLBACK_COMPLETE"
    assert str(result.states["a"].failure) == "Param: Value is not allowed"
    assert {result.states[n].phase for n in "bcd"} == {Phase.CANCELLED}


def test_recreate_failed_only_for_stacks_stackyard_created(world: World) -> None:
    world.cloud.add_stack("t-a", "ROLLBACK_COMPLETE", tags={"stackyard:namespace": "t"})
    world.cloud.add_stack("t-b", "ROLLBACK_COMPLETE")
    project = world.project(
        """\
        - {name: a, template_path: t.json, variables: {Value: a}}
        - {name: b, template_path: t.json, variables: {Value: b}}
        """
    )
    result = world.build(project)
    assert phases(result) == {"a": "failed", "b": "failed"}
    assert "--recreate-failed" in (result.states["a"].failure.hint or "")
    assert "did not create" in (result.states["b"].failure.hint or "")
    result = world.build(project, recreate_failed=True)
    assert phases(result) == {"a": "complete", "b": "failed"}
    assert world.cloud.stacks["t-a"].status == "CREATE_COMPLETE"
    assert world.cloud.count("DeleteStack") == 1


def test_locked_stack_is_read_not_updated_unless_forced(world: World) -> None:
    world.cloud.add_stack("t-a", "CREATE_COMPLETE", value="old")
    project = world.project(
        """\
        - {name: a, template_path: t.json, locked: true, variables: {Value: new}}
        - {name: b, template_path: t.json, variables: {Value: "${output a::Value}"}}
        - {name: dormant, template_path: t.json, enabled: false}
        """
    )
    result = world.build(project)
    assert phases(result) == {"a": "skipped", "b": "complete", "dormant": "skipped"}
    assert result.states["dormant"].detail == "disabled"
    assert world.cloud.stacks["t-b"].params == {"Value": "old"}
    assert world.cloud.count("GetTemplate") == 0
    result = world.build(project, force=frozenset({"a"}))
    assert result.states["a"].phase is Phase.COMPLETE
    assert world.cloud.stacks["t-a"].params == {"Value": "new"}


def test_a_busy_stack_is_waited_for_then_planned_unless_no_wait(world: World) -> None:
    stack = world.cloud.add_stack("t-a", "UPDATE_IN_PROGRESS", value="a")
    stack.pending = (world.clock() + 20, "UPDATE_COMPLETE")
    project = world.project("- {name: a, template_path: t.json, variables: {Value: b}}\n")
    seen: list[str] = []

    class Watch:
        def stack_changed(self, state: Any) -> None:
            seen.append(state.detail)

        def note(self, message: str) -> None:
            pass

    result = world.build(project, listener=Watch())
    # Waited for the update another run started, then planned and updated it.
    assert result.states["a"].phase is Phase.COMPLETE
    assert world.clock() >= 1020
    assert world.cloud.stacks["t-a"].params == {"Value": "b"}
    assert any(d.startswith("waiting for the update started at ") for d in seen), seen
    stack.status = "UPDATE_IN_PROGRESS"
    stack.pending = (world.clock() + 20, "UPDATE_COMPLETE")
    result = world.build(project, wait=False)
    assert result.states["a"].phase is Phase.FAILED
    assert "busy" in str(result.states["a"].failure)
    # stacker's in_progress_behavior: wait keeps working under --no-wait.
    stack.status = "UPDATE_IN_PROGRESS"
    stack.pending = (world.clock() + 20, "UPDATE_COMPLETE")
    waiting = world.project(
        "- {name: a, template_path: t.json, in_progress_behavior: wait, variables: {Value: b}}\n"
    )
    assert world.build(waiting, wait=False).states["a"].phase is Phase.NO_CHANGE


def test_a_dependency_left_mid_create_is_waited_for_before_its_outputs_are_read(
    world: World,
) -> None:
    # What a killed run leaves: "a" still being created, so it has no outputs yet. "b" reads
    # one: it must wait for "a" to finish, then read it (not fail for lack of it).
    stack = world.cloud.add_stack("t-a", "CREATE_IN_PROGRESS", value="a")
    stack.outputs = {}
    stack.pending = (world.clock() + 20, "CREATE_COMPLETE")
    project = world.project(
        "- {name: a, template_path: t.json, variables: {Value: a}}\n"
        '- {name: b, template_path: t.json, variables: {Value: "${output a::Value}-b"}}\n'
    )
    result = world.build(project)
    assert result.exit_code == 0, result.summary()
    assert world.cloud.stacks["t-b"].params == {"Value": "a-b"}
    assert world.started()["t-b"] >= 1020  # after "a" completed


def test_settings_are_applied_without_a_change_set(world: World) -> None:
    assert world.build(
        world.project("- {name: a, template_path: t.json, variables: {Value: a}}\n")
    ).ok
    (world.tmp / "policy.json").write_text('{"Statement": []}')
    world.cloud.calls.clear()
    project = world.project(
        "- {name: a, template_path: t.json, termination_protection: true,"
        " stack_policy_path: policy.json, variables: {Value: a}}\n"
    )
    result = world.build(project)
    assert result.states["a"].phase is Phase.COMPLETE
    assert world.cloud.count("CreateChangeSet") == 0
    assert world.cloud.count("UpdateTerminationProtection") == 1
    assert world.cloud.count("SetStackPolicy") == 1
    world.cloud.calls.clear()
    assert world.build(project).states["a"].phase is Phase.NO_CHANGE
    assert world.cloud.count("GetStackPolicy") == 1


def test_new_stacks_are_tagged_as_stackyards_and_tags_kept_on_update(world: World) -> None:
    project = world.project(
        "- {name: a, template_path: t.json, tags: {team: x}, variables: {Value: a}}\n"
    )
    assert world.build(project).ok
    assert world.cloud.stacks["t-a"].tags == {
        "team": "x",
        "stackyard:namespace": "t",
        "stackyard:stack": "a",
    }
    project = world.project(
        "- {name: a, template_path: t.json, tags: {team: y}, variables: {Value: a}}\n"
    )
    assert world.build(project).states["a"].phase is Phase.COMPLETE
    assert world.cloud.stacks["t-a"].tags == {
        "team": "y",
        "stackyard:namespace": "t",
        "stackyard:stack": "a",
    }


def test_destroy_goes_in_reverse_order(world: World) -> None:
    assert world.build(world.project(DIAMOND)).ok
    world.cloud.calls.clear()
    result = world.destroy(world.project(DIAMOND))
    assert result.ok
    deleted = world.started("DeleteStack")
    assert deleted["t-d"] < deleted["t-b"] == deleted["t-c"] < deleted["t-a"]
    assert world.cloud.stacks == {}


def test_destroy_of_one_stack_takes_its_dependents_and_refuses_protected(world: World) -> None:
    assert world.build(world.project(DIAMOND)).ok
    world.cloud.stacks["t-d"].protection = True
    world.cloud.calls.clear()
    result = world.destroy(world.project(DIAMOND), stacks=("b",))
    # d is terminate-protected and not approved: nothing at all is deleted, not even b.
    assert phases(result) == {"b": "not started", "d": "not started"}
    assert result.exit_code == 3 and result.not_approved == {"d": "awaiting approval"}
    assert world.cloud.count("DeleteStack") == 0
    assert world.cloud.count("UpdateTerminationProtection") == 0
    result = world.destroy(
        world.project(DIAMOND), stacks=("b",), disable_termination_protection=True
    )
    assert phases(result) == {"b": "complete", "d": "complete"}
    assert set(world.cloud.stacks) == {"t-a", "t-c"}


def test_failure_reasons_and_events_mask_no_echo_values() -> None:
    from stackyard.engine.ops import mask_failure
    from stackyard.engine.status import Failure

    failure = mask_failure(
        Failure("Bucket: top-secret-name already exists", "Bucket", hint="rename top-secret-name"),
        ["top-secret-name"],
    )
    assert failure.reason == "Bucket: **** already exists"
    assert failure.hint == "rename ****"


def test_the_engine_executes_the_plan_without_deciding_again(world: World) -> None:

    assert world.build(world.project(DIAMOND)).ok
    changed = world.project(DIAMOND.replace("Value: a}", "Value: a2}"))
    world.cloud.calls.clear()
    marks: list[int] = []
    result = world.build(changed, review=lambda planned: marks.append(len(world.cloud.calls)))
    assert result.ok and phases(result) == dict.fromkeys("abcd", "complete")
    planning, executing = world.cloud.calls[: marks[0]], world.cloud.calls[marks[0] :]
    # The plan read everything once: one listing, one template per stack.
    assert [a for _, a, _ in planning].count("DescribeStacks") == 1
    assert sorted(s for _, a, s in planning if a == "GetTemplate") == ["t-a", "t-b", "t-c", "t-d"]
    # Executing it reads no template and describes no single stack: batched polls only.
    assert not [c for c in executing if c[1] in ("GetTemplate", "GetStackPolicy")]
    assert not [c for c in executing if c[1] == "DescribeStacks" and c[2]]
    assert world.cloud.stacks["t-d"].params == {"Value": "a2-ba2-c"}


def test_every_approval_is_settled_before_the_first_write(world: World) -> None:

    from stackyard.engine.approval import ApprovalPolicy

    project = world.project(
        """\
        - {name: free, template_path: t.json, variables: {Value: f}}
        - {name: p1, template_path: t.json, protected: true, variables: {Value: one}}
        - {name: p2, template_path: t.json, protected: true, variables: {Value: two}}
        """
    )
    asked: list[tuple[list[str], int]] = []

    def ask(stacks: Any) -> bool:
        asked.append(([s.name for s in stacks], len(world.cloud.calls)))
        return True

    result = world.build(project, approvals=ApprovalPolicy(ask=ask))
    assert result.ok
    assert [names for names, _ in asked] == [["p1", "p2"]]  # one question for both
    writes = [i for i, (_, a, _) in enumerate(world.cloud.calls) if a == "CreateStack"]
    assert writes and min(writes) >= asked[0][1]  # asked before any stack was submitted
    started = world.started()
    assert started["t-free"] == started["t-p1"] == started["t-p2"]  # nobody waited on a prompt


def test_polls_aimed_at_the_likely_finish_see_each_level_end_promptly(world: World) -> None:
    from stackyard.aws.poller import PollPolicy

    chain = "".join(
        f"- {{name: s{i}, template_path: t.json, variables: {{Value: v}}"
        + (f", requires: [s{i - 1}]" if i else "")
        + "}\n"
        for i in range(6)
    )
    makespans = {}
    for label, policy in (("aimed", PollPolicy()), ("interval only", PollPolicy(aim_window=-1))):
        world.cloud.stacks.clear()
        result = world.build(world.project(chain), poll=policy)
        assert result.ok
        makespans[label] = result.finished - result.started
    # Six levels of 10 s: the first end is seen within one interval (about 1 s at that age),
    # every later one within the aimed polls' cadence.
    assert makespans["aimed"] < 60 + 1.1 + 5 * 0.15, makespans
    assert makespans["interval only"] > makespans["aimed"] + 0.5, makespans
