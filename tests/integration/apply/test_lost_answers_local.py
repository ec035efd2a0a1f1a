"""Writes whose answers are lost (the write lands, the connection drops): every build, update
and destroy still converges in one run, with nothing reported failed and nothing left over."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import FIXTURES, Apply, phases

from stackyard.aws.session import Location
from stackyard.local.middleware import FaultInjector
from stackyard.local.runner import LocalEndpoint

# DeleteChangeSet comes last: it is called only for a change set that is not executed.
WRITES = (
    "CreateStack",
    "UpdateStack",
    "CreateChangeSet",
    "ExecuteChangeSet",
    "DeleteStack",
    "DeleteChangeSet",
)


def _spec(seed: int, rate: float, actions: tuple[str, ...] = WRITES) -> str:
    return f"seed={seed}," + ",".join(f"cloudformation:{a}=lost:{rate}" for a in actions)


def _leftovers(apply: Apply) -> tuple[list[str], list[Any]]:
    gateway = apply.gateway()
    listing = gateway.list_stacks(Location())
    cfn = gateway.clients.client("cloudformation")
    strays = [
        c
        for name in listing
        for c in cfn.list_change_sets(StackName=name)["Summaries"]
        if c["ExecutionStatus"] != "EXECUTE_COMPLETE"
    ]
    return sorted(listing), strays


@pytest.mark.parametrize(
    ("rate", "attempts", "actions"),
    [
        (0.3, 10, WRITES),
        (0.4, 1, WRITES),
        *[(0.5, 1, (action,)) for action in WRITES[:5]],
    ],
    ids=[
        "all-writes-botocore-retries-with-the-same-token",
        "all-writes-no-retry-reconciled-from-the-stack",
        *[f"{action}-no-retry" for action in WRITES[:5]],
    ],
)
def test_lost_answers_still_converge(
    tmp_path: Path, rate: float, attempts: int, actions: tuple[str, ...]
) -> None:
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.aws.session import ClientFactory

    faults = FaultInjector(_spec(5, rate, actions))
    with LocalEndpoint(latency="resource=0s", wrap=[faults]) as endpoint:
        folder = tmp_path / "project"
        shutil.copytree(FIXTURES, folder)
        apply = Apply(endpoint.url, folder, "lost", {"namespace": "lost"})

        def gateway() -> Any:
            factory = ClientFactory(endpoint_url=endpoint.url, max_attempts=attempts)
            return CloudFormationGateway(factory)

        # Updates go through change sets when their actions are the ones faulted.
        change_sets = bool({"CreateChangeSet", "ExecuteChangeSet"} & set(actions))
        built = apply.build(gateway=gateway())
        assert set(phases(built).values()) == {"complete"}, built.summary()
        updated = apply.build(
            apply.project(note_d="again", value_a="beta"),
            gateway=gateway(),
            change_sets=change_sets and len(actions) == 1,
        )
        expected = {**dict.fromkeys("abcd", "complete"), **dict.fromkeys("xyz", "no change")}
        assert phases(updated) == expected, updated.summary()
        lost = {a: k.get("lost", 0) for a, k in faults.report()["injected"].items()}
        if len(actions) == 1 and actions[0] != "DeleteStack":
            assert lost.get(f"cloudformation:{actions[0]}", 0) >= 1, lost
        elif len(actions) > 1:
            assert sum(lost.values()) >= 3, lost
        faults.set_spec(None)
        listing, strays = _leftovers(apply)
        assert listing == [f"lost-{n}" for n in "abcdxyz"] and strays == []
        cfn = apply.gateway().clients.client("cloudformation")
        outputs = cfn.describe_stacks(StackName="lost-a")["Stacks"][0]["Outputs"]
        assert {o["OutputKey"]: o["OutputValue"] for o in outputs}.get("Value") == "beta"
        faults.set_spec(_spec(6, rate, actions))
        gone = apply.destroy(gateway=gateway())
        assert set(phases(gone).values()) == {"complete"}, gone.summary()
        if "DeleteStack" in actions:
            report = faults.report()["injected"].get("cloudformation:DeleteStack", {})
            assert report.get("lost", 0) >= 1, report
        faults.set_spec(None)
        assert _leftovers(apply) == ([], [])
