"""Helpers for build/destroy/info tests on the local endpoint: a project loader and runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "apply"


@dataclass
class Timeline:
    """A listener that records (stack, phase) in order and the run's notes."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    on_change: Callable[[Any], None] | None = None

    def stack_changed(self, state: Any) -> None:
        self.seen.append((state.name, str(state.phase)))
        if self.on_change is not None:
            self.on_change(state)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def first(self, name: str, phase: str) -> int:
        return self.seen.index((name, phase))


@dataclass
class Apply:
    """Runs the engine against one endpoint; each test gets its own namespace and folder."""

    url: str
    folder: Path
    namespace: str
    overrides: dict[str, str]

    def gateway(self) -> Any:
        from stackyard.aws.cloudformation import CloudFormationGateway
        from stackyard.aws.session import ClientFactory

        return CloudFormationGateway(ClientFactory(endpoint_url=self.url, max_attempts=10))

    def project(self, config: str = "diamond.yaml", **overrides: str) -> Any:
        from stackyard.project import Project

        env = self.folder / "diamond.env"
        return Project.load(
            str(self.folder / config),
            environment_file=str(env),
            overrides={**self.overrides, **overrides},
            region="us-east-1",
        )

    def build(
        self, project: Any = None, gateway: Any = None, listener: Any = None, **options: Any
    ) -> Any:
        from stackyard.aws.poller import PollPolicy
        from stackyard.engine.run import RunOptions, build

        options.setdefault("poll", PollPolicy(min_interval=0.05, max_interval=0.5))
        return build(
            project or self.project(), RunOptions(**options), gateway or self.gateway(), listener
        )

    def destroy(
        self, project: Any = None, gateway: Any = None, listener: Any = None, **options: Any
    ) -> Any:
        from stackyard.aws.poller import PollPolicy
        from stackyard.engine.run import RunOptions, destroy

        options.setdefault("poll", PollPolicy(min_interval=0.05, max_interval=0.5))
        return destroy(
            project or self.project(), RunOptions(**options), gateway or self.gateway(), listener
        )


def phases(result: Any) -> dict[str, str]:
    return {name: str(state.phase) for name, state in result.states.items()}
