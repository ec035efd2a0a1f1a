"""A bad day: throttling on one call in five, some 500s, dropped connections. The build still
ends in the right state, with no duplicate stacks and no stray change sets."""

from __future__ import annotations

from pathlib import Path

from apply_helpers import Apply, phases

from stackyard.aws.session import Location
from stackyard.local.middleware import FaultInjector
from stackyard.local.runner import LocalEndpoint

SPEC = "seed=11,cloudformation:*=throttle:0.2+error500:0.05+drop:0.03"


def test_build_and_update_survive_throttling_errors_and_drops(tmp_path: Path) -> None:
    import shutil

    from apply_helpers import FIXTURES

    faults = FaultInjector(SPEC)
    with LocalEndpoint(latency="resource=0s", wrap=[faults]) as endpoint:
        folder = tmp_path / "project"
        shutil.copytree(FIXTURES, folder)
        apply = Apply(endpoint.url, folder, "faulty", {"namespace": "faulty"})
        result = apply.build()
        assert set(phases(result).values()) == {"complete"}, result.summary()
        result = apply.build(apply.project(note_d="again", value_a="beta"))
        expected = {**dict.fromkeys("abcd", "complete"), **dict.fromkeys("xyz", "no change")}
        assert phases(result) == expected, result.summary()
        injected = faults.report()["injected"]
        assert sum(sum(kinds.values()) for kinds in injected.values()) >= 5
        faults.set_spec(None)
        gateway = apply.gateway()
        listing = gateway.list_stacks(Location())
        assert sorted(listing) == [f"faulty-{n}" for n in "abcdxyz"]
        cfn = gateway.clients.client("cloudformation")
        for name in listing:
            left = cfn.list_change_sets(StackName=name)["Summaries"]
            assert all(c["ExecutionStatus"] == "EXECUTE_COMPLETE" for c in left), left
        assert cfn.describe_stacks(StackName="faulty-d")["Stacks"][0]["Outputs"]
