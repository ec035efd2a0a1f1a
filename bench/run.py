"""stackyard against stacker 1.7.2, sceptre 4.7 and runway 2.8 on one local endpoint.

    python -m bench.run --quick      # make bench: under 8 minutes on 2 idle cores
    python -m bench.run --full       # make bench-full: every size, latency and setting
    python -m bench.run --quick --tools stacker,sceptre      # stackyard and a subset of peers

Each tool gets the same generated graph (``bench/workload.py``) in its own project format and
runs against an in-process ``LocalEndpoint`` (0 s or 1 s per resource), a fresh one per cycle,
reached through ``AWS_ENDPOINT_URL``. A cycle is five scenarios: cold build; no-op rebuild; one
leaf changed; one root changed (the change cascades downstream); destroy. A plan (``--quick``,
``--full``) is a list of blocks (size, latency, peers, repetitions); each repetition runs a
stackyard cycle and then a peer's, back to back, for each peer in turn, and each ratio is taken
within such a pair.

Figures per tool and scenario: wall time of the command; the first stack operation after the
command's start; makespan (first stack operation started to last one finished, from the
endpoint's own stack events) over the critical path (the longest chain of changed stacks, each
costing the latency of one resource, or its operation's time in the endpoint's events);
CloudFormation calls by action (the endpoint's per-client accounting, each tool under its own
``AWS_SDK_UA_APP_ID``) and the command's peak memory (max RSS, taken by a small launcher
process). stacker and runway run with their defaults (30 s stack poll time, what users get) and
tuned (poll time 1 s); sceptre has no such setting (it polls every 4 s). A peer whose
virtualenv cannot be installed is skipped, saying so.

Prints a markdown report (per-pair ratios stackyard/peer with their range, stackyard's targets
with their value in every run, the scaling table of ``bench/bench_scale.py``, the canary
rollout figures of ``bench/bench_canary.py``, then medians of every figure) and writes it to
``bench/results/<date>-<quick|full>.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.bench_canary import measure as canary_figures
from bench.bench_canary import report as canary_report
from bench.bench_scale import scale_table
from bench.peers import PEERS, install, peer_bin
from bench.peers_smoke import peer_env
from bench.workload import REGION, ToolProject, Workload, generate

__all__ = ["Measurement", "Plan", "Setting", "main"]

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "run"
RESULTS = HERE / "results"
STACKYARD = Path(sys.executable).with_name("stackyard")
SCENARIOS = ("cold", "noop", "leaf", "root", "destroy")
SCENARIO_TITLES = {
    "cold": "cold build",
    "noop": "no-op rebuild",
    "leaf": "one leaf changed",
    "root": "one root changed",
    "destroy": "destroy",
}
COMMAND_TIMEOUT = 1800
TUNED_POLL = 1
ABBREVIATIONS = {
    "DescribeStacks": "DS",
    "DescribeStackEvents": "DSE",
    "DescribeStackResources": "DSR",
    "GetTemplate": "GT",
    "GetTemplateSummary": "GTS",
    "CreateStack": "CS",
    "UpdateStack": "US",
    "DeleteStack": "Del",
    "CreateChangeSet": "CCS",
    "DescribeChangeSet": "DCS",
    "ExecuteChangeSet": "ECS",
    "DeleteChangeSet": "DelCS",
    "ListStacks": "LS",
    "ValidateTemplate": "VT",
}

# Sizes: stacks -> depth of the generated graph.
DEPTHS = {10: 3, 40: 5, 100: 6}
RESOURCES_PER_STACK = 3


@dataclass(frozen=True)
class Setting:
    """One way of running one tool: stackyard, or a peer with its default or tuned poll time."""

    key: str
    tool: str
    label: str
    poll: int | None = None  # stacker's / runway's stack poll time; None keeps the default

    @property
    def command(self) -> Path:
        """The tool's program."""
        if self.tool == "stackyard":
            return STACKYARD
        return peer_bin(PEERS[self.tool]) / PEERS[self.tool].command

    def env(self, url: str) -> dict[str, str]:
        """The command's environment: the endpoint, dummy credentials, the tool's app id."""
        if self.tool != "stackyard":
            return peer_env(url, self.tool, self.poll)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "VIRTUAL_ENV", "PYTHON", "STACKYARD_"))
        }
        env.update(
            AWS_ENDPOINT_URL=url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            AWS_SDK_UA_APP_ID="stackyard",
            STACKYARD_HOME=str(WORK / "home"),
            NO_COLOR="1",
        )
        return env


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("stackyard", "stackyard", "stackyard"),
        Setting("stacker", "stacker", f"stacker (poll {TUNED_POLL} s)", TUNED_POLL),
        Setting("sceptre", "sceptre", "sceptre"),
        Setting("runway", "runway", f"runway (poll {TUNED_POLL} s)", TUNED_POLL),
        Setting("stacker-default", "stacker", "stacker (default, poll 30 s)"),
        Setting("runway-default", "runway", "runway (default, poll 30 s)"),
    )
}


