"""Deploying many apps to one environment at once, on the local AWS.

20 apps of 2 processes each (a web process behind the listener and a worker) are deployed at
once, each a plan of its own stack through the engine, each followed to COMPLETED. The
figures: the wall time of the whole batch against the wall time of one app deployed alone
(the limit: no batch can beat its slowest single rollout), and the CloudFormation and ECS
calls per app, from the endpoint's call accounting.

    python -m bench.bench_apps [--apps 20] [--task-seconds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

INFRA = """\
namespace: bench
stacker_bucket: ""
stacks:
  - name: network
    class_path: stackyard.library.network.Vpc
    variables: {CidrBlock: 10.40.0.0/16, ZoneCount: 2, NatGateways: none}
  - name: gateway
    class_path: stackyard.library.gateway.LoadBalancer
    variables:
      VpcId: ${output network::VpcId}
      SubnetIds: ${output network::PublicSubnetIds}
      CertificateArn: ""
  - name: cluster
    class_path: stackyard.library.ecs.Cluster
    variables:
      VpcId: ${output network::VpcId}
      IngressSecurityGroupIds:
        - ${output gateway::SecurityGroupId}
  - name: pools
    class_path: stackyard.library.ecs.CapacityPools
    variables:
      ClusterName: ${output cluster::ClusterName}
      InstanceProfileArn: ${output cluster::InstanceProfileArn}
      SecurityGroupIds: ${output cluster::InstanceSecurityGroupId}
      SubnetIds: ${output network::PrivateSubnetIds}
      ImageId: ami-0a1b2c3d4e5f60718
      Pools:
        general: {InstanceType: m5.2xlarge, MinSize: 4, MaxSize: 4}
"""

APPS = """\
config: stackyard.yaml
environments:
  stage:
    cluster: ${output cluster::ClusterName}
    vpc: ${output network::VpcId}
    listener: ${output gateway::ListenerArn}
    defaults: {cpu: 128, memory: 128}
"""


def manifest_text(app: str) -> str:
    """Two processes: web exposed on its own host name, and a worker."""
    return (
        "processes:\n"
        f"  web: {{command: bin/web, port: 8080, exposed: {{host: {app}.example.com}}}}\n"
        "  worker: {command: bin/worker}\n"
    )


def main() -> None:
    """Run the benchmark and print its figures (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--task-seconds", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stackyard-bench-apps-"))
    os.environ["STACKYARD_HOME"] = str(folder / "home")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    (folder / "stackyard.yaml").write_text(INFRA)
    (folder / "apps.yaml").write_text(APPS)

    from stackyard.apps.db.database import Database
    from stackyard.apps.environments import load_environments
    from stackyard.apps.manifest import parse_manifest
    from stackyard.apps.service import AppsService
    from stackyard.engine.run import RunOptions
    from stackyard.local.accounting import CallAccounting
    from stackyard.local.runner import LocalEndpoint
    from stackyard.project import Project
    from stackyard.workflow import build, connect

    half = args.task_seconds / 2
    latency = f"resource=0.05s,AWS::ECS::Task={half}s,AWS::ECS::HealthCheck={half}s"
    accounting = CallAccounting()
    with LocalEndpoint(latency=latency, wrap=[accounting]) as endpoint:
        gateway = connect(endpoint_url=endpoint.url, region="us-east-1")
        infra = build(Project.load(str(folder / "stackyard.yaml")), gateway, RunOptions())
        assert infra.ok, infra.summary()
        db = Database.open(f"sqlite:///{folder / 'apps.db'}")
        service = AppsService(db, load_environments(str(folder / "apps.yaml")), gateway, "bench")
        names = ["solo"] + [f"app{n:02d}" for n in range(args.apps)]
        for name in names:
            service.create(name, parse_manifest(manifest_text(name), f"{name}.yaml"))

        started = time.monotonic()
        solo = service.deploy("solo", "stage", "registry.example.com/solo:v1")
        single = time.monotonic() - started
        assert solo.exit_code == 0, solo.release.reason

        accounting.reset()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.apps) as pool:
            results = list(
                pool.map(
                    lambda n: service.deploy(n, "stage", f"registry.example.com/{n}:v1"),
                    names[1:],
                )
            )
        batch = time.monotonic() - started
        calls = accounting.snapshot()
        db.close()
    failed = [r.release.reason for r in results if r.exit_code]
    services = calls.get("services", {})
    figures = {
        "apps": args.apps,
        "processes_per_app": 2,
        "task_seconds": args.task_seconds,
        "single_app_seconds": round(single, 2),
        "batch_seconds": round(batch, 2),
        "batch_over_single": round(batch / single, 2),
        "cloudformation_calls_per_app": round(
            sum(services.get("cloudformation", {}).values()) / args.apps, 1
        ),
        "ecs_calls_per_app": round(sum(services.get("ecs", {}).values()) / args.apps, 1),
        "failed": failed,
    }
    print(f"one app alone:          {single:6.1f} s  (the limit for the batch)")
    print(f"{args.apps} apps at once:       {batch:6.1f} s  ({batch / single:.2f}x the limit)")
    print(f"CloudFormation calls/app: {figures['cloudformation_calls_per_app']}")
    print(f"ECS calls/app:            {figures['ecs_calls_per_app']}")
    if failed:
        print(f"failed: {failed}")
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
