"""A resource fails in the middle of the graph.

One stack of the second layer creates a bucket whose name is already taken. Every stack that
reads from it, directly or not, is cancelled; every other stack, deeper layers included,
finishes. The reason (the resource and CloudFormation's message) is in the RunResult and in
what the CLI prints. After the fix (a free bucket name), a rerun with ``--recreate-failed``
converges: every stack complete, every resource there once. The long variant does it on
40 stacks with throttling and server errors injected into every call stackyard makes.
"""

from __future__ import annotations

import contextlib
import io
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from stackyard.cli.main import main

from .drill_helpers import (
    REGION,
    DrillEndpoint,
    Workload,
    inventory,
    phases,
    project_build,
    record_faults,
)


def _failing_stack(workload: Workload) -> str:
    """A second-layer stack with dependents, leaving deeper stacks that do not depend on it."""
    names = list(workload.edges)
    second = [
        n
        for n in names
        if workload.edges[n] and not any(workload.edges[p] for p in workload.edges[n])
    ]
    deeper = {n for n in names if n not in second and workload.edges[n]}
    for name in second:
        dependents = workload.dependents(name)
        if dependents and deeper - dependents:
            return name
    raise AssertionError(f"the workload has no mid-graph stack to fail: {workload.edges}")


@pytest.fixture
def cli(
    drill_endpoint: DrillEndpoint,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[int, str]]:
    """``cli("build", ...)``: the real entry point, in-process, on the drill endpoint, with
    the endpoint given as a user would give it (``AWS_ENDPOINT_URL``); returns (code, output)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", drill_endpoint.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        capsys.readouterr()
        try:
            main([*args, "-r", REGION])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out + err

    return run


def _drill(
    request: pytest.FixtureRequest,
    endpoint: DrillEndpoint,
    cli: Callable[..., tuple[int, str]],
    tmp_path: Path,
    workload: Workload,
    spec: str | None,
) -> None:
    """Fail one mid-graph stack, check what is said and done, fix it, rerun; the stackyard
    runs meet the faults of ``spec`` if given."""
    failing = _failing_stack(workload)
    config = workload.write(tmp_path, failing=failing)
    dependents = workload.dependents(failing)
    independent = set(workload.edges) - dependents - {failing}

    def faults() -> contextlib.AbstractContextManager[object]:
        return endpoint.faulty(spec) if spec else contextlib.nullcontext()

    s3 = endpoint.client("s3")
    tag = uuid.uuid4().hex[:6]
    engine_ns, cli_ns = f"mid{tag}", f"midcli{tag}"
    taken = f"{engine_ns}-taken"
    s3.create_bucket(Bucket=taken)
    endpoint.injected.clear()

    # The engine: what RunResult says.
    with faults():
        result = project_build(endpoint.url, config, engine_ns, bucket=taken)
    got = phases(result)
    assert got[failing] == "failed"
    assert {n for n, p in got.items() if p == "cancelled"} == dependents
    assert {n for n, p in got.items() if p == "complete"} == independent
    assert result.exit_code == 1
    failure = result.states[failing].failure
    assert failure is not None and failure.resource == "Bucket"
    assert "already exists" in failure.reason and taken in failure.reason
    for name in dependents:
        assert "failed" in result.states[name].detail, result.states[name]
    assert failing in " ".join(result.states[n].detail for n in dependents)
    deployed = inventory(endpoint.client, engine_ns)
    assert not any(n.removeprefix("NS-") in dependents for n in deployed.stacks)

    # The CLI: what the user reads.
    overrides = ["-e", f"namespace={cli_ns}", "-e", "value=v1", "-e", f"bucket={taken}"]
    with faults():
        code, output = cli("build", *overrides, str(config))
    assert code == 1, output
    failed_line = next(line for line in output.splitlines() if f"✗ {failing}" in line)
    assert "Bucket" in failed_line and "already exists" in failed_line, output
    for name in dependents:
        assert f"- {name}: cancelled" in output, output
    assert "Traceback" not in output and "internal error" not in output

    # The fix, and a rerun that converges.
    free = ["-e", f"bucket={cli_ns}-free"]
    with faults():
        code, output = cli("build", "--recreate-failed", *overrides[:-2], *free, str(config))
    assert code == 0, output
    summary = output.strip().splitlines()[-1]
    assert f"{len(dependents) + 1} complete" in summary, output
    assert f"{len(independent)} no change" in summary, output
    with faults():
        result = project_build(endpoint.url, config, engine_ns, bucket=f"{engine_ns}-free")
    assert phases(result)[failing] == "failed"  # without --recreate-failed: says what to do
    hint = result.states[failing].failure
    assert hint is not None and "--recreate-failed" in (hint.hint or "")
    with faults():
        result = project_build(
            endpoint.url, config, engine_ns, bucket=f"{engine_ns}-free", recreate_failed=True
        )
    assert result.ok, result.summary()
    for namespace in (engine_ns, cli_ns):
        final = inventory(endpoint.client, namespace)
        assert sorted(final.stacks) == sorted(f"NS-{n}" for n in workload.edges)
        assert set(final.stacks.values()) == {"CREATE_COMPLETE"}, final.stacks
        assert final.parameters == workload.expected_parameters("v1")
        assert len(final.topics) == len(final.queues) == len(workload.edges)
        assert final.stray_change_sets() == {}
        assert final.history[f"NS-{failing}"] == 2  # the failed stack, deleted, and the new one
        assert all(n == 1 for s, n in final.history.items() if s != f"NS-{failing}")
    s3.delete_bucket(Bucket=taken)
    record_faults(request, {"resource failure": 2, **endpoint.injected})
    endpoint.injected.clear()


def test_mid_graph_failure(
    request: pytest.FixtureRequest,
    drill_endpoint: DrillEndpoint,
    cli: Callable[..., tuple[int, str]],
    tmp_path: Path,
) -> None:
    workload = Workload.layered(12, 4, seed=3)
    _drill(request, drill_endpoint, cli, tmp_path, workload, None)


@pytest.mark.slow
def test_mid_graph_failure_forty_stacks_with_faults(
    request: pytest.FixtureRequest,
    drill_endpoint: DrillEndpoint,
    cli: Callable[..., tuple[int, str]],
    tmp_path: Path,
) -> None:
    workload = Workload.layered(40, 6, seed=4)
    _drill(request, drill_endpoint, cli, tmp_path, workload, "seed=9,*=throttle:0.2+error500:0.05")