@dataclass(frozen=True)
class Block:
    """One graph size at one latency: ``reps`` repetitions of stackyard paired with each peer.

    A repetition runs, back to back, a stackyard cycle and then a peer's, for each peer in
    turn (stackyard, peer A, stackyard, peer B, ...), so each ratio compares two cycles run
    seconds apart, under the same load. stackyard runs ``reps`` times per peer.
    """

    stacks: int
    latency: float
    peers: tuple[str, ...]
    reps: int
    scenarios: tuple[str, ...] = SCENARIOS

    def schedule(self) -> list[tuple[int, str | None]]:
        """(repetition, peer) in run order; a block without peers runs stackyard alone."""
        return [(rep, peer) for rep in range(self.reps) for peer in (self.peers or (None,))]


@dataclass(frozen=True)
class Plan:
    """What a ``--quick`` or ``--full`` run measures."""

    name: str
    blocks: tuple[Block, ...]
    help_runs: int
    scale: tuple[int, ...] = ()  # sizes for bench.bench_scale (stackyard alone); () skips it
    canary: bool = False  # bench.bench_canary's rollouts (stackyard alone, about 20 s)


PEER_BEST = ("stacker", "sceptre", "runway")
PEER_DEFAULT = ("stacker-default", "runway-default")

# Quick: under 8 minutes on 2 idle cores. stackyard is paired with stacker and runway on the
# 40-stack graph at 1 s per resource, and runs a fifth cycle alone there so that each of its
# targets has five runs; sceptre's fixed 4 s poll makes a 10-stack cycle take about a minute,
# so it meets stackyard on the 10-stack graph at 0 s. The scale table goes to 1,000 stacks
# (about 30 s for that point).
QUICK = Plan(
    "quick",
    (
        Block(40, 1.0, ("stacker", "runway"), reps=2),
        Block(40, 1.0, (), reps=1),
        Block(10, 0.0, ("sceptre",), reps=2),
    ),
    help_runs=7,
    scale=(10, 100, 300, 1000),
    canary=True,
)
# Full: hours, mostly stacker's and runway's 30 s default poll; those repeat once.
FULL = Plan(
    "full",
    tuple(
        block
        for stacks in DEPTHS
        for latency in (0.0, 1.0)
        for block in (
            Block(stacks, latency, PEER_BEST, reps=3),
            Block(stacks, latency, PEER_DEFAULT, reps=1),
        )
    ),
    help_runs=9,
    scale=(10, 100, 300, 1000),
    canary=True,
)


@dataclass
class Measurement:
    """One scenario of one cycle of one setting."""

    setting: str
    stacks: int
    latency: float
    scenario: str
    wall: float
    calls: Counter[str]
    peak_kib: int
    makespan: float | None
    critical: float
    observed_critical: float | None  # the critical path with the endpoint's own stack times
    first_op: float | None  # the command's start to its first stack operation, in seconds
    ok: bool
    note: str = ""
    pair: int = -1  # the stackyard cycle and the peer cycle run back to back share a number


# running commands ---------------------------------------------------------------------------


# Runs the tool as its child and reports the child's wall time and peak RSS. The tool must not
# be forked from this process directly: on Linux a child's max RSS counts what its parent held
# when it forked, and this process holds the endpoint.
MEASURING_LAUNCHER = """
import resource, subprocess, sys, time
clock, started = time.time(), time.monotonic()
status = subprocess.call(sys.argv[2:])
wall = time.monotonic() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as out:
    out.write(f"{wall} {peak} {clock}")
sys.exit(status)
"""


