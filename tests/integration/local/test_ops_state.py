"""``--state DIR``: what a user created is there again after the endpoint restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest

from stackyard.local.daemon import ServeOptions, build_endpoint
from stackyard.local.state import StateStore, is_mutating

TEMPLATE = {
    "Parameters": {"Greeting": {"Type": "String", "Default": "hello"}},
    "Resources": {
        "Param": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": "/state/from-stack",
                "Type": "String",
                "Value": {"Ref": "Greeting"},
            },
        }
    },
    "Outputs": {"ParamName": {"Value": {"Ref": "Param"}}},
}


@contextmanager
def serving(state_dir: Path, tmp_path: Path) -> Iterator[str]:
    """``python -m stackyard.local serve --state DIR`` in a subprocess; SIGTERM at the end."""
    ready = tmp_path / "ready.json"
    ready.unlink(missing_ok=True)
    log = open(tmp_path / "serve.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "stackyard.local", "serve", "--port", "0"),
            *("--latency", "resource=0s", "--state", str(state_dir), "--ready-file", str(ready)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        yield json.loads(ready.read_text())["url"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=30) == 0, (tmp_path / "serve.log").read_text()
        finally:
            if process.poll() is None:
                process.kill()
            log.close()


def clients(url: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return lambda name: session.client(name, endpoint_url=url)


def wait_for(cfn: Any, name: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        try:
            stack: dict[str, Any] = cfn.describe_stacks(StackName=name)["Stacks"][0]
        except botocore.exceptions.ClientError as exc:
            if status == "DELETE_COMPLETE" and "does not exist" in str(exc):
                return {"StackStatus": status}
            raise
        if stack["StackStatus"] == status or time.monotonic() > deadline:
            return stack
        time.sleep(0.05)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    with serving(state_dir, tmp_path) as url:
        aws = clients(url)
        aws("ssm").put_parameter(Name="/state/plain", Value="kept", Type="String")
        aws("ssm").put_parameter(Name="/state/secret", Value="s3cr3t", Type="SecureString")
        aws("s3").create_bucket(Bucket="state-bucket")
        aws("s3").put_object(Bucket="state-bucket", Key="dir/file.txt", Body=b"payload")
        cfn = aws("cloudformation")
        cfn.create_stack(StackName="state-stack", TemplateBody=json.dumps(TEMPLATE))
        assert wait_for(cfn, "state-stack", "CREATE_COMPLETE")["StackStatus"] == "CREATE_COMPLETE"
        cfn.update_termination_protection(StackName="state-stack", EnableTerminationProtection=True)
        cfn.create_change_set(
            StackName="state-stack",
            ChangeSetName="again",
            UsePreviousTemplate=True,
            Parameters=[{"ParameterKey": "Greeting", "ParameterValue": "again"}],
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = cfn.describe_change_set(StackName="state-stack", ChangeSetName="again")
            if status["Status"] == "CREATE_COMPLETE":
                break
            time.sleep(0.05)

    summary = json.loads((state_dir / "state.json").read_text())
    assert summary["skipped"] == {}

    with serving(state_dir, tmp_path) as url:
        aws = clients(url)
        ssm = aws("ssm")
        assert ssm.get_parameter(Name="/state/plain")["Parameter"]["Value"] == "kept"
        secret = ssm.get_parameter(Name="/state/secret", WithDecryption=True)["Parameter"]
        assert secret["Value"] == "s3cr3t"
        body = aws("s3").get_object(Bucket="state-bucket", Key="dir/file.txt")["Body"].read()
        assert body == b"payload"
        cfn = aws("cloudformation")
        stack = cfn.describe_stacks(StackName="state-stack")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        assert stack["Outputs"][0]["OutputValue"] == "/state/from-stack"
        assert ssm.get_parameter(Name="/state/from-stack")["Parameter"]["Value"] == "hello"
        events = cfn.describe_stack_events(StackName="state-stack")["StackEvents"]
        assert any(event["LogicalResourceId"] == "Param" for event in events)
        assert stack["EnableTerminationProtection"] is True
        # The restored stack still works: execute the change set made before the restart,
        # then delete the stack and its resource.
        change_set = cfn.describe_change_set(StackName="state-stack", ChangeSetName="again")
        assert change_set["Status"] == "CREATE_COMPLETE"
        cfn.execute_change_set(StackName="state-stack", ChangeSetName="again")
        assert wait_for(cfn, "state-stack", "UPDATE_COMPLETE")["StackStatus"] == "UPDATE_COMPLETE"
        assert ssm.get_parameter(Name="/state/from-stack")["Parameter"]["Value"] == "again"
        cfn.update_termination_protection(
            StackName="state-stack", EnableTerminationProtection=False
        )
        cfn.delete_stack(StackName="state-stack")
        assert wait_for(cfn, "state-stack", "DELETE_COMPLETE")["StackStatus"] == "DELETE_COMPLETE"
        assert not ssm.get_parameters(Names=["/state/from-stack"])["Parameters"]


def test_a_state_saved_by_another_moto_version_is_not_restored(tmp_path: Path) -> None:
    served = build_endpoint(ServeOptions(port=0, state=str(tmp_path)))
    try:
        report = served.store.save(served.endpoint) if served.store else None
        assert report is not None and report.size > 0
        raw = (tmp_path / "state.pickle").read_bytes()
        length = int.from_bytes(raw[:4], "big")
        header = json.loads(raw[4 : 4 + length])
        header["versions"]["moto"] = "0.0.1"
        new_header = json.dumps(header).encode()
        (tmp_path / "state.pickle").write_bytes(
            len(new_header).to_bytes(4, "big") + new_header + raw[4 + length :]
        )
        restored = StateStore(tmp_path).restore(served.endpoint)
        assert not restored.restored
        assert "saved by moto 0.0.1" in restored.reason
        assert not (tmp_path / "state.pickle").exists()
        assert list(tmp_path.glob("state.moto-0.0.1.py-*.pickle"))
    finally:
        served.stop()


def test_autosave_writes_after_changes_only(tmp_path: Path) -> None:
    options = ServeOptions(port=0, latency="resource=0s", state=str(tmp_path))
    served = build_endpoint(options)
    assert served.autosave is not None
    served.autosave.interval = 0.1
    served.autosave.settle = 0.0
    served.start()
    try:
        ssm = clients(served.endpoint.url)("ssm")
        ssm.describe_parameters()
        time.sleep(0.4)
        assert served.autosave.saves == 0
        ssm.put_parameter(Name="/state/autosaved", Value="v", Type="String", Overwrite=True)
        deadline = time.monotonic() + 5
        while served.autosave.saves == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert served.autosave.saves >= 1
        assert (tmp_path / "state.pickle").exists()
        # A save holds the endpoint's lock only while pickling.
        assert served.autosave.last is not None
        assert served.autosave.last.locked_seconds < 2.0
    finally:
        served.autosave.stop()
        served.endpoint.stop()


@pytest.mark.parametrize(
    ("action", "mutating"),
    [
        ("PutParameter", True),
        ("CreateStack", True),
        ("DescribeStacks", False),
        ("ListObjectsV2", False),
        ("GetObject", False),
        ("HeadBucket", False),
        ("GET /2015-03-31", False),
        ("POST /2015-03-31", True),
    ],
)
def test_is_mutating(action: str, mutating: bool) -> None:
    assert is_mutating(action) is mutating


def test_serve_refuses_a_non_loopback_host(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stackyard.local", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "STACKYARD_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "loopback only" in result.stderr
