"""Ctrl-C at a random moment of a build, as a user presses it, then a rerun.

Each trial runs ``stackyard build --local`` in a subprocess against a background endpoint
(``stackyard local up``, in a ``STACKYARD_HOME`` of the drill's own) and sends SIGINT at a
moment drawn from a seeded generator: from the process's start (so some land while it loads
the project) to the end of a typical build (one build of the workload, timed when the drills
start: the moments follow the build's speed rather than a figure that goes stale). One trial in four presses twice (the second
press leaves CloudFormation running). Trials alternate between a fresh namespace (interrupted
creates) and a new value for the previous one (interrupted change sets). After each trial, a
plain rerun must exit 0 and leave exactly the full, correct state: every stack complete with
the right outputs, every SSM parameter with the right value, every topic and queue, one stack
per name ever created, and no change set left unexecuted. Trials go on until 24 builds (3 in
the fast variant) were really interrupted, since a build may finish before its moment comes.

An interrupted build exits 130, or 0 when it finished first, or dies of the signal (-2) when
it lands after stackyard restored the default handler or before ``main()`` ran; it never
prints a traceback of stackyard's own (Python's report of a Ctrl-C while the interpreter is
still importing the entry point is the one traceback allowed).
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from .drill_helpers import STACKYARD, Daemon, Workload, inventory, record_faults

WORKLOAD = Workload.layered(12, 4, seed=7)
# A build of WORKLOAD at this latency takes about 1.2 s (4 layers of 0.25 s, and the
# command's start): updates are one UpdateStack each and completion is seen promptly, so the
# latency sets the pace. The trials time it (`typical`) rather than trust this figure.
LATENCY = "resource=0.25s"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """``stackyard local up`` in a home of its own, with the workload written beside it."""
    base = tmp_path_factory.mktemp("interrupts")
    WORKLOAD.write(base)
    with Daemon.up(base, latency=LATENCY) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def typical(daemon: Daemon) -> float:
    """Seconds a whole build of the workload takes here (a create; an update takes as long)."""
    config = str(daemon.folder / "drill.yaml")
    started = time.monotonic()
    namespace = f"namespace=time{uuid.uuid4().hex[:8]}"
    built = daemon.run("build", "--local", "-e", namespace, "-e", "value=t", config)
    assert built.returncode == 0, built.stdout + built.stderr
    return time.monotonic() - started


@dataclass
class Trial:
    """What one interrupted build did."""

    code: int
    output: str
    presses: int
    delay: float


def _interrupted_build(daemon: Daemon, args: list[str], delay: float, twice: bool) -> Trial:
    """Start a build, press Ctrl-C after ``delay`` seconds (twice if asked), let it end."""
    lines: list[str] = []
    presses = 0
    with subprocess.Popen(
        [str(STACKYARD), "build", "--local", *args],
        cwd=daemon.folder,
        env=daemon.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
        reader.start()
        time.sleep(delay)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            presses += 1
            if twice:
                time.sleep(0.2)
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
                    presses += 1
        try:
            code = process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
        reader.join(timeout=10)
    return Trial(code, "".join(lines), presses, delay)


def _check_converged(daemon: Daemon, namespace: str, value: str, where: str) -> None:
    got = inventory(daemon.client, namespace)
    parameters = WORKLOAD.expected_parameters(value)
    outputs = {f"NS-{n}": {"Token": f"{n}-{value}"} for n in WORKLOAD.edges}
    names = sorted(f"NS-{n}" for n in WORKLOAD.edges)
    assert sorted(got.stacks) == names, where
    assert set(got.stacks.values()) <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, (where, got.stacks)
    assert {s: {"Token": o.get("Token")} for s, o in got.outputs.items()} == outputs, where
    assert got.parameters == parameters, where
    assert got.topics == names and got.queues == names, where
    assert got.history == dict.fromkeys(names, 1), (where, "duplicate stacks")
    assert got.stray_change_sets() == {}, where


def _drill(
    request: pytest.FixtureRequest, daemon: Daemon, typical: float, interrupted: int, seed: int
) -> None:
    """Trials until ``interrupted`` builds were really interrupted (a build may finish before
    its moment comes); after each trial, a rerun converges."""
    rng = random.Random(seed)
    config = str(daemon.folder / "drill.yaml")
    presses = 0
    pressed_trials = 0
    namespace = ""
    outcomes: list[str] = []
    try:
        trial = -1
        while pressed_trials < interrupted:
            trial += 1
            assert trial < 2 * interrupted, ("builds keep finishing first", outcomes)
            fresh = trial % 2 == 0 or not namespace
            if fresh:
                namespace = f"int{uuid.uuid4().hex[:8]}"
            value = f"v{trial}"
            args = ["-e", f"namespace={namespace}", "-e", f"value={value}", config]
            delay = rng.uniform(0.0, 1.1) * typical
            done = _interrupted_build(daemon, args, delay, twice=rng.random() < 0.25)
            presses += done.presses
            pressed_trials += bool(done.presses)
            where = f"trial {trial} ({'create' if fresh else 'update'}, {done})"
            assert done.code in (0, 130, -signal.SIGINT), where
            assert "internal error" not in done.output, where
            if "Traceback" in done.output:
                # Only Python's own report of a Ctrl-C while the interpreter was still
                # importing the entry point, before stackyard's main() ran, is acceptable.
                assert ", in main\n" not in done.output, where
                assert done.output.rstrip().endswith("KeyboardInterrupt"), where
            outcomes.append(f"{done.delay:.2f}s x{done.presses}: exit {done.code}")
            again = daemon.run("build", "--local", *args)
            assert again.returncode == 0, (where, again.stdout + again.stderr)
            _check_converged(daemon, namespace, value, where)
    finally:
        record_faults(request, {"sigint": presses})


def _killed_build(daemon: Daemon, args: list[str], delay: float) -> int:
    """Start a build and SIGKILL it after ``delay`` seconds: no handler, no cleanup."""
    with subprocess.Popen(
        [str(STACKYARD), "build", "--local", *args],
        cwd=daemon.folder,
        env=daemon.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        time.sleep(delay)
        killed = process.poll() is None
        if killed:
            process.kill()
        process.wait(timeout=60)
    return int(killed)


def _kill_drill(
    request: pytest.FixtureRequest, daemon: Daemon, typical: float, kills: int, seed: int
) -> None:
    """Builds killed at seeded random moments (creates and updates alternating), each followed
    at once by a rerun that must exit 0 and converge: stacks the dead run left busy are waited
    for, change sets it left are deleted."""
    rng = random.Random(seed)
    config = str(daemon.folder / "drill.yaml")
    killed = 0
    namespace = ""
    trial = -1
    try:
        while killed < kills:
            trial += 1
            assert trial < 3 * kills, "builds keep finishing before their moment"
            fresh = trial % 2 == 0 or not namespace
            if fresh:
                namespace = f"kill{uuid.uuid4().hex[:8]}"
            value = f"k{trial}"
            args = ["-e", f"namespace={namespace}", "-e", f"value={value}", config]
            # from about the first stack operation to the end of a typical build
            delay = rng.uniform(0.3, 1.1) * typical
            killed += _killed_build(daemon, args, delay)
            where = f"trial {trial} ({'create' if fresh else 'update'}, killed at {delay:.2f}s)"
            again = daemon.run("build", "--local", *args)
            assert again.returncode == 0, (where, again.stdout + again.stderr)
            _check_converged(daemon, namespace, value, where)
    finally:
        record_faults(request, {"sigkill": killed})


def test_kills_fast(request: pytest.FixtureRequest, daemon: Daemon, typical: float) -> None:
    _kill_drill(request, daemon, typical, kills=2, seed=3)


@pytest.mark.slow
def test_kills_ten(request: pytest.FixtureRequest, daemon: Daemon, typical: float) -> None:
    _kill_drill(request, daemon, typical, kills=10, seed=2026)


def test_interrupts_fast(request: pytest.FixtureRequest, daemon: Daemon, typical: float) -> None:
    _drill(request, daemon, typical, interrupted=3, seed=1)


@pytest.mark.slow
def test_interrupts_many(request: pytest.FixtureRequest, daemon: Daemon, typical: float) -> None:
    _drill(request, daemon, typical, interrupted=24, seed=2024)