def run_measured(
    argv: Sequence[str], cwd: Path, env: dict[str, str], log: Path, timeout: float
) -> tuple[int, float, int, float]:
    """Run a command; (exit status, wall seconds, peak RSS in KiB, start as a Unix time)."""
    figures = log.with_name("last-command.figures")
    figures.unlink(missing_ok=True)
    # The endpoint serves from this process: collect the last cycle's garbage now, so that
    # a collection does not pause the endpoint in the middle of the command being measured.
    gc.collect()
    with open(log, "a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        started, clock = time.monotonic(), time.time()
        launcher = [sys.executable, "-I", "-c", MEASURING_LAUNCHER, str(figures), *argv]
        process = subprocess.Popen(
            launcher,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timer = threading.Timer(timeout, lambda: _kill_group(process.pid))
        timer.start()
        try:
            status = process.wait()
        finally:
            timer.cancel()
        wall, peak = time.monotonic() - started, 0
        if figures.exists():
            measured_wall, measured_peak, measured_clock = figures.read_text().split()
            wall, peak, clock = float(measured_wall), int(measured_peak), float(measured_clock)
        out.write(f"[exit {status} in {wall:.2f}s, peak {peak} KiB]\n")
    return status, wall, peak, clock


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


# the endpoint's view ------------------------------------------------------------------------


def _live(emulator: Any, names: Iterable[str]) -> dict[str, Any]:
    wanted = set(names)
    with emulator.lock:
        return {
            stack.name: stack
            for stack in emulator.stacks.values()
            if stack.name in wanted and not stack.deleted
        }


def stack_operations(
    emulator: Any, names: Iterable[str], since: dt.datetime
) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """Per stack name, when its operations since ``since`` started and when the last ended.

    From the endpoint's own stack events; stacks with no finished operation are left out.
    """
    wanted = set(names)
    found: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    with emulator.lock:
        for stack in emulator.stacks.values():
            if stack.name not in wanted:
                continue
            events = [
                e for e in stack.events if e.logical_id == stack.name and e.timestamp >= since
            ]
            starts = [e.timestamp for e in events if e.status.endswith("_IN_PROGRESS")]
            ends = [e.timestamp for e in events if e.status.endswith(("_COMPLETE", "_FAILED"))]
            if starts and ends:
                first, last = min(starts), max(ends)
                if stack.name in found:  # a name deleted and made again: keep the whole span
                    first, last = min(first, found[stack.name][0]), max(last, found[stack.name][1])
                found[stack.name] = (first, last)
    return found


def check_state(emulator: Any, project: ToolProject, workload: Workload | None) -> str:
    """'' if the deployed stacks match ``workload`` (None: all deleted), else what is wrong."""
    live = _live(emulator, project.stack_names.values())
    if workload is None:
        return f"{len(live)} stacks left after destroy" if live else ""
    problems = []
    for stack, name in project.stack_names.items():
        deployed = live.get(name)
        if deployed is None:
            problems.append(f"{name} missing")
        elif deployed.status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            problems.append(f"{name} {deployed.status}")
        elif deployed.parameters.get("Version") != workload.version(stack):
            problems.append(f"{name} at {deployed.parameters.get('Version')}")
    return "; ".join(problems[:3]) + (f" (+{len(problems) - 3})" if len(problems) > 3 else "")


# one cycle ----------------------------------------------------------------------------------


def run_cycle(
    setting: Setting, block: Block, run: int, log: Path, pair: int = -1
) -> list[Measurement]:
    """The block's scenarios, in cycle order, on a fresh endpoint; a cold build comes first.

    A fresh endpoint per cycle keeps every tool's view of the account the same: nothing left
    by another tool shows up in its listings, and nothing a destroy left behind gets in the way.
    """
    from stackyard.local.middleware import CallAccounting
    from stackyard.local.runner import LocalEndpoint

    base = generate(block.stacks, DEPTHS[block.stacks], RESOURCES_PER_STACK, seed=block.stacks)
    leaf = base.leaf_changed()
    root = leaf.root_changed()
    namespace = f"{setting.key.replace('-default', 'd')[:4]}{block.stacks}l{block.latency:g}r{run}"
    folder = WORK / setting.key / namespace
    shutil.rmtree(folder, ignore_errors=True)
    everything = dict.fromkeys(base.stacks, block.latency)
    steps: dict[str, tuple[Workload, dict[str, float]]] = {
        "cold": (base, everything),
        "noop": (base, {}),
        "leaf": (leaf, dict.fromkeys(leaf.changed_stacks(base), block.latency)),
        "root": (root, dict.fromkeys(root.changed_stacks(leaf), block.latency)),
        "destroy": (base, everything),
    }
    wanted = [s for s in SCENARIOS if s in block.scenarios or s == "cold"]
    if "root" in wanted and "leaf" not in wanted:
        wanted.insert(wanted.index("root"), "leaf")  # the root scenario starts from the leaf one
    results = []
    deployed = base
    calls = CallAccounting()
    with LocalEndpoint(latency=f"resource={block.latency:g}s", wrap=[calls]) as endpoint:
        # Measure the tools, not the endpoint's warm-up (as `local up` waits for it): in the
        # first cycle it imports moto's models while the first command would be calling.
        if not endpoint.emulator.warm.wait(120):
            sys.exit("bench: the local endpoint did not finish warming up")
        env = setting.env(endpoint.url)
        for scenario in wanted:
            workload, cost = steps[scenario]
            expected: Workload | None = workload
            if scenario == "destroy":
                workload, expected = deployed, None  # the project as last deployed
            deployed = workload
            project = workload.write(setting.tool, folder, namespace, setting.command)
            argv = project.destroy if scenario == "destroy" else project.deploy
            calls.reset()
            since = dt.datetime.now(dt.UTC)
            status, wall, peak, clock = run_measured(argv, folder, env, log, COMMAND_TIMEOUT)
            made = calls.snapshot()["clients"].get(setting.tool, {})
            cfn = Counter(
                {k.split(":", 1)[1]: v for k, v in made.items() if k.startswith("cloudformation:")}
            )
            emulator = endpoint.emulator
            problem = f"exit {status}" if status else check_state(emulator, project, expected)
            spans = stack_operations(emulator, project.stack_names.values(), since)
            makespan = observed = first_op = None
            if spans:
                first = min(start for start, _ in spans.values())
                makespan = (max(end for _, end in spans.values()) - first).total_seconds()
                first_op = first.timestamp() - clock
                took = {
                    stack: (spans[name][1] - spans[name][0]).total_seconds()
                    for stack, name in project.stack_names.items()
                    if name in spans and stack in cost
                }
                observed = workload.critical_path(took)
            results.append(
                Measurement(
                    setting.key,
                    block.stacks,
                    block.latency,
                    scenario,
                    wall,
                    cfn,
                    peak,
                    makespan,
                    workload.critical_path(cost),
                    observed,
                    first_op,
                    not problem,
                    problem,
                    pair,
                )
            )
            if problem:
                print(f"    {scenario}: FAILED ({problem}; log {log})", flush=True)
                break  # the cycle cannot go on from an unknown state
    return [m for m in results if m.scenario in block.scenarios]


# the report ---------------------------------------------------------------------------------


@dataclass
class Summary:
    """The median of one (setting, size, latency, scenario) over its runs."""

    setting: str
    stacks: int
    latency: float
    scenario: str
    wall: float
    calls: float
    by_action: dict[str, float]
    peak_mib: float
    makespan: float | None
    critical: float
    observed_critical: float | None
    first_op: float | None
    runs: int
    failed: int

    @property
    def ratio_to_critical(self) -> float | None:
        """Makespan over the critical path, when both mean something."""
        if self.makespan is None or self.critical <= 0:
            return None
        return self.makespan / self.critical

    @property
    def ratio_to_observed(self) -> float | None:
        """Makespan over the critical path made of the endpoint's own stack operation times."""
        if self.makespan is None or not self.observed_critical:
            return None
        return self.makespan / self.observed_critical


def summarize(measurements: list[Measurement]) -> list[Summary]:
    """Medians per (setting, stacks, latency, scenario), failed runs left out of them."""
    groups: dict[tuple[str, int, float, str], list[Measurement]] = {}
    for m in measurements:
        groups.setdefault((m.setting, m.stacks, m.latency, m.scenario), []).append(m)
    summaries = []
    for (setting, stacks, latency, scenario), group in groups.items():
        good = [m for m in group if m.ok] or group
        actions = sorted({a for m in good for a in m.calls})
        spans = [m.makespan for m in good if m.makespan is not None]
        observed = [m.observed_critical for m in good if m.observed_critical]
        firsts = [m.first_op for m in good if m.first_op is not None]
        summaries.append(
            Summary(
                setting,
                stacks,
                latency,
                scenario,
                statistics.median(m.wall for m in good),
                statistics.median(m.calls.total() for m in good),
                {a: statistics.median(m.calls[a] for m in good) for a in actions},
                statistics.median(m.peak_kib for m in good) / 1024,
                statistics.median(spans) if spans else None,
                good[0].critical,
                statistics.median(observed) if observed else None,
                statistics.median(firsts) if firsts else None,
                len(group),
                sum(not m.ok for m in group),
            )
        )
    return summaries


def _actions(by_action: dict[str, float]) -> str:
    parts = sorted(by_action.items(), key=lambda kv: (-kv[1], kv[0]))
    return " ".join(f"{ABBREVIATIONS.get(a, a)} {v:g}" for a, v in parts if v)


def _latency(latency: float) -> str:
    return f"{latency:g} s"


Cell = tuple[str, int, float, str]  # (peer setting, stacks, latency, scenario)


def pairs(measurements: list[Measurement]) -> dict[Cell, list[tuple[Measurement, Measurement]]]:
    """Per peer, size, latency and scenario: (stackyard's, the peer's) of each back-to-back pair."""
    grouped: dict[tuple[int, str], list[Measurement]] = {}
    for m in measurements:
        if m.pair >= 0:
            grouped.setdefault((m.pair, m.scenario), []).append(m)
    found: dict[Cell, list[tuple[Measurement, Measurement]]] = {}
    for group in grouped.values():
        ours = next((m for m in group if m.setting == "stackyard"), None)
        theirs = next((m for m in group if m.setting != "stackyard"), None)
        if ours is not None and theirs is not None:
            cell = (theirs.setting, theirs.stacks, theirs.latency, theirs.scenario)
            found.setdefault(cell, []).append((ours, theirs))
    return found


def pair_ratios(
    found: list[tuple[Measurement, Measurement]], figure: Callable[[Measurement], float]
) -> list[float]:
    """stackyard's figure over the peer's, per pair in which both runs succeeded."""
    return [
        figure(ours) / figure(theirs)
        for ours, theirs in found
        if ours.ok and theirs.ok and figure(theirs) > 0
    ]


def _spread(values: list[float]) -> str:
    """Median (min-max) of the per-pair ratios."""
    if not values:
        return "failed"
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:.2f}"
    return f"{middle:.2f} ({min(values):.2f}-{max(values):.2f})"


def ratio_table(
    found: dict[Cell, list[tuple[Measurement, Measurement]]],
    peers: list[str],
    figure: Callable[[Measurement], float],
) -> list[str]:
    """Rows per (size, latency, scenario); a column per peer: median (range) of pair ratios."""
    header = "| stacks | latency | scenario | " + " | ".join(SETTINGS[p].label for p in peers)
    lines = [header + " |", "|---:|---:|---|" + "---|" * len(peers)]
    keys = sorted({(stacks, latency, SCENARIOS.index(s)) for _, stacks, latency, s in found})
    for stacks, latency, order in keys:
        scenario = SCENARIOS[order]
        cells = [
            _spread(pair_ratios(found[cell], figure)) if cell in found else ""
            for cell in ((peer, stacks, latency, scenario) for peer in peers)
        ]
        row = f"| {stacks} | {_latency(latency)} | {SCENARIO_TITLES[scenario]} | "
        lines.append(row + " | ".join(cells) + " |")
    return lines


def absolute_table(summaries: list[Summary]) -> list[str]:
    """Every figure measured, per size, latency, scenario and setting."""
    order = list(SETTINGS)
    lines = [
        "| stacks | latency | scenario | tool | wall s | first op s "
        "| makespan / critical path | CFN calls | by action | peak MiB | runs |",
        "|---:|---:|---|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for s in sorted(
        summaries,
        key=lambda s: (s.stacks, s.latency, SCENARIOS.index(s.scenario), order.index(s.setting)),
    ):
        ratio = s.ratio_to_critical
        span = ""
        if ratio is not None:
            span = f"{s.makespan:.2f} / {s.critical:.0f} = {ratio:.2f}"
            if s.ratio_to_observed is not None:
                span += f" ({s.ratio_to_observed:.2f})"
        first = f"{s.first_op:.2f}" if s.first_op is not None else ""
        runs = f"{s.runs}" + (f" ({s.failed} failed)" if s.failed else "")
        lines.append(
            f"| {s.stacks} | {_latency(s.latency)} | {SCENARIO_TITLES[s.scenario]} "
            f"| {SETTINGS[s.setting].label} | {s.wall:.2f} | {first} | {span} | {s.calls:g} "
            f"| {_actions(s.by_action)} | {s.peak_mib:.0f} | {runs} |"
        )
    return lines


@dataclass(frozen=True)
class Target:
    """One of stackyard's targets: its value in each run against its limit."""

    name: str
    limit: float
    values: tuple[float, ...]
    strict: bool = False  # below the limit, not at it

    def met_by(self, value: float) -> bool:
        """Whether one run's value meets the target."""
        return value < self.limit if self.strict else value <= self.limit

    def row(self) -> str:
        """A markdown table row: the values per run, the worst over the limit, the verdict."""
        if not self.values:
            return f"| {self.name} |  |  | not measured |"
        missed = sum(not self.met_by(v) for v in self.values)
        runs = len(self.values)
        verdict = f"met in {runs} of {runs}" if not missed else f"MISSED in {missed} of {runs}"
        values = ", ".join(f"{v:.3f}" for v in self.values)
        return f"| {self.name} | {values} | {max(self.values) / self.limit:.3f} | {verdict} |"


TARGET_STACKS = 40  # the graph stackyard's makespan and start-up targets are measured on


def targets(
    measurements: list[Measurement],
    found: dict[Cell, list[tuple[Measurement, Measurement]]],
    help_seconds: float | None,
) -> list[Target]:
    """stackyard's targets, each with its value in every run that measures it."""
    cold = [
        m
        for m in measurements
        if (m.setting, m.stacks, m.latency, m.scenario) == ("stackyard", TARGET_STACKS, 1.0, "cold")
        and m.ok
        and m.makespan is not None
    ]
    where = f"({TARGET_STACKS} stacks, 1 s/resource, cold build)"
    leaf = pair_ratios(found.get(("stacker", TARGET_STACKS, 1.0, "leaf"), []), lambda m: m.wall)
    calls = [
        max(pair_ratios(cell, lambda m: m.calls.total()), default=0.0) for cell in found.values()
    ]
    return [
        Target(
            f"makespan ÷ measured critical path ≤ 1.05 {where}",
            1.05,
            tuple(
                m.makespan / m.observed_critical for m in cold if m.makespan and m.observed_critical
            ),
        ),
        Target(
            f"makespan ÷ nominal critical path ≤ 1.08 {where}",
            1.08,
            tuple(m.makespan / m.critical for m in cold if m.makespan and m.critical),
        ),
        Target(
            f"first stack operation ≤ 0.3 s after the command's start {where}",
            0.3,
            tuple(m.first_op for m in cold if m.first_op is not None),
        ),
        Target(
            f"one leaf changed: wall time ÷ stacker's (poll {TUNED_POLL} s) < 1, per pair "
            f"({TARGET_STACKS} stacks, 1 s/resource)",
            1.0,
            tuple(leaf),
            strict=True,
        ),
        Target(
            "CFN calls ÷ the peer's < 1 in every scenario (the worst pair of each cell)",
            1.0,
            (max(calls),) if calls else (),
            strict=True,
        ),
        Target(
            "`stackyard --help` < 0.3 s (median after one warm-up)",
            0.3,
            (help_seconds,) if help_seconds is not None else (),
            strict=True,
        ),
    ]


# the run ------------------------------------------------------------------------------------


def machine() -> str:
    """Cores, memory, OS and Python of this machine."""
    memory = ""
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB memory"
    except (OSError, StopIteration, ValueError):
        pass
    return (
        f"{os.cpu_count()} cores{memory}, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def versions(available: list[str]) -> str:
    """stackyard's, moto's and each available peer's version."""
    from importlib.metadata import version

    parts = [f"stackyard {version('stackyard')}", f"moto {version('moto')}"]
    for tool in ("stacker", "sceptre", "runway"):
        if tool not in available:
            continue
        out = subprocess.run(
            [str(peer_bin(PEERS[tool]) / PEERS[tool].command), "--version"],
            capture_output=True,
            text=True,
            check=False,
        )
        found = re.search(r"\d+\.\d+(?:\.\d+)?", out.stdout or out.stderr)
        parts.append(f"{tool} {found.group(0) if found else '(version unknown)'}")
    return ", ".join(parts)


def available_peers(wanted: set[str]) -> tuple[list[str], list[str]]:
    """Install the peers that are missing; (installed tools, notes on the ones skipped)."""
    tools: list[str] = []
    skipped: list[str] = []
    for tool in ("stacker", "sceptre", "runway"):
        if tool not in wanted:
            continue
        try:
            install(PEERS[tool])
            tools.append(tool)
        except (subprocess.CalledProcessError, SystemExit, OSError) as exc:
            skipped.append(f"{tool}: its virtualenv could not be installed ({exc}); skipped")
    return tools, skipped


def help_time(runs: int) -> float:
    """Median wall time of ``stackyard --help`` after one warm-up run."""
    from bench.bench_startup import median_seconds

    return median_seconds([str(STACKYARD), "--help"], runs)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark plan, print the report and write it under ``bench/results``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="under 8 minutes (the default)")
    mode.add_argument("--full", action="store_true", help="every size, latency and setting")
    parser.add_argument("--tools", default="", help="comma-separated subset of peer settings")
    parser.add_argument(
        "--sizes", default="", help="instead of the plan: comma-separated stack counts (10,40,100)"
    )
    parser.add_argument("--latencies", default="0,1", help="with --sizes: seconds per resource")
    parser.add_argument("--runs", type=int, default=1, help="with --sizes: repetitions")
    parser.add_argument("--no-write", action="store_true", help="print only, write no file")
    args = parser.parse_args(argv)
    plan = FULL if args.full else QUICK
    if args.sizes:
        sizes = [int(n) for n in args.sizes.split(",")]
        if not set(sizes) <= set(DEPTHS):
            parser.error(f"sizes are among {', '.join(map(str, DEPTHS))}")
        every_peer = tuple(k for k in SETTINGS if k != "stackyard")
        plan = Plan(
            "custom",
            tuple(
                Block(n, float(lat), every_peer, reps=args.runs)
                for n in sizes
                for lat in args.latencies.split(",")
            ),
            help_runs=3,
        )
    wanted = {t.strip() for t in args.tools.split(",") if t.strip()} or set(SETTINGS)
    unknown = wanted - set(SETTINGS)
    if unknown:
        parser.error(
            f"unknown tools: {', '.join(sorted(unknown))}; choose from {', '.join(SETTINGS)}"
        )
    started = time.monotonic()
    when = dt.datetime.now(dt.UTC)
    load = os.getloadavg()[0]
    tools, notes = available_peers({SETTINGS[k].tool for k in wanted})
    for note in notes:
        print(note, flush=True)
    usable = {k for k in wanted if k != "stackyard" and SETTINGS[k].tool in tools}

    WORK.mkdir(parents=True, exist_ok=True)
    log = WORK / "commands.log"
    log.write_text("")
    measurements: list[Measurement] = []
    pair = 0
    plan = replace(
        plan,
        blocks=tuple(
            replace(b, peers=tuple(p for p in b.peers if p in usable)) for b in plan.blocks
        ),
    )
    for block in plan.blocks:
        cycles: Counter[str] = Counter()
        for rep, peer in block.schedule():
            for key in ("stackyard", peer) if peer else ("stackyard",):
                took = time.monotonic()
                cycle = run_cycle(SETTINGS[key], block, cycles[key], log, pair)
                cycles[key] += 1
                measurements.extend(cycle)
                print(
                    f"  {block.stacks:3d} stacks, {block.latency:g} s/resource, rep {rep + 1}, "
                    f"{SETTINGS[key].label}: {time.monotonic() - took:.0f} s "
                    f"({', '.join(f'{m.scenario} {m.wall:.1f}s' for m in cycle)})",
                    flush=True,
                )
            pair += 1
    scale = scale_table(plan.scale) if plan.scale else []
    canary = canary_report(canary_figures()) if plan.canary else []
    help_seconds = help_time(plan.help_runs)
    summaries = summarize(measurements)
    peers = [k for k in SETTINGS if any(m.setting == k != "stackyard" for m in measurements)]
    report = render(
        plan,
        when,
        tools,
        notes,
        measurements,
        summaries,
        peers,
        help_seconds,
        [*scale, *canary],
        started,
        load,
    )
    print(report)
    if not args.no_write and plan.name != "custom":
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{when:%Y-%m-%d}-{plan.name}.md"
        path.write_text(report)
        print(f"written to {path.relative_to(HERE.parent)}")
    return 0 if all(m.ok for m in measurements if m.setting == "stackyard") else 1


def render(
    plan: Plan,
    when: dt.datetime,
    tools: list[str],
    notes: list[str],
    measurements: list[Measurement],
    summaries: list[Summary],
    peers: list[str],
    help_seconds: float | None,
    scale: list[str],
    started: float,
    load_at_start: float,
) -> str:
    """The markdown report."""
    shapes = ", ".join(
        f"{n} stacks (depth {d}, width {generate(n, d).width})"
        for n, d in DEPTHS.items()
        if any(b.stacks == n for b in plan.blocks)
    )
    schedule = "; ".join(
        f"{b.stacks} stacks at {_latency(b.latency)}: {b.reps} x "
        + (", ".join(f"stackyard then {SETTINGS[p].label}" for p in b.peers) or "stackyard")
        for b in plan.blocks
    )
    found = pairs(measurements)
    lines = [
        f"# stackyard benchmark ({plan.name}), {when:%Y-%m-%d %H:%M} UTC",
        "",
        f"- command: `{' '.join(['python -m bench.run', *sys.argv[1:]])}`",
        f"- machine: {machine()}; load average {load_at_start:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end (other work on the machine shows in wall times)",
        f"- versions: {versions(tools)}",
        f"- workload: {shapes}; {RESOURCES_PER_STACK} resources per stack (SSM parameter, SNS "
        "topic, SQS queue); outputs read along every edge; a fresh local endpoint per cycle",
        f"- runs, back to back in this order: {schedule}; took "
        f"{(time.monotonic() - started) / 60:.1f} min",
        *(f"- {note}" for note in notes),
        "",
        "## stackyard / peer",
        "",
        "Each cell: the median of the per-pair ratios (stackyard's cycle divided by the peer's "
        "cycle that followed it), with their range; below 1 favours stackyard.",
        "",
        "Wall time of the command:",
        "",
        *ratio_table(found, peers, lambda m: m.wall),
        "",
        "CloudFormation calls:",
        "",
        *ratio_table(found, peers, lambda m: m.calls.total()),
        "",
        "## stackyard's targets",
        "",
        "Values in run order; worst ÷ limit above 1 misses.",
        "",
        "| target | value in each run | worst ÷ limit | verdict |",
        "|---|---|---:|---|",
        *(t.row() for t in targets(measurements, found, help_seconds)),
        "",
        *scale,
        "## All figures (medians)",
        "",
        "First op: the command's start to its first stack operation, from the endpoint's events. "
        "Makespan: first stack operation started to last finished, from the endpoint's events. "
        "Critical path: the longest chain of stacks the scenario changes, each costing the "
        "latency of one resource (a stack's resources are independent); in brackets, makespan "
        "over the critical path made of the endpoint's own stack operation times (latency plus "
        "the endpoint's work), which leaves only the tool's scheduling. Calls by action: "
        + ", ".join(f"{v} {k}" for k, v in ABBREVIATIONS.items())
        + ".",
        "",
        *absolute_table(summaries),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
