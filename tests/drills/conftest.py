"""Reliability drills: endpoints for the drills, and the session's fault ledger.

Each drill reports the faults it injected (throttling and server errors as counted by the
endpoint's ``FaultInjector``, SIGINTs sent, resource failures provoked) as a user property of
its test, and the ledger adds them up from the test reports. A fault is *survived* when the
drill that injected it passed: the run still reached the correct final state. At the end of
the session one line says how many faults were injected and how many were survived.

The line shows in serial runs (``make drills``). Under ``pytest-xdist`` (``make test``) the
controller does not load this conftest, so there is no line; the drills still run and assert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from .drill_helpers import LEDGER_PROPERTY, DrillEndpoint

_injected: Counter[str] = Counter()
_survived: Counter[str] = Counter()
_drills: Counter[str] = Counter()


@pytest.fixture(scope="session")
def clean_endpoint() -> Iterator[DrillEndpoint]:
    """A local endpoint that never injects faults: the reference runs use it."""
    endpoint = DrillEndpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.endpoint.stop()


@pytest.fixture(scope="session")
def drill_endpoint() -> Iterator[DrillEndpoint]:
    """A local endpoint whose fault injector the drills turn on and off."""
    endpoint = DrillEndpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.endpoint.stop()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add the faults of a finished drill to the ledger."""
    if report.when != "call":
        return
    for key, value in report.user_properties:
        if key != LEDGER_PROPERTY or not isinstance(value, dict):
            continue
        counts = Counter({str(kind): int(n) for kind, n in value.items()})
        _injected.update(counts)
        _drills["run"] += 1
        if report.passed:
            _survived.update(counts)
            _drills["passed"] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line: faults injected by kind, and how many the drills survived."""
    if not _injected:
        return
    total = sum(_injected.values())
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(_injected.items()))
    survived = sum(_survived.values())
    terminalreporter.write_sep("=", "reliability drills")
    terminalreporter.write_line(
        f"faults injected: {total} ({kinds}); survived: {survived} of {total}, "
        f"in {_drills['passed']} of {_drills['run']} drills that injected faults"
    )
