"""Pre-flight schema check benchmark: what the check costs on the 12-stack ops example.

Each run is a fresh process (so reading the resource schemas is counted): it renders the
twelve stacks, then times ``check_template`` over all of them. Target (issue 12): under
0.5 s. Prints the median of the runs.

    python -m bench.bench_preflight [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

OPS = Path(__file__).resolve().parents[1] / "examples" / "ops"
TARGET_SECONDS = 0.5

_ONE_RUN = """
import json, sys, time
from stackyard.project import Project
from stackyard.template_check import check_template

project = Project.load(sys.argv[2], environment_file=sys.argv[1])
resolve = project.resolve_context()
templates = []
for name in project.graph.stacks:
    desired = project.render(name, resolve)
    templates.append((json.loads(desired.template_body), desired.region))
"""
_TIMED = """
import time
from stackyard import schemas
schemas._provider_map.cache_clear()
schemas._schema_by_hash.cache_clear()
start = time.perf_counter()
findings = sum(len(check_template(t, r)) for t, r in templates)
print(json.dumps({"seconds": time.perf_counter() - start, "stacks": len(templates),
                  "findings": findings}))
"""


def one_run() -> dict[str, float]:
    """Render the ops example in a fresh process and time the check, schemas read cold."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _ONE_RUN + _TIMED,
            str(OPS / "stage.env"),
            str(OPS / "stackyard.yaml"),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    median = statistics.median(r["seconds"] for r in runs)
    stacks = int(runs[0]["stacks"])
    print(
        f"pre-flight schema check, ops example ({stacks} stacks): median of {args.runs} "
        f"{median:.3f} s (target {TARGET_SECONDS} s, {median / TARGET_SECONDS:.2f}x of target)"
    )


if __name__ == "__main__":
    main()
