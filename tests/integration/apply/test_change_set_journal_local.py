"""A run killed between creating and executing a change set leaves a note; the next run on
this machine deletes the change set it left, and only a dead run's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from stackyard.aws.change_set_journal import ChangeSetJournal
from stackyard.aws.change_sets import sweep_leftovers
from stackyard.aws.cloudformation import CloudFormationGateway
from stackyard.aws.session import ClientFactory, Location
from stackyard.local.runner import LocalEndpoint

TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
TWO = json.dumps(
    {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "More": {"Type": "AWS::SNS::Topic"}}}
)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_next_run_deletes_what_a_killed_run_left(tmp_path: Path) -> None:
    with LocalEndpoint(latency="resource=0s") as endpoint:
        journal = ChangeSetJournal(tmp_path / "journal", endpoint.url)
        gateway = CloudFormationGateway(ClientFactory(endpoint_url=endpoint.url), journal=journal)
        cfn = gateway.clients.client("cloudformation")
        cfn.create_stack(StackName="kept", TemplateBody=TEMPLATE)
        cfn.get_waiter("stack_create_complete").wait(StackName="kept", WaiterConfig={"Delay": 0.1})
        location = Location("us-east-1")
        for name in ("stackyard-dead", "stackyard-alive"):
            cfn.create_change_set(StackName="kept", ChangeSetName=name, TemplateBody=TWO)
        dead = journal.begin("stackyard-dead", "kept", location)
        alive = journal.begin("stackyard-alive", "kept", location)  # this very process
        assert dead is not None and alive is not None
        entry = json.loads(dead.read_text())
        dead.write_text(json.dumps({**entry, "pid": _dead_pid()}))
        other = ChangeSetJournal(tmp_path / "journal", "http://127.0.0.1:1")
        assert other.leftovers() == []  # notes of another endpoint are not ours to act on

        assert sweep_leftovers(gateway) == 1
        left = [c["ChangeSetName"] for c in cfn.list_change_sets(StackName="kept")["Summaries"]]
        assert left == ["stackyard-alive"]
        assert not dead.exists() and alive.exists()
        assert sweep_leftovers(gateway) == 0
