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

WRITES = ("CreateStack", "CreateChangeSet", "ExecuteChangeSet", "DeleteStack", "DeleteChangeSet")


def _spec(seed: int, rate: float) -> str:
    return f"seed={seed}," + ",".join(f"cloudformation:{a}=lost:{rate}" for a in WRITES)


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
    ("rate", "attempts"),
    [(0.3, 10), (0.4, 1)],
    ids=["botocore-retries-with-the-same-token", "no-retry-reconciled-from-the-stack"],
)
def test_lost_answers_on_every_write_still_converge(
    tmp_path: Path, rate: float, attempts: int
) -> None:
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.aws.session import ClientFactory

    faults = FaultInjector(_spec(5, rate))
    with LocalEndpoint(latency="resource=0s", wrap=[faults]) as endpoint:
        folder = tmp_path / "project"
        shutil.copytree(FIXTURES, folder)
        apply = Apply(endpoint.url, folder, "lost", {"namespace": "lost"})

        def gateway() -> Any:
            factory = ClientFactory(endpoint_url=endpoint.url, max_attempts=attempts)
            return CloudFormationGateway(factory)

        built = apply.build(gateway=gateway())
        assert set(phases(built).values()) == {"complete"}, built.summary()
        updated = apply.build(apply.project(note_d="again", value_a="beta"), gateway=gateway())
        expected = {**dict.fromkeys("abcd", "complete"), **dict.fromkeys("xyz", "no change")}
        assert phases(updated) == expected, updated.summary()
        lost = {a: k.get("lost", 0) for a, k in faults.report()["injected"].items()}
        assert lost.get("cloudformation:CreateStack", 0) >= 1, lost
        assert lost.get("cloudformation:ExecuteChangeSet", 0) >= 1, lost
        faults.set_spec(None)
        listing, strays = _leftovers(apply)
        assert listing == [f"lost-{n}" for n in "abcdxyz"] and strays == []
        cfn = apply.gateway().clients.client("cloudformation")
        outputs = cfn.describe_stacks(StackName="lost-a")["Stacks"][0]["Outputs"]
        assert {o["OutputKey"]: o["OutputValue"] for o in outputs}.get("Value") == "beta"
        faults.set_spec(_spec(6, rate))
        gone = apply.destroy(gateway=gateway())
        assert set(phases(gone).values()) == {"complete"}, gone.summary()
        faults.set_spec(None)
        assert _leftovers(apply) == ([], [])
