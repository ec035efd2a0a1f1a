"""Helpers for planner tests on the local endpoint: templates and a per-test namespace."""

from __future__ import annotations

import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PARAM = {
    "Parameters": {"Value": {"Type": "String"}},
    "Resources": {
        "Param": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "Value"}},
        }
    },
    "Outputs": {"Value": {"Value": {"Ref": "Value"}}},
}
BUCKET = {
    "Parameters": {"BucketName": {"Type": "String"}},
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "BucketName"}}}
    },
}


@dataclass
class Lab:
    """One namespace on the shared endpoint: write configs, load projects, plan, build."""

    url: str
    folder: Path
    namespace: str

    def config(self, stacks: str, **values: str) -> Any:
        from stackyard.project import Project

        path = self.folder / f"{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(
            f"namespace: {self.namespace}\nstacks:\n"
            + textwrap.indent(textwrap.dedent(stacks), "  ")
        )
        return Project.load(str(path), overrides=values, region="us-east-1")

    def gateway(self) -> Any:
        from stackyard.aws.cloudformation import CloudFormationGateway
        from stackyard.aws.session import ClientFactory

        return CloudFormationGateway(ClientFactory(endpoint_url=self.url, max_attempts=10))

    def planner(self, project: Any, gateway: Any = None) -> Any:
        from stackyard.aws.session import Location
        from stackyard.engine.access import EngineAWSAccess
        from stackyard.plan.planner import Planner

        gateway = gateway or self.gateway()
        access = EngineAWSAccess(gateway, default=Location("us-east-1"))
        return Planner(project, gateway, access=access, sleep=lambda s: None)

    def plan(self, project: Any, gateway: Any = None, **options: Any) -> Any:
        from stackyard.plan.planner import PlanOptions

        return self.planner(project, gateway).plan(PlanOptions(**options))

    def build(self, project: Any, approvals: Any = None, **options: Any) -> Any:
        from stackyard.aws.poller import PollPolicy
        from stackyard.engine.run import RunOptions, build

        options.setdefault("poll", PollPolicy(min_interval=0.05, max_interval=0.5))
        return build(project, RunOptions(**options), self.gateway(), approvals=approvals)
