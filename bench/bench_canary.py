"""Canary rollouts on the local AWS: how soon the first step's weight is confirmed, and what a
rollout step costs in read calls.

An app (a web process behind the gateway's listener, and a worker) runs in ``stage``; its
canary ``stage/canary`` is deployed ``--rollouts`` times with steps 5,25,50, each step baked
for ``--bake`` seconds with health read every ``--poll`` seconds. The first deploy creates the
canary's stack, the others update it. The figures:

- time from ``deploy -e stage/canary`` to the first step's weight read back from the listener,
  and the part of it after the canary's ECS deployments completed (the rollout's own cost:
  finding the rules, ModifyRule, DescribeRules until it reads back);
- read calls per step, from the endpoint's call accounting (DescribeRules to confirm the
  weight, then per health reading a DescribeTargetHealth per exposed process, one
  DescribeServices and one DescribeAlarms), against the formula.

    python -m bench.bench_canary [--rollouts 3] [--bake 2] [--poll 0.5] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_apps import APPS as PARENT_APPS
from bench.bench_apps import INFRA

APPS = PARENT_APPS + "  stage/canary:\n    parent: stage\n"
MANIFEST = """\
processes:
  web: {command: bin/web, port: 8080, exposed: {host: api.example.com}, scale: 2}
  worker: {command: bin/worker}
"""
# (the endpoint's accounting names services by their SigV4 signing names)
READS = {
    ("elasticloadbalancing", "DescribeRules"),
    ("elasticloadbalancing", "DescribeTargetHealth"),
    ("ecs", "DescribeServices"),
    ("monitoring", "DescribeAlarms"),
}
STEPS = (5, 25, 50)


@dataclass
class Rollout:
    """One canary deploy's timings and per-step calls, taken from its progress callbacks."""

    accounting: Any
    started: float = field(default_factory=time.monotonic)
    ecs_done: float = 0.0
    to_first_weight: float = 0.0
    after_ecs: float = 0.0
    ok: bool = False
    steps: list[Counter[str]] = field(default_factory=list)

    def on_progress(self, rollout: Any) -> None:
        """ECS progress: a step's calls are counted from the ECS rollout's end."""
        if rollout.state == "COMPLETED":
            self.ecs_done = time.monotonic()
            self.accounting.reset()

    def on_step(self, step: Any) -> None:
        """Canary progress: the first confirmed weight, and each step's calls."""
        if step.phase == "confirmed" and step.step == 1:
            now = time.monotonic()
            self.to_first_weight = now - self.started
            self.after_ecs = now - (self.ecs_done or self.started)
        if step.phase == "baked":
            self.steps.append(_calls(self.accounting.reset()))


