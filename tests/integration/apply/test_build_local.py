"""build and destroy on the local AWS endpoint (CloudFormation emulated faithfully)."""

from __future__ import annotations

import json
import textwrap

from apply_helpers import Apply, Timeline, phases

from stackyard.aws.session import Location

ALL = {n: "complete" for n in "abcdxyz"}


def test_diamond_and_chain_build_then_no_op_then_one_leaf_update(apply: Apply, aws) -> None:
    timeline = Timeline()
    result = apply.build(listener=timeline)
    assert phases(result) == ALL, result.summary()
    # Each stack starts once what it reads is complete; outputs flow across stacks.
    assert timeline.first("a", "complete") < timeline.first("b", "checking")
    assert timeline.first("c", "complete") < timeline.first("d", "checking")
    assert timeline.first("y", "complete") < timeline.first("z", "checking")
    d = aws("cloudformation").describe_stacks(StackName=f"{apply.namespace}-d")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in d["Outputs"]}
    assert outputs["Value"] == "alpha-b+alpha-c"
    assert {"Key": "stackyard:namespace", "Value": apply.namespace} in d["Tags"]

    gateway = apply.gateway()
    result = apply.build(gateway=gateway)
    assert set(phases(result).values()) == {"no change"}
    assert gateway.stats.snapshot() == {"DescribeStacks": 1, "GetTemplate": 7}

    gateway = apply.gateway()
    result = apply.build(apply.project(note_d="second"), gateway=gateway)
    assert phases(result) == {**{n: "no change" for n in "abcxyz"}, "d": "complete"}
    calls = gateway.stats.snapshot()
    # One leaf changed: one UpdateStack with the reviewed template, no change-set round trip.
    assert calls["UpdateStack"] == 1
    assert "CreateChangeSet" not in calls and "ExecuteChangeSet" not in calls
    cfn = aws("cloudformation")
    left = cfn.list_change_sets(StackName=f"{apply.namespace}-d")["Summaries"]
    assert [c["ExecutionStatus"] for c in left] in ([], ["EXECUTE_COMPLETE"])


def test_destroy_deletes_dependents_first(apply: Apply, aws) -> None:
    assert apply.build().ok
    timeline = Timeline()
    result = apply.destroy(listener=timeline)
    assert phases(result) == ALL
    assert timeline.first("d", "complete") < timeline.first("b", "checking")
    assert timeline.first("d", "complete") < timeline.first("c", "checking")
    assert timeline.first("b", "complete") < timeline.first("a", "checking")
    assert timeline.first("z", "complete") < timeline.first("y", "checking")
    names = {s["StackName"] for s in aws("cloudformation").describe_stacks()["Stacks"]}
    assert not any(n.startswith(apply.namespace + "-") for n in names)


def _write(apply: Apply, name: str, text: str) -> str:
    (apply.folder / name).write_text(textwrap.dedent(text))
    return name


def test_locked_and_disabled_stacks(apply: Apply) -> None:
    config = _write(
        apply,
        "locked.yaml",
        """\
        namespace: ${namespace}
        stacks:
          - {name: base, template_path: templates/param.json, variables: {Value: v1}}
          - {name: reader, template_path: templates/param.json,
             variables: {Value: "${output base::Value}"}}
          - {name: dormant, template_path: templates/param.json, enabled: false}
        """,
    )
    assert apply.build(apply.project(config)).ok
    locked = _write(
        apply,
        "locked2.yaml",
        (apply.folder / config)
        .read_text()
        .replace("variables: {Value: v1}", "locked: true, variables: {Value: v2}"),
    )
    gateway = apply.gateway()
    result = apply.build(apply.project(locked), gateway=gateway)
    assert phases(result) == {"base": "skipped", "reader": "no change", "dormant": "skipped"}
    assert result.states["dormant"].detail == "disabled"
    assert gateway.cached(f"{apply.namespace}-dormant", Location("us-east-1")) is None
    result = apply.build(apply.project(locked), force=frozenset({"base"}))
    assert phases(result)["base"] == "complete"


def test_failing_create_then_recreate_failed(apply: Apply, aws) -> None:
    taken = f"{apply.namespace}-taken"
    aws("s3").create_bucket(Bucket=taken)
    config = _write(
        apply,
        "fail.yaml",
        f"""\
        namespace: ${{namespace}}
        stacks:
          - {{name: store, template_path: templates/bucket.json, variables: {{BucketName: {taken}}}}}
          - {{name: user, template_path: templates/param.json,
             variables: {{Value: "${{output store::QueueArn}}"}}}}
          - {{name: other, template_path: templates/param.json, variables: {{Value: fine}}}}
        """,
    )
    result = apply.build(apply.project(config))
    assert phases(result) == {"store": "failed", "user": "cancelled", "other": "complete"}
    assert result.exit_code == 1
    store = result.states["store"]
    assert store.detail == "ROLLBACK_COMPLETE"
    assert store.failure is not None and store.failure.resource == "Bucket"
    assert "already exists" in store.failure.reason
    assert "dependency store failed" in result.states["user"].detail

    result = apply.build(apply.project(config))
    assert phases(result)["store"] == "failed"
    assert "--recreate-failed" in (result.states["store"].failure.hint or "")

    aws("s3").delete_bucket(Bucket=taken)
    result = apply.build(apply.project(config), recreate_failed=True)
    assert phases(result) == {"store": "complete", "user": "complete", "other": "no change"}


