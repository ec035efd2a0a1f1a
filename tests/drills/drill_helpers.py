"""Shared pieces of the reliability drills: a workload generator, an endpoint with fault
injection and call accounting, resource inventories, and the fault ledger's property name.

The workload is a layered graph of stacks; each stack owns one SSM parameter, one SNS topic
and one SQS queue named after it, and reads the ``Token`` output of one or two stacks of the
layer above through ``${output ...}`` lookups. Resources carry explicit names so that an
inventory of the endpoint, taken per namespace, says exactly what a run left behind.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stackyard.aws.template_store import default_bucket_name
from stackyard.local.middleware import CallAccounting, FaultInjector, StatusRoute
from stackyard.local.runner import LocalEndpoint

REGION = "us-east-1"
STACKYARD = Path(sys.executable).with_name("stackyard")

_HOST = re.compile(r"(127\.0\.0\.1|localhost|\[::1\]):\d+")

# The user property through which a drill reports the faults it injected (see conftest.py).
LEDGER_PROPERTY = "drill_faults"

WORKLOAD_TEMPLATE: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Description": "A drill stack: one SSM parameter, one SNS topic, one SQS queue.",
    "Parameters": {
        "Name": {"Type": "String"},
        "Value": {"Type": "String"},
        "Upstream": {"Type": "String", "Default": "none"},
    },
    "Resources": {
        "Param": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": {"Fn::Sub": "/${Name}/value"},
                "Type": "String",
                "Value": {"Fn::Sub": "${Value}<${Upstream}"},
            },
        },
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Name"}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}}},
    },
    "Outputs": {
        "Token": {"Value": {"Ref": "Value"}},
        "QueueUrl": {"Value": {"Ref": "Queue"}},
    },
}

# The workload stack, plus a bucket whose name can be taken beforehand to fail on purpose.
FAILING_TEMPLATE: dict[str, Any] = {
    **WORKLOAD_TEMPLATE,
    "Parameters": {**WORKLOAD_TEMPLATE["Parameters"], "BucketName": {"Type": "String"}},
    "Resources": {
        **WORKLOAD_TEMPLATE["Resources"],
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": {"Ref": "BucketName"}},
        },
    },
}


@dataclass(frozen=True)
class Workload:
    """A layered dependency graph of stacks: ``edges[name]`` are the stacks it reads from."""

    edges: dict[str, tuple[str, ...]]

    @classmethod
    def layered(cls, stacks: int, width: int, seed: int = 0) -> Workload:
        """``stacks`` stacks in layers of ``width``; each reads one or two of the layer above."""
        rng = random.Random(seed)
        names = [f"s{index:03d}" for index in range(stacks)]
        edges: dict[str, tuple[str, ...]] = {}
        for index, name in enumerate(names):
            layer = index // width
            above = names[(layer - 1) * width : layer * width] if layer else []
            picked = sorted(rng.sample(above, min(len(above), rng.choice((1, 2))))) if above else []
            edges[name] = tuple(picked)
        return cls(edges)

    def dependents(self, name: str) -> set[str]:
        """Every stack that reads, directly or not, from ``name``."""
        out: set[str] = set()
        changed = True
        while changed:
            changed = False
            for stack, parents in self.edges.items():
                if stack not in out and (name in parents or out.intersection(parents)):
                    out.add(stack)
                    changed = True
        return out

    def expected_parameters(self, value: str) -> dict[str, str]:
        """The SSM parameters a full, correct build with ``value`` leaves (namespace as NS)."""
        out = {}
        for name, parents in self.edges.items():
            upstream = ",".join(f"{p}-{value}" for p in parents) or "root"
            out[f"/NS-{name}/value"] = f"{name}-{value}<{upstream}"
        return out

    def config(
        self, *, failing: str | None = None, big: str | None = None, ssm_root: bool = False
    ) -> str:
        """The stackyard config (YAML is a superset of JSON; written as JSON for exactness).

        ``failing`` names one stack built from the failing template, with a bucket named by
        the environment value ``bucket``; ``big`` one built from a template too large to send
        inline (it goes through the template bucket, S3); with ``ssm_root`` the root stacks
        read ``${ssm /NAMESPACE-root/seed}`` (SSM).
        """
        stacks = []
        root = "${ssm /${namespace}-root/seed}" if ssm_root else "root"
        for name, parents in self.edges.items():
            upstream = ",".join(f"${{output {p}::Token}}" for p in parents) or root
            variables = {"Name": f"${{namespace}}-{name}", "Value": f"{name}-${{value}}"}
            variables["Upstream"] = upstream
            template = "templates/drill.json"
            if name == failing:
                template = "templates/failing.json"
                variables["BucketName"] = "${bucket}"
            elif name == big:
                template = "templates/big.json"
            stacks.append({"name": name, "template_path": template, "variables": variables})
        return json.dumps({"namespace": "${namespace}", "stacks": stacks}, indent=1)

    def write(self, folder: Path, **options: Any) -> Path:
        """Write the project (config and templates) into ``folder``; return the config path.

        ``options`` are those of :meth:`config`.
        """
        templates = folder / "templates"
        templates.mkdir(parents=True, exist_ok=True)
        (templates / "drill.json").write_text(json.dumps(WORKLOAD_TEMPLATE, indent=1))
        (templates / "failing.json").write_text(json.dumps(FAILING_TEMPLATE, indent=1))
        padding = {"Padding": ["x" * 1000 for _ in range(60)]}
        (templates / "big.json").write_text(json.dumps({**WORKLOAD_TEMPLATE, "Metadata": padding}))
        config = folder / "drill.yaml"
        config.write_text(self.config(**options))
        return config


@dataclass
class DrillEndpoint:
    """A local endpoint with a fault injector and call accounting in front of it."""

    endpoint: LocalEndpoint
    faults: FaultInjector
    calls: CallAccounting
    injected: Counter[str] = field(default_factory=Counter)  # by kind
    services: Counter[str] = field(default_factory=Counter)  # by service
    _clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls) -> DrillEndpoint:
        """A started endpoint with no latency and no faults."""
        faults = FaultInjector()
        calls = CallAccounting()
        endpoint = LocalEndpoint(latency="resource=0s", wrap=[faults, calls, StatusRoute(calls)])
        endpoint.start()
        return cls(endpoint, faults, calls)

    @property
    def url(self) -> str:
        """The endpoint's URL."""
        return self.endpoint.url

    def client(self, service: str) -> Any:
        """A plain boto3 client (generous retries) for checks made by the drill itself."""
        if service in self._clients:
            return self._clients[service]
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        config = Config(retries={"mode": "standard", "max_attempts": 10})
        client = session.client(  # type: ignore[call-overload]
            service, endpoint_url=self.url, config=config
        )
        self._clients[service] = client
        return client

    @contextmanager
    def faulty(self, spec: str) -> Iterator[FaultInjector]:
        """Inject ``spec`` for the block; what was injected is added to ``injected``."""
        self.faults.set_spec(spec)
        try:
            yield self.faults
        finally:
            report = self.faults.report()
            self.injected.update(injected_by_kind(report))
            for key, kinds in report.get("injected", {}).items():
                self.services[key.split(":", 1)[0]] += sum(kinds.values())
            self.faults.set_spec(None)