def _calls(snapshot: dict[str, Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for service, actions in snapshot.get("services", {}).items():
        for action, count in actions.items():
            counts[f"{service}:{action}"] += count
    return counts


def measure(rollouts: int = 3, bake: float = 2.0, poll: float = 0.5) -> dict[str, Any]:
    """Run the benchmark; its figures as plain data."""
    folder = Path(tempfile.mkdtemp(prefix="stackyard-bench-canary-"))
    os.environ["STACKYARD_HOME"] = str(folder / "home")
    (folder / "stackyard.yaml").write_text(INFRA)
    (folder / "apps.yaml").write_text(APPS)

    from stackyard.apps.db.database import Database
    from stackyard.apps.environments import load_environments
    from stackyard.apps.manifest import parse_manifest
    from stackyard.apps.rollout import CanaryPolicy
    from stackyard.apps.service import AppsService
    from stackyard.engine.run import RunOptions
    from stackyard.local.accounting import CallAccounting
    from stackyard.local.runner import LocalEndpoint
    from stackyard.project import Project
    from stackyard.workflow import build, connect

    latency = "resource=0.05s,AWS::ECS::Task=0.5s,AWS::ECS::HealthCheck=0.5s"
    accounting = CallAccounting()
    results: list[Rollout] = []
    with LocalEndpoint(latency=latency, wrap=[accounting]) as endpoint:
        gateway = connect(endpoint_url=endpoint.url, region="us-east-1")
        infra = build(Project.load(str(folder / "stackyard.yaml")), gateway, RunOptions())
        assert infra.ok, infra.summary()
        db = Database.open(f"sqlite:///{folder / 'apps.db'}")
        service = AppsService(db, load_environments(str(folder / "apps.yaml")), gateway, "bench")
        service.create("api", parse_manifest(MANIFEST, "api.yaml"))
        assert service.deploy("api", "stage", "registry.example.com/api:v1").exit_code == 0
        policy = CanaryPolicy(STEPS, bake=bake, poll=poll)
        for number in range(rollouts):
            result = Rollout(accounting)
            deployed = service.deploy(
                "api",
                "stage/canary",
                f"registry.example.com/api:c{number}",
                canary=policy,
                on_progress=result.on_progress,
                on_step=result.on_step,
            )
            result.ok = deployed.exit_code == 0
            results.append(result)
            print(
                f"  rollout {number + 1}: first weight confirmed after "
                f"{result.to_first_weight:.2f} s ({result.after_ecs:.3f} s after ECS completed)",
                flush=True,
            )
        db.close()
    readings = math.floor(bake / poll) + 1
    exposed, services = 1, 2
    formula = 1 + readings * (exposed + math.ceil(services / 10) + 1)
    steps = [s for r in results for s in r.steps]
    reads = [sum(c[f"{svc}:{a}"] for svc, a in READS) for c in steps]
    updates = results[1:] or results
    writes = [c["elasticloadbalancing:ModifyRule"] for c in steps]
    return {
        "rollouts": rollouts,
        "steps": list(STEPS),
        "bake_seconds": bake,
        "poll_seconds": poll,
        "all_succeeded": all(r.ok for r in results),
        "first_weight_seconds_create": round(results[0].to_first_weight, 2),
        "first_weight_seconds_update": round(
            statistics.median(r.to_first_weight for r in updates), 2
        ),
        "after_ecs_seconds": round(statistics.median(r.after_ecs for r in results), 3),
        "reads_per_step": round(statistics.median(reads), 1) if reads else None,
        "reads_per_step_formula": formula,
        "reads_per_step_by_call": {
            f"{svc}:{a}": statistics.median(c[f"{svc}:{a}"] for c in steps)
            for svc, a in sorted(READS)
        }
        if steps
        else {},
        "writes_per_step": statistics.median(writes) if writes else 0,
    }


def report(figures: dict[str, Any]) -> list[str]:
    """The markdown section of ``bench.run``'s report (ends with a blank line)."""
    by_call = ", ".join(
        f"{int(n) if float(n).is_integer() else n} {call.split(':')[1]}"
        for call, n in figures["reads_per_step_by_call"].items()
    )
    steps = ",".join(str(s) for s in figures["steps"])
    return [
        "## Canary rollouts (stackyard alone)",
        "",
        f"`apps deploy -e stage/canary --steps {steps} --bake {figures['bake_seconds']:g}s` "
        f"with health read every {figures['poll_seconds']:g} s, {figures['rollouts']} rollouts "
        "(the first creates the canary's stack), on the local AWS at 0.05 s per resource and "
        "0.5 s per task start and health check.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| deploy to first step's weight confirmed, creating the canary | "
        f"{figures['first_weight_seconds_create']:.2f} s |",
        f"| deploy to first step's weight confirmed, updating it (median) | "
        f"{figures['first_weight_seconds_update']:.2f} s |",
        f"| of which after the ECS deployments completed (median) | "
        f"{figures['after_ecs_seconds']:.3f} s |",
        f"| read calls per rollout step (median) | {figures['reads_per_step']} "
        f"(formula {figures['reads_per_step_formula']}: {by_call}) |",
        f"| ModifyRule calls per step | {figures['writes_per_step']} |",
        f"| every rollout succeeded | {'yes' if figures['all_succeeded'] else 'NO'} |",
        "",
    ]


def main() -> None:
    """Run the benchmark and print its figures (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rollouts", type=int, default=3)
    parser.add_argument("--bake", type=float, default=2.0)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args.rollouts, args.bake, args.poll)
    print("\n".join(report(figures)))
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
