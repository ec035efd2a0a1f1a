"""The progress view of build and destroy: a live table on a terminal, plain lines otherwise.

``ProgressView`` implements the engine's ``Listener``. On a terminal it keeps
a rich ``Live`` view (see :mod:`stackyard.ui.live_table`: n/N stacks done, and per stack
status, elapsed, resources done / total, the resource in progress); when output is
not a terminal (CI, pipes) it prints one timestamped line per change instead.
Everything goes through the one injected ``rich.Console``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from stackyard.engine.status import Phase, StackState
from stackyard.ui.live_table import ResourceTally, render_table

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from stackyard.aws.cloudformation import StackEvent
    from stackyard.engine.run import RunResult

__all__ = ["ProgressView", "print_summary"]

_STYLES = {
    Phase.COMPLETE: "green",
    Phase.NO_CHANGE: "dim",
    Phase.SKIPPED: "dim",
    Phase.FAILED: "bold red",
    Phase.CANCELLED: "yellow",
    Phase.NOT_STARTED: "yellow",
    Phase.LEFT_RUNNING: "magenta",
    Phase.ROLLING_BACK: "red",
    Phase.CREATING: "cyan",
    Phase.UPDATING: "cyan",
    Phase.DELETING: "cyan",
}


def _elapsed(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def _event_text(state: StackState) -> str:
    event = state.latest_event
    if event is None:
        return ""
    text = f"{event.logical_id} {event.status}"
    if event.reason and event.status.endswith("FAILED"):
        text += f": {event.reason}"
    return text


class ProgressView:
    """Shows a run's progress on ``console``; use it as a context manager."""

    def __init__(
        self,
        console: Console,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = datetime.now,
        live: bool | None = None,
        verbose: int = 0,
    ) -> None:
        self.console = console
        self.clock = clock
        self.wall = wall
        self.verbose = verbose
        self.live_mode = console.is_terminal if live is None else live
        self._states: dict[str, StackState] = {}
        self._lock = threading.Lock()
        self._live: Any = None
        self._printed: dict[str, str] = {}
        self._held: list[str] | None = None  # lines kept back while paused
        self._tallies: dict[str, ResourceTally] = {}
        self._expected: dict[str, int] = {}

    # -- Listener -----------------------------------------------------------------------------

    def expect(self, resources: Mapping[str, int]) -> None:
        """How many resources each stack's plan changes: the totals of the live view."""
        with self._lock:
            self._expected.update(resources)

    def stack_changed(self, state: StackState) -> None:
        """Record a change; in plain mode print it when the label or event is new."""
        with self._lock:
            self._states[state.name] = state
            latest = state.latest_event
            if latest is not None and not latest.is_stack:
                tally = self._tallies.setdefault(state.name, ResourceTally())
                tally.record(latest.logical_id, latest.status)
        if self.live_mode:
            return
        if state.phase in (Phase.PENDING, Phase.WAITING) and not self.verbose:
            return
        line = state.label
        if state.latest_event is not None and (self.verbose or state.phase.terminal):
            event = _event_text(state)
            if event and state.phase is not Phase.FAILED:
                line += f" ({event})"
        if self._printed.get(state.name) == line:
            return
        self._printed[state.name] = line
        style = _STYLES.get(state.phase, "")
        elapsed = state.elapsed(self.clock()) if state.phase.terminal else None
        took = f" [{_elapsed(elapsed)}]" if elapsed is not None else ""
        self._plain(
            f"{state.name}: [{style}]{_escape(line)}[/]{took}"
            if style
            else f"{state.name}: {_escape(line)}{took}"
        )

    def stack_events(self, state: StackState, events: Sequence[StackEvent]) -> None:
        """``--tail``: one line per event as it happens, ``[stack name on AWS] STATUS TYPE
        LogicalId: reason`` (stacker's ``[fqn] STATUS TYPE reason``, with the resource)."""
        for event in events:
            line = f"[{state.fqn}] {event.status} {event.resource_type} {event.logical_id}"
            if event.reason:
                line += f": {event.reason}"
            self.note(line)

    def note(self, message: str) -> None:
        """A message about the whole run."""
        if self._live is not None:
            self._live.console.print(_escape(message))
        else:
            self._plain(_escape(message))

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop drawing while the user is asked something: the live table stops, plain
        lines are kept back and printed afterwards, so nothing interleaves with a prompt."""
        with self._lock:
            live, self._live = self._live, None
            self._held = []
        if live is not None:
            live.stop()
        try:
            yield
        finally:
            with self._lock:
                held, self._held = self._held or [], None
            for line in held:
                self.console.print(line, highlight=False, soft_wrap=True)
            if live is not None:
                self._start_live()

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> ProgressView:
        if self.live_mode:
            self._start_live()
        return self

    def _start_live(self) -> None:
        from rich.live import Live

        live = Live(
            get_renderable=self.table,
            console=self.console,
            refresh_per_second=4,
            transient=False,
        )
        live.start()
        with self._lock:
            self._live = live

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def table(self) -> RenderableType:
        """The live view: n/N stacks done and failures, then one row per stack that fits."""
        with self._lock:
            states = list(self._states.values())
            tallies = dict(self._tallies)
            expected = dict(self._expected)
        return render_table(
            states,
            tallies,
            expected,
            now=self.clock(),
            height=self.console.height,
            styles=_STYLES,
            elapsed=_elapsed,
        )

    def _plain(self, markup: str) -> None:
        stamp = self.wall().strftime("%H:%M:%S")
        line = f"[dim]{stamp}[/] {markup}"
        with self._lock:
            if self._held is not None:
                self._held.append(line)
                return
        self.console.print(line, highlight=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def print_summary(console: Console, result: RunResult) -> None:
    """Failures with their resource, reason and hint, then one summary line."""
    for state in result.states.values():
        if state.phase is Phase.FAILED and state.failure is not None:
            where = f" ({state.detail})" if state.detail else ""
            console.print(
                f"[bold red]✗ {_escape(state.name)}[/]{_escape(where)}: "
                f"{_escape(str(state.failure))}",
                highlight=False,
                soft_wrap=True,
            )
            if state.failure.hint:
                console.print(f"  hint: {_escape(state.failure.hint)}", highlight=False)
        elif state.phase in (Phase.CANCELLED, Phase.LEFT_RUNNING, Phase.NOT_STARTED):
            console.print(
                f"[yellow]- {_escape(state.name)}[/]: {_escape(state.label)}",
                highlight=False,
                soft_wrap=True,
            )
    if result.error is not None:
        console.print(f"[bold red]✗[/] {_escape(str(result.error))}", highlight=False)
    style = "green" if result.ok else "bold red"
    console.print(f"[{style}]{_escape(result.summary())}[/]", highlight=False, soft_wrap=True)