@dataclass
class Daemon:
    """A background endpoint (``stackyard local up``) in a ``STACKYARD_HOME`` of its own,
    and the environment that points the CLI at it."""

    url: str
    env: dict[str, str]
    folder: Path
    _clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    @contextmanager
    def up(cls, folder: Path, latency: str = "resource=0s") -> Iterator[Daemon]:
        """Start it (commands run in ``folder``; the home is ``folder/home``); stop it after."""
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160"}
        env["STACKYARD_HOME"] = str(folder / "home")
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            env.pop(name, None)
        daemon = cls("", env, folder)
        started = daemon.run("local", "up", "--port", "0", "--latency", latency)
        assert started.returncode == 0, started.stdout + started.stderr
        daemon.url = json.loads((folder / "home" / "local" / "daemon.json").read_text())["url"]
        try:
            yield daemon
        finally:
            daemon.run("local", "down")

    @property
    def home(self) -> Path:
        """Its ``STACKYARD_HOME``."""
        return Path(self.env["STACKYARD_HOME"])

    def client(self, service: str) -> Any:
        """A plain boto3 client on the endpoint (one per service)."""
        if service not in self._clients:
            import boto3

            session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
            )
            self._clients[service] = session.client(  # type: ignore[call-overload]
                service, endpoint_url=self.url
            )
        return self._clients[service]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``stackyard ARGS...`` in a subprocess, in the folder, with this home."""
        return subprocess.run(
            [str(STACKYARD), *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def injected_by_kind(report: dict[str, Any]) -> Counter[str]:
    """Total faults per kind in a ``FaultInjector.report()`` (or ``GET /_stackyard/faults``)."""
    totals: Counter[str] = Counter()
    for kinds in report.get("injected", {}).values():
        totals.update(kinds)
    return totals


def record_faults(request: pytest.FixtureRequest, counts: Counter[str] | dict[str, int]) -> None:
    """Report faults a drill injected to the session summary (see conftest.py)."""
    cleaned = {kind: int(n) for kind, n in counts.items() if n}
    if cleaned:
        request.node.user_properties.append((LEDGER_PROPERTY, cleaned))


@dataclass(frozen=True)
class Inventory:
    """What a namespace owns on an endpoint, with the namespace taken out of every name."""

    stacks: dict[str, str]  # live stack -> status
    history: dict[str, int]  # stack name -> entries in ListStacks, deleted ones included
    change_sets: dict[str, list[str]]  # stack -> execution status of each change set left
    parameters: dict[str, str]
    topics: list[str]
    queues: list[str]
    outputs: dict[str, dict[str, str]]
    objects: list[str]  # keys in the namespace's default template bucket

    def stray_change_sets(self) -> dict[str, list[str]]:
        """Change sets not executed: the tool left them behind."""
        stray = {
            name: [s for s in statuses if s != "EXECUTE_COMPLETE"]
            for name, statuses in self.change_sets.items()
        }
        return {name: left for name, left in stray.items() if left}


def inventory(client: Callable[[str], Any], namespace: str) -> Inventory:
    """Everything ``namespace`` owns on the endpoint ``client`` talks to."""
    prefix = f"{namespace}-"

    def strip(text: str) -> str:
        return _HOST.sub("HOST", text.replace(namespace, "NS"))

    cfn = client("cloudformation")
    stacks: dict[str, str] = {}
    outputs: dict[str, dict[str, str]] = {}
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            if stack["StackName"].startswith(prefix):
                name = strip(stack["StackName"])
                if name in stacks:  # two live stacks of one name: report it as such
                    name += "#dup"
                stacks[name] = stack["StackStatus"]
                outputs[name] = {
                    o["OutputKey"]: strip(o["OutputValue"]) for o in stack.get("Outputs", [])
                }
    history: Counter[str] = Counter()
    for page in cfn.get_paginator("list_stacks").paginate():
        for summary in page["StackSummaries"]:
            if summary["StackName"].startswith(prefix):
                history[strip(summary["StackName"])] += 1
    change_sets: dict[str, list[str]] = {}
    for name in stacks:
        fqn = name.replace("NS", namespace, 1).removesuffix("#dup")
        summaries = cfn.list_change_sets(StackName=fqn)["Summaries"]
        change_sets[name] = sorted(s["ExecutionStatus"] for s in summaries)
    ssm = client("ssm")
    parameters: dict[str, str] = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/", Recursive=True):
        for param in page["Parameters"]:
            if param["Name"].startswith(f"/{prefix}"):
                parameters[strip(param["Name"])] = strip(param["Value"])
    topics = sorted(
        strip(t["TopicArn"].rsplit(":", 1)[1])
        for page in client("sns").get_paginator("list_topics").paginate()
        for t in page["Topics"]
        if t["TopicArn"].rsplit(":", 1)[1].startswith(prefix)
    )
    queue_urls = client("sqs").list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    queues = sorted(strip(url.rsplit("/", 1)[1]) for url in queue_urls)
    s3 = client("s3")
    bucket = default_bucket_name(namespace)
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    objects: list[str] = []
    if bucket in buckets:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            objects.extend(strip(o["Key"]) for o in page.get("Contents", []))
    return Inventory(
        stacks, dict(history), change_sets, parameters, topics, queues, outputs, sorted(objects)
    )


def project_build(
    url: str,
    config: Path,
    namespace: str,
    *,
    command: str = "build",
    listener: Any = None,
    max_attempts: int = 8,
    recreate_failed: bool = False,
    **values: str,
) -> Any:
    """Run the engine's build (or destroy) on ``config`` against ``url``; return the RunResult.

    The gateway is made as the CLI makes it (botocore's standard retry mode), so faults meet
    the same retry policy a user gets.
    """
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.aws.poller import PollPolicy
    from stackyard.aws.session import ClientFactory
    from stackyard.engine.run import RunOptions, build, destroy
    from stackyard.project import Project

    project = Project.load(
        str(config),
        overrides={"namespace": namespace, "value": "v1", **values},
        region=REGION,
    )
    gateway = CloudFormationGateway(ClientFactory(endpoint_url=url, max_attempts=max_attempts))
    poll = PollPolicy(min_interval=0.05, max_interval=0.5)
    options = RunOptions(recreate_failed=recreate_failed, poll=poll)
    run = build if command == "build" else destroy
    return run(project, options, gateway, listener)


def phases(result: Any) -> dict[str, str]:
    """Each stack's final phase, as text."""
    return {name: str(state.phase) for name, state in result.states.items()}
