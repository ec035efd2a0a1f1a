"""A bad day on the API: throttling and server errors on every service stackyard calls.

The same workload is built, updated (every stack, through change sets) and destroyed twice:
on a clean endpoint and on one that throttles and fails a share of all calls (CloudFormation,
SSM for the ``${ssm ...}`` lookups of the root stacks, S3 for the template bucket of the one
large template). After each step the two endpoints must hold the same thing: the same stacks
in the same states with the same outputs, one stack per name ever created (no duplicates), no
change set left unexecuted, and the same SSM parameters, SNS topics, SQS queues and template
objects; after the destroy, nothing the stacks owned.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import pytest

from .drill_helpers import (
    DrillEndpoint,
    Inventory,
    Workload,
    inventory,
    phases,
    project_build,
    record_faults,
)

STEPS = (("build", "v1"), ("build", "v2"), ("destroy", "v2"))  # (command, the value env)


def _run(
    endpoint: DrillEndpoint, config: Path, namespace: str, spec: str | None
) -> list[tuple[dict[str, str], Inventory]]:
    """Build, update, destroy (with faults when ``spec``); after each step, the stacks'
    phases and the inventory, taken with faults off."""
    ssm = endpoint.client("ssm")
    ssm.put_parameter(Name=f"/{namespace}-root/seed", Value="seed", Type="String")
    seen = []
    for command, value in STEPS:
        with endpoint.faulty(spec) if spec else contextlib.nullcontext():
            result = project_build(endpoint.url, config, namespace, command=command, value=value)
        assert result.ok, f"{command} {value}: {result.summary()}\n" + "\n".join(
            f"  {s.name}: {s.label}" for s in result.states.values() if not s.phase.ok
        )
        seen.append((phases(result), inventory(endpoint.client, namespace)))
    return seen


def _drill(
    request: pytest.FixtureRequest,
    clean: DrillEndpoint,
    faulty: DrillEndpoint,
    tmp_path: Path,
    *,
    stacks: int,
    width: int,
    spec: str,
    kinds: tuple[str, ...] = ("throttle", "error500"),
    services: int = 2,
) -> None:
    workload = Workload.layered(stacks, width, seed=stacks)
    config = workload.write(tmp_path, big="s001", ssm_root=True)
    tag = uuid.uuid4().hex[:6]
    reference = _run(clean, config, f"clean{tag}", None)
    faulty.injected.clear()
    faulty.services.clear()
    try:
        drilled = _run(faulty, config, f"fault{tag}", spec)
    finally:
        record_faults(request, faulty.injected)
    assert all(faulty.injected[k] for k in kinds), faulty.injected
    assert faulty.services["cloudformation"] and len(faulty.services) >= services, faulty.services
    for (command, _), (want_phases, want), (got_phases, got) in zip(
        STEPS, reference, drilled, strict=True
    ):
        assert got_phases == want_phases, command
        assert got.stray_change_sets() == {}, command
        assert [n for n, count in got.history.items() if count > 1] == [], command
        assert got == want, command
    final = drilled[-1][1]
    assert final.stacks == {} and final.topics == [] and final.queues == []
    assert list(final.parameters) == ["/NS-root/seed"]  # the drill's own, not a stack's


def test_faults_fast(
    request: pytest.FixtureRequest,
    clean_endpoint: DrillEndpoint,
    drill_endpoint: DrillEndpoint,
    tmp_path: Path,
) -> None:
    spec = "seed=5,*=throttle:0.10+error500:0.02"
    _drill(request, clean_endpoint, drill_endpoint, tmp_path, stacks=10, width=4, spec=spec)


@pytest.mark.slow
def test_faults_forty_stacks(
    request: pytest.FixtureRequest,
    clean_endpoint: DrillEndpoint,
    drill_endpoint: DrillEndpoint,
    tmp_path: Path,
) -> None:
    spec = "seed=30,*=throttle:0.30+error500:0.05"
    _drill(request, clean_endpoint, drill_endpoint, tmp_path, stacks=40, width=6, spec=spec)


# Every CloudFormation call may land and lose its answer (the network failing after AWS
# accepted it): writes are retried with their tokens, or reconciled from the stack.
LOST = "cloudformation:*=lost:0.1"


def test_lost_answers_fast(
    request: pytest.FixtureRequest,
    clean_endpoint: DrillEndpoint,
    drill_endpoint: DrillEndpoint,
    tmp_path: Path,
) -> None:
    spec = f"seed=3,{LOST}"
    _drill(
        request,
        clean_endpoint,
        drill_endpoint,
        tmp_path,
        stacks=10,
        width=4,
        spec=spec,
        kinds=("lost",),
        services=1,
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lost_answers_forty_stacks(
    request: pytest.FixtureRequest,
    clean_endpoint: DrillEndpoint,
    drill_endpoint: DrillEndpoint,
    tmp_path: Path,
    seed: int,
) -> None:
    _drill(
        request,
        clean_endpoint,
        drill_endpoint,
        tmp_path,
        stacks=40,
        width=6,
        spec=f"seed={seed},{LOST}",
        kinds=("lost",),
        services=1,
    )
