"""Drift on the local AWS: an SSM parameter and a security group changed out of band are
reported with their differences, an untouched stack is IN_SYNC, and ``info`` shows it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from plan_helpers import Lab

from stackyard.aws.drift import DriftTarget, detect_drift
from stackyard.aws.session import Location
from stackyard.engine.access import EngineAWSAccess
from stackyard.plan.status import stack_info

APP = {
    "Resources": {
        "Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "a"}},
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "web",
                "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}
                ],
            },
        },
    },
    "Outputs": {
        "Param": {"Value": {"Ref": "Param"}},
        "Group": {"Value": {"Fn::GetAtt": ["Group", "GroupId"]}},
    },
}


def test_drift_reports_out_of_band_changes_and_in_sync_stacks(
    lab: Lab, aws: Callable[[str], Any]
) -> None:
    (lab.folder / "app.json").write_text(json.dumps(APP))
    project = lab.config(
        """\
        - {name: app, template_path: app.json}
        - {name: calm, template_path: param.json, variables: {Value: c}}
        """
    )
    assert lab.build(project).ok
    gateway = lab.gateway()
    here = Location("us-east-1")
    outputs = gateway.list_stacks(here)[project.fqn("app")].outputs
    aws("ssm").put_parameter(Name=outputs["Param"], Value="b", Overwrite=True)
    aws("ec2").authorize_security_group_ingress(
        GroupId=outputs["Group"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "1.2.3.4/32"}],
            }
        ],
    )

    targets = [DriftTarget(n, project.fqn(n), here) for n in ("app", "calm")]
    app, calm = detect_drift(gateway, targets, sleep=lambda s: None)
    assert calm.status == "IN_SYNC" and calm.resources == ()
    assert app.status == "DRIFTED"
    found = {r.logical_id: r for r in app.resources}
    assert set(found) == {"Param", "Group"}
    [value] = found["Param"].differences
    assert (value.path, value.expected, value.actual, value.kind) == (
        "/Value",
        "a",
        "b",
        "NOT_EQUAL",
    )
    [rule] = found["Group"].differences
    assert rule.kind == "ADD" and rule.path.startswith("/SecurityGroupIngress/")
    assert rule.actual["CidrIp"] == "1.2.3.4/32" and rule.actual["FromPort"] == 22
    calls = gateway.stats.snapshot()
    assert calls["DetectStackDrift"] == 2 and calls["DescribeStackResourceDrifts"] == 1

    # info shows the last detection's verdict.
    fresh = lab.gateway()
    access = EngineAWSAccess(fresh, default=here)
    infos = stack_info(project, fresh, access, ["app", "calm"], {"app": here, "calm": here})
    assert [(i.name, i.last_drift) for i in infos] == [("app", "DRIFTED"), ("calm", "IN_SYNC")]
    assert infos[0].last_drift_checked is not None
