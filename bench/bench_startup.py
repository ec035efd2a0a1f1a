"""Start-up benchmark: `stackyard --help` and `stackyard graph` on a 100-stack config.

Targets (issue "Desired state"): --help under 0.3 s, graph of 100 stacks under 1 s.
Prints medians of several runs and the ratio to each target.

    python -m bench.bench_startup [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STACKYARD = Path(sys.executable).with_name("stackyard")


def generated_config(stacks: int) -> str:
    """A chain-and-fan graph: each stack reads an output of its predecessor and of its half."""
    lines = ["namespace: bench", "stacks:"]
    for i in range(stacks):
        lines.append(f"  - name: s{i}\n    class_path: blueprints.Thing")
        if i:
            lines.append("    variables:")
            lines.append(f"      Up: ${{output s{i - 1}::Out}}")
            lines.append(f"      Half: ${{output s{i // 2}::Out}}")
    return "\n".join(lines) + "\n"


def median_seconds(command: list[str], runs: int) -> float:
    """Median wall time of ``runs`` runs of ``command`` (after one warm-up run)."""
    subprocess.run(command, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "stackyard.yaml"
        config.write_text(generated_config(100))
        rows = [
            ("stackyard --help", [str(STACKYARD), "--help"], 0.3),
            ("stackyard graph (100 stacks)", [str(STACKYARD), "graph", str(config)], 1.0),
        ]
        print("| command | median (s) | target (s) | median/target |")
        print("|---|---|---|---|")
        for label, command, target in rows:
            seconds = median_seconds(command, args.runs)
            print(f"| {label} | {seconds:.3f} | {target:.1f} | {seconds / target:.2f} |")


if __name__ == "__main__":
    main()
