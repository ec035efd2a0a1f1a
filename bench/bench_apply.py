"""Benchmark of build on the local endpoint: makespan vs critical path, read rate, no-op cost.

    .venv/bin/python bench/bench_apply.py [--runs 3] [--stacks 40] [--noop-stacks 100]

1. A generated 40-stack graph (seeded), the endpoint at 1 s per resource: build makespan over
   the graph's critical path, where each stack's cost is its CloudFormation operation time as
   the endpoint's own events record it (target <= 1.10).
2. CloudFormation read calls per second during that build, on average and in the busiest
   second, against the rate limiter's budget (must stay under it).
3. A no-op rebuild of 100 stacks: CloudFormation calls per stack (target <= 1.05), with the
   template cache the CLI uses (a cold cache costs one GetTemplate per stack: 1.01).

Prints medians over the runs as a small table.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from stackyard.aws.cloudformation import CloudFormationGateway
from stackyard.aws.limiter import CallStats
from stackyard.aws.session import ClientFactory, Location
from stackyard.aws.template_cache import TemplateCache
from stackyard.engine.run import RunOptions, build
from stackyard.local.runner import LocalEndpoint
from stackyard.project import Project

TEMPLATE = {
    "Parameters": {"Value": {"Type": "String"}},
    "Resources": {
        "Param": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "Value"}},
        }
    },
    "Outputs": {"Value": {"Value": {"Ref": "Value"}}},
}


class TimedStats(CallStats):
    """CallStats that also keeps when each read happened, for the busiest second."""

    def __init__(self) -> None:
        super().__init__()
        self.read_times: list[float] = []

    def record(self, action: str, *, read: bool, waited: float = 0.0) -> None:
        super().record(action, read=read, waited=waited)
        if read:
            self.read_times.append(time.monotonic())


def write_config(folder: Path, namespace: str, count: int, seed: int) -> Path:
    """A random DAG: each stack reads an output of up to two of the eight stacks before it."""
    rng = random.Random(seed)
    (folder / "t.json").write_text(json.dumps(TEMPLATE))
    lines = [f"namespace: {namespace}", "stacks:"]
    for index in range(count):
        earlier = list(range(max(0, index - 8), index))
        deps = rng.sample(earlier, k=min(len(earlier), rng.choice([0, 1, 1, 2])))
        value = "-".join([f"${{output s{d}::Value}}" for d in deps] or [f"v{index}"])
        lines.append(
            f"  - {{name: s{index}, template_path: t.json, variables: {{Value: '{value}'}}}}"
        )
    path = folder / f"{namespace}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def operation_seconds(client: Any, fqn: str) -> float:
    """The create operation's time as the endpoint's events record it."""
    events = client.describe_stack_events(StackName=fqn)["StackEvents"]
    stack_events = [e for e in events if e["LogicalResourceId"] == fqn]
    start = min(e["Timestamp"] for e in stack_events if e["ResourceStatus"] == "CREATE_IN_PROGRESS")
    end = max(e["Timestamp"] for e in stack_events if e["ResourceStatus"] == "CREATE_COMPLETE")
    return float((end - start).total_seconds())


def busiest_second(times: list[float]) -> int:
    best, left = 0, 0
    for right, now in enumerate(times):
        while times[left] < now - 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


def one_build(url: str, folder: Path, run: int, count: int) -> dict[str, float]:
    namespace = f"bench{run}"
    project = Project.load(
        str(write_config(folder, namespace, count, seed=run)), region="us-east-1"
    )
    stats = TimedStats()
    gateway = CloudFormationGateway(ClientFactory(endpoint_url=url), stats=stats)
    result = build(project, RunOptions(), gateway)
    if not result.ok:
        sys.exit(f"bench build failed: {result.summary()}")
    makespan = result.finished - result.started
    client = ClientFactory(endpoint_url=url).client("cloudformation", Location("us-east-1"))
    cost = {n: operation_seconds(client, project.fqn(n)) for n in project.graph.stacks}
    critical = project.graph.critical_path(cost)
    reads = stats.read_times
    span = max(reads[-1] - reads[0], 1e-9)
    burst = gateway.limiter.burst
    return {
        "makespan": makespan,
        "critical": critical,
        "ratio": makespan / critical,
        "reads_per_s": len(reads) / span,
        # The bucket starts full: beyond the first burst, reads may come at the budget's rate.
        "sustained_reads_per_s": max(0.0, len(reads) - burst) / span,
        "peak_reads_1s": float(busiest_second(reads)),
        "budget": gateway.limiter.rate,
        "burst": gateway.limiter.burst,
        "calls": float(stats.total),
    }


def noop_rebuild(folder: Path, count: int) -> dict[str, float]:
    with LocalEndpoint(latency="resource=0s") as endpoint:
        project = Project.load(
            str(write_config(folder, "noop", count, seed=99)), region="us-east-1"
        )
        # As the CLI does: templates submitted are cached, keyed by stack id and last change.
        cache = TemplateCache(folder / "template-cache")
        gateway = CloudFormationGateway(ClientFactory(endpoint_url=endpoint.url), templates=cache)
        if not build(project, RunOptions(), gateway).ok:
            sys.exit("bench: first build of the no-op graph failed")
        project = Project.load(str(folder / "noop.yaml"), region="us-east-1")
        gateway = CloudFormationGateway(ClientFactory(endpoint_url=endpoint.url), templates=cache)
        started = time.monotonic()
        result = build(project, RunOptions(), gateway)
        took = time.monotonic() - started
        if result.count(*()) or not result.ok:
            sys.exit(f"bench: no-op rebuild was not a no-op: {result.summary()}")
        calls = Counter(gateway.stats.snapshot())
        return {
            "calls": float(sum(calls.values())),
            "per_stack": sum(calls.values()) / count,
            "seconds": took,
            "describe": float(calls["DescribeStacks"]),
            "templates": float(calls["GetTemplate"]),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stacks", type=int, default=40)
    parser.add_argument("--noop-stacks", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs = []
        with LocalEndpoint(latency="resource=1s") as endpoint:
            for run in range(args.runs):
                runs.append(one_build(endpoint.url, folder, run, args.stacks))
        noop = noop_rebuild(folder, args.noop_stacks)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    rows = [
        (f"build {args.stacks} stacks: makespan", f"{med('makespan'):.2f} s", ""),
        ("  critical path (endpoint's own times)", f"{med('critical'):.2f} s", ""),
        ("  makespan / critical path", f"{med('ratio'):.3f}", "target <= 1.10"),
        (
            "  CFN reads per second (average)",
            f"{med('reads_per_s'):.2f}",
            f"budget {med('budget'):.0f}/s, burst {med('burst'):.0f}",
        ),
        (
            "  CFN reads in the busiest second",
            f"{med('peak_reads_1s'):.0f}",
            f"<= burst + budget = {med('burst') + med('budget'):.0f}",
        ),
        (
            "  sustained reads / budget",
            f"{med('sustained_reads_per_s') / med('budget'):.2f}",
            "(reads - initial burst) / time / budget; must be <= 1",
        ),
        ("  CFN calls in total", f"{med('calls'):.0f}", ""),
        (
            f"no-op rebuild {args.noop_stacks} stacks: calls",
            f"{noop['calls']:.0f}",
            f"{noop['describe']:.0f} DescribeStacks + {noop['templates']:.0f} GetTemplate",
        ),
        ("  CFN calls per stack", f"{noop['per_stack']:.3f}", "target <= 1.05"),
        ("  wall time", f"{noop['seconds']:.2f} s", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"bench_apply: medians of {args.runs} runs (local endpoint, 1 s per resource)")
    for label, value, note in rows:
        print(f"{label:<{width}}  {value:>10}  {note}")


if __name__ == "__main__":
    main()
