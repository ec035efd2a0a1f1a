"""Ctrl-C once and twice, and hooks with data_key, on the fake cloud."""

from __future__ import annotations

from engine_fakes import World

from stackyard.engine.status import Phase

CHAIN = """\
- {name: a, template_path: t.json, variables: {Value: a}}
- {name: b, template_path: t.json, variables: {Value: "${output a::Value}"}}
- {name: c, template_path: t.json, variables: {Value: "${output b::Value}"}}
- {name: solo, template_path: t.json, variables: {Value: s}}
"""


def test_first_interrupt_submits_nothing_new_and_waits(world: World) -> None:
    def press(action: str, stack: str) -> None:
        if action == "CreateStack" and stack == "t-a":
            world.interrupt.hit()

    world.cloud.on_call = press
    result = world.build(world.project(CHAIN), max_parallel=1)
    assert result.states["a"].phase is Phase.COMPLETE  # in flight: waited for
    assert {result.states[n].phase for n in ("b", "c", "solo")} == {Phase.NOT_STARTED}
    assert world.cloud.count("CreateStack") == 1
    assert result.exit_code == 130
    # A rerun converges.
    world.cloud.on_call = None
    world.interrupt.count = 0
    result = world.build(world.project(CHAIN))
    assert result.ok
    assert result.states["a"].phase is Phase.NO_CHANGE
    assert set(world.cloud.stacks) == {"t-a", "t-b", "t-c", "t-solo"}


def test_second_interrupt_stops_waiting_and_leaves_cloudformation_running(world: World) -> None:
    notes: list[str] = []

    class Listener:
        def stack_changed(self, state) -> None:
            pass

        def note(self, message: str) -> None:
            notes.append(message)

    def press(action: str, stack: str) -> None:
        polling = action == "DescribeStacks" and not stack
        if polling and world.cloud.count("CreateStack") == 2 and world.interrupt.count < 2:
            world.interrupt.hit()

    world.cloud.on_call = press
    from engine_fakes import InlineStore, OutputsAccess

    from stackyard.engine.run import RunOptions, build

    result = build(
        world.project(CHAIN),
        RunOptions(),
        world.gateway,
        Listener(),
        interrupt=world.interrupt,
        clock=world.clock,
        sleep=world.clock.sleep,
        inline=True,
        store=InlineStore(),
        access=OutputsAccess(world.gateway),
    )
    assert result.states["a"].phase is Phase.LEFT_RUNNING
    assert result.states["solo"].phase is Phase.LEFT_RUNNING
    assert result.states["c"].phase is Phase.NOT_STARTED
    assert any("CloudFormation carries on" in n for n in notes)
    assert any("Ctrl-C again" in n for n in notes)


def test_interrupt_while_a_change_set_waits_deletes_it(world: World) -> None:
    import json

    from engine_fakes import TEMPLATE

    # A transform makes the update go through a change set.
    (world.tmp / "tx.json").write_text(json.dumps({**TEMPLATE, "Transform": "AWS::Include"}))
    chain = CHAIN.replace("t.json", "tx.json")
    assert world.build(world.project(chain)).ok

    def press(action: str, stack: str) -> None:
        if action == "CreateChangeSet":
            world.interrupt.hit()

    world.cloud.on_call = press
    result = world.build(world.project(chain.replace("Value: s}", "Value: s2}")))
    assert result.states["solo"].phase is Phase.NOT_STARTED
    assert world.cloud.count("ExecuteChangeSet") == 0
    assert world.cloud.count("DeleteChangeSet") == 1
    assert world.cloud.change_sets == {}


def test_hook_data_from_a_command_hook_reaches_a_stack(world: World) -> None:
    project = world.project(
        "- {name: a, template_path: t.json, variables: {Value: '${hook_data greeting::stdout}'}}\n",
        extra="""\
        pre_build:
          - path: stacker.hooks.command.run_command
            data_key: greeting
            args: {command: [printf, hello], capture: true}
          - path: command
            required: false
            args: {command: "exit 3"}
          - path: command
            enabled: false
            args: {command: "exit 4"}
        post_build:
          - path: command
            args: {command: [printf, "${output a::Value}"], capture: true}
            data_key: after
        """,
    )
    result = world.build(project)
    assert result.ok, result.summary()
    assert world.cloud.stacks["t-a"].params == {"Value": "hello"}
    assert project.context.hook_data["after"]["stdout"] == "hello"


def test_a_failing_required_pre_hook_stops_the_build(world: World) -> None:
    project = world.project(
        "- {name: a, template_path: t.json, variables: {Value: a}}\n",
        extra="""\
        pre_build:
          - path: command
            args: {command: "exit 3"}
        """,
    )
    result = world.build(project)
    assert result.exit_code == 1
    assert result.states["a"].phase is Phase.NOT_STARTED
    assert "pre_build[0] command failed" in str(result.error)
    assert world.cloud.count("CreateStack") == 0