def test_failing_update_reports_rollback_with_its_reason(apply: Apply, aws) -> None:
    taken = f"{apply.namespace}-taken2"
    aws("s3").create_bucket(Bucket=taken)
    config = _write(
        apply,
        "upd.yaml",
        """\
        namespace: ${namespace}
        stacks:
          - {name: store, template_path: templates/bucket.json, variables: {BucketName: ${bucket}}}
          - {name: after, template_path: templates/param.json,
             variables: {Value: "${output store::QueueArn}"}}
        """,
    )
    assert apply.build(apply.project(config, bucket=f"{apply.namespace}-free")).ok
    result = apply.build(apply.project(config, bucket=taken))
    assert phases(result) == {"store": "failed", "after": "cancelled"}
    store = result.states["store"]
    assert store.detail == "UPDATE_ROLLBACK_COMPLETE"
    assert store.failure is not None and "already exists" in store.failure.reason
    stacks = aws("cloudformation").describe_stacks(StackName=f"{apply.namespace}-store")["Stacks"]
    assert stacks[0]["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"


def test_large_template_goes_through_the_bucket(apply: Apply, aws) -> None:
    config = _write(
        apply,
        "big.yaml",
        """\
        namespace: ${namespace}
        sys_path: .
        stacker_bucket: ${namespace}-templates
        stacks:
          - name: big
            class_path: blueprints.params.Parameters
            variables: {Prefix: p, Count: 2, PaddingKB: 60}
        """,
    )
    gateway = apply.gateway()
    result = apply.build(apply.project(config), gateway=gateway)
    assert phases(result) == {"big": "complete"}, result.summary()
    objects = aws("s3").list_objects_v2(Bucket=f"{apply.namespace}-templates")["Contents"]
    assert len(objects) == 1 and objects[0]["Size"] > 51_200
    assert objects[0]["Key"].startswith(f"stackyard/{apply.namespace}-big/")
    result = apply.build(apply.project(config))
    assert phases(result) == {"big": "no change"}


def test_interrupt_then_rerun_converges(apply: Apply) -> None:
    from stackyard.aws.poller import PollPolicy
    from stackyard.engine.run import RunOptions, build
    from stackyard.engine.scheduler import Interrupt

    interrupt = Interrupt()
    timeline = Timeline()

    def press(state) -> None:
        if state.name == "a" and str(state.phase) == "creating" and not interrupt.count:
            interrupt.hit()

    timeline.on_change = press
    result = build(
        apply.project(),
        RunOptions(max_parallel=1, poll=PollPolicy(0.05, 0.5)),
        apply.gateway(),
        timeline,
        interrupt=interrupt,
    )
    assert result.exit_code == 130
    assert phases(result)["a"] == "complete"
    assert "not started" in set(phases(result).values())
    assert any("Ctrl-C again" in note for note in timeline.notes)
    result = apply.build()
    assert result.ok
    assert phases(result)["a"] == "no change"


def test_hooks_with_data_key(apply: Apply) -> None:
    config = _write(
        apply,
        "hooks.yaml",
        """\
        namespace: ${namespace}
        pre_build:
          - path: stacker.hooks.command.run_command
            data_key: release
            args: {command: [echo, "-n", r42], capture: true}
        stacks:
          - {name: tagged, template_path: templates/param.json,
             variables: {Value: "${hook_data release::stdout}"}}
        post_build:
          - path: command
            data_key: check
            args:
              command: [echo, "-n", "${output tagged::Value}"]
              capture: true
        """,
    )
    project = apply.project(config)
    result = apply.build(project)
    assert result.ok, result.summary()
    assert project.context.hook_data["check"]["stdout"] == "r42"


def test_info_reports_status_outputs_and_drift(apply: Apply) -> None:
    from stackyard.engine.access import EngineAWSAccess
    from stackyard.plan.status import stack_info

    config = _write(
        apply,
        "info.yaml",
        """\
        namespace: ${namespace}
        stacks:
          - {name: one, template_path: templates/param.json, variables: {Value: "${v}"}}
          - {name: two, template_path: templates/param.json, variables: {Value: two}}
        """,
    )
    assert apply.build(apply.project(config, v="1"), stacks=("one",)).ok
    project = apply.project(config, v="2")
    gateway = apply.gateway()
    locations = {n: project.location(n) for n in ("one", "two")}
    access = EngineAWSAccess(gateway, default=Location("us-east-1"))
    infos = {i.name: i for i in stack_info(project, gateway, access, ["one", "two"], locations)}
    assert infos["one"].drift == "changes pending"
    assert infos["one"].outputs["Value"] == "1"
    assert infos["two"].drift == "missing"
    assert json.loads(json.dumps(infos["one"].to_json()))["status"] == "CREATE_COMPLETE"
