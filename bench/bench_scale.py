"""stackyard alone at growing sizes: does the cost per stack stay flat?

    python -m bench.bench_scale                    # 10, 100, 300 and 1,000 stacks
    python -m bench.bench_scale --sizes 10,300

For each size, a generated layered graph (``bench/workload.py``, 3 resources per stack) on a
fresh local endpoint at 0 s per resource, driven through the CLI as a user runs it: ``graph``,
``render`` (to a folder), the cold ``build`` that deploys it, ``diff`` (the plan, with nothing
to change) and a no-op ``build``. Per command: wall time, CloudFormation calls (the endpoint's
accounting) and peak memory (max RSS of the command), the first two also per stack.

Target: a no-op rebuild of 1,000 stacks costs at most 10 CloudFormation calls.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.workload import REGION, generate

__all__ = ["ScaleRow", "measure", "scale_table"]

# Sizes: stacks -> depth of the generated graph.
SCALE_DEPTHS = {10: 3, 40: 5, 100: 6, 300: 8, 1000: 10}
NOOP_CALLS_LIMIT = 10  # a no-op rebuild of 1,000 stacks
COMMANDS = ("graph", "render", "cold build", "plan (diff)", "no-op rebuild")


@dataclass(frozen=True)
class ScaleRow:
    """One command at one size."""

    stacks: int
    command: str
    wall: float
    calls: int
    peak_mib: float
    status: int


def measure(stacks: int, log: Path) -> list[ScaleRow]:
    """Run the commands, in order, on a fresh endpoint; stop at the first that fails."""
    from bench.run import COMMAND_TIMEOUT, RESOURCES_PER_STACK, SETTINGS, WORK, run_measured
    from stackyard.local.middleware import CallAccounting
    from stackyard.local.runner import LocalEndpoint

    workload = generate(stacks, SCALE_DEPTHS[stacks], RESOURCES_PER_STACK, seed=stacks)
    folder = WORK / "scale" / f"s{stacks}"
    shutil.rmtree(folder, ignore_errors=True)
    setting = SETTINGS["stackyard"]
    project = workload.write("stackyard", folder, f"sc{stacks}", setting.command)
    program, config = str(setting.command), "stackyard.yaml"
    argvs = {
        "graph": [program, "graph", config],
        "render": [program, "render", "--region", REGION, "--out", "rendered", config],
        "cold build": project.deploy,
        "plan (diff)": [program, "diff", "--region", REGION, config],
        "no-op rebuild": project.deploy,
    }
    rows = []
    calls = CallAccounting()
    with LocalEndpoint(latency="resource=0s", wrap=[calls]) as endpoint:
        env = setting.env(endpoint.url)
        for command in COMMANDS:
            calls.reset()
            status, wall, peak, _ = run_measured(argvs[command], folder, env, log, COMMAND_TIMEOUT)
            made = calls.snapshot()["clients"].get("stackyard", {})
            cfn = sum(v for k, v in made.items() if k.startswith("cloudformation:"))
            rows.append(ScaleRow(stacks, command, wall, cfn, peak / 1024, status))
            if status:
                break
    return rows


def scale_table(sizes: tuple[int, ...]) -> list[str]:
    """Measure every size; the report's markdown section (ends with a blank line)."""
    from bench.run import WORK

    WORK.mkdir(parents=True, exist_ok=True)
    log = WORK / "scale.log"
    log.write_text("")
    rows = []
    for stacks in sizes:
        measured = measure(stacks, log)
        rows += measured
        print(
            f"  scale {stacks} stacks: "
            + ", ".join(f"{r.command} {r.wall:.1f}s" for r in measured),
            flush=True,
        )
    lines = [
        "## Scale (stackyard alone, 0 s per resource)",
        "",
        "One run per size, through the CLI; calls are CloudFormation calls at the endpoint; "
        "peak memory is the command's max RSS.",
        "",
        "Marginal: the extra wall time per extra stack since the size before.",
        "",
        "| command | stacks | wall s | ms per stack | marginal ms per stack | CFN calls "
        "| calls per stack | peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for command in COMMANDS:
        before = None
        for r in (r for r in rows if r.command == command):
            failed = f" (exit {r.status})" if r.status else ""
            marginal = ""
            if before is not None:
                marginal = f"{1000 * (r.wall - before.wall) / (r.stacks - before.stacks):.1f}"
            lines.append(
                f"| {command}{failed} | {r.stacks} | {r.wall:.2f} | {1000 * r.wall / r.stacks:.1f} "
                f"| {marginal} | {r.calls} | {r.calls / r.stacks:.3f} | {r.peak_mib:.0f} |"
            )
            before = r
    noop = next((r for r in rows if (r.stacks, r.command) == (1000, "no-op rebuild")), None)
    if noop is not None:
        verdict = "met" if noop.calls <= NOOP_CALLS_LIMIT and not noop.status else "MISSED"
        lines += [
            "",
            f"Target: a no-op rebuild of 1,000 stacks in ≤ {NOOP_CALLS_LIMIT} CloudFormation "
            f"calls: {noop.calls} calls, {verdict}.",
        ]
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    """Print the scaling table for the sizes asked for."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10,100,300,1000",
        help=f"comma-separated stack counts among {', '.join(map(str, SCALE_DEPTHS))}",
    )
    args = parser.parse_args(argv)
    sizes = tuple(int(n) for n in args.sizes.split(","))
    if not set(sizes) <= set(SCALE_DEPTHS):
        parser.error(f"sizes are among {', '.join(map(str, SCALE_DEPTHS))}")
    print("\n".join(scale_table(sizes)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
