"""As-soon-as-ready scheduling: a stack starts the moment what it waits for is done.

The scheduler knows nothing about CloudFormation's semantics. It starts stacks
(``StackOps.prepare``, on worker threads) when everything they wait for has
finished well, up to ``max_parallel`` at a time; watches the ones in flight
through the batched ``StatusPoller``; asks ``StackOps.settled`` what a status
change means; cancels the dependents of a failed stack; and handles interrupts:
the first stops new submissions and keeps waiting, the second stops waiting.

With ``tail`` (stacker's ``--tail``), every round also reads the new events of each stack
in flight and hands them to the listener as they happen, not only when a status changes.

Nothing here sleeps or reads the time directly: ``clock`` and ``sleep`` come
in, and with ``inline=True`` workers run on the calling thread, so tests drive
a whole run on a fake clock, deterministically.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from stackyard.aws.cloudformation import DeployedStack, StackEvent
from stackyard.aws.poller import StatusPoller, StatusUpdate
from stackyard.aws.session import Location
from stackyard.engine.status import Failure, Listener, Phase, StackState
from stackyard.errors import StackyardError

__all__ = ["Again", "Done", "InFlight", "Interrupt", "Outcome", "Scheduler", "StackOps"]


@dataclass(frozen=True)
class Done:
    """The stack is finished for this run."""

    phase: Phase
    detail: str = ""
    failure: Failure | None = None


@dataclass(frozen=True)
class InFlight:
    """CloudFormation is working on the stack; watch it."""

    op: str  # create | update | delete | wait | recreate
    fqn: str
    location: Location
    status: str  # the status it is in now; only changes from it are reported
    stack_id: str | None = None
    detail: str = ""  # what to tell the user while it is in flight


@dataclass(frozen=True)
class Again:
    """Prepare the stack again (it settled after a wait, or was deleted to be recreated)."""

    detail: str = ""


Outcome = Done | InFlight | Again

_OP_PHASES = {
    "create": Phase.CREATING,
    "update": Phase.UPDATING,
    "delete": Phase.DELETING,
    "recreate": Phase.DELETING,
    "wait": Phase.BUSY,
}
_OP_DETAILS = {"recreate": "deleting the failed stack to create it again"}
# How long the engine thread blocks at most, so Ctrl-C is seen promptly.
_MAX_BLOCK = 0.2
_POLL_FAILURES_TOLERATED = 20


class StackOps(Protocol):
    """What to do with one stack; build and destroy each implement it."""

    def prepare(self, name: str) -> Outcome:
        """Decide and submit (runs on a worker thread)."""
        ...

    def settled(
        self,
        name: str,
        flight: InFlight,
        stack: DeployedStack | None,
        events: Sequence[StackEvent],
    ) -> Outcome | None:
        """A watched stack changed status; None while it is still in progress."""
        ...

    def redact_events(self, name: str, events: Sequence[StackEvent]) -> Sequence[StackEvent]:
        """Events as they may be shown: CloudFormation can quote values that must not be
        (a bucket named by a NoEcho parameter "already exists")."""
        ...


class Interrupt:
    """Counts Ctrl-C presses; install ``handler`` as the SIGINT handler."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def hit(self) -> None:
        """One more Ctrl-C."""
        with self._lock:
            self.count += 1

    def handler(self, signum: int, frame: object) -> None:
        """A ``signal.signal`` handler."""
        self.hit()

    @property
    def stopping(self) -> bool:
        """True once the user asked to submit nothing new."""
        return self.count >= 1


class Scheduler:
    """Runs ``ops`` over a graph; ``waits_for[n]`` are the nodes n starts after."""

    def __init__(
        self,
        waits_for: Mapping[str, frozenset[str]],
        states: dict[str, StackState],
        ops: StackOps,
        poller: StatusPoller,
        listener: Listener,
        *,
        order: Sequence[str] | None = None,
        passthrough: frozenset[str] = frozenset(),
        max_parallel: int = 0,
        interrupt: Interrupt | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        inline: bool = False,
        tail: bool = False,
    ) -> None:
        self.waits_for = {
            n: frozenset(d for d in deps if d in waits_for) for n, deps in waits_for.items()
        }
        self.order = list(order or sorted(waits_for))
        self._position = {name: i for i, name in enumerate(self.order)}
        self.states = states
        self.ops = ops
        self.poller = poller
        self.listener = listener
        self.passthrough = passthrough
        self.max_parallel = max_parallel
        self.interrupt = interrupt or Interrupt()
        self.clock = clock
        self.sleep = sleep
        self.inline = inline
        self.done_phase: dict[str, Phase] = {}
        self.dependents: dict[str, set[str]] = {n: set() for n in self.waits_for}
        for node, deps in self.waits_for.items():
            for dep in deps:
                self.dependents[dep].add(node)
        self._active: set[str] = set()
        self._flights: dict[str, InFlight] = {}
        self._events: dict[str, list[StackEvent]] = {}
        self._results: queue.Queue[tuple[str, Outcome]] = queue.Queue()
        self._executor: ThreadPoolExecutor | None = None
        self._stopped_new = False
        self._poll_failures = 0
        self.tail = tail
        self._tailed: dict[str, set[str]] = {}  # event ids already reported, per stack

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> dict[str, StackState]:
        """Run until every node is finished (or the user stops waiting)."""
        if not self.inline:
            workers = self.max_parallel or min(32, max(1, len(self.waits_for)))
            self._executor = ThreadPoolExecutor(workers, thread_name_prefix="stackyard")
        try:
            self._refresh_waiting()
            while True:
                self._drain()
                if self.interrupt.count >= 2:
                    self._leave_running()
                    break
                if self.interrupt.stopping and not self._stopped_new:
                    self._stop_new()
                if not self._stopped_new:
                    self._start_ready()
                if len(self.done_phase) == len(self.waits_for):
                    break
                due = self.poller.due_in()
                if due is not None and due <= 0:
                    self._poll()
                    continue
                self._wait(due)
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._drain()
        return self.states

    def _wait(self, due: float | None) -> None:
        if self.inline:
            if not self._results.empty():
                return
            if due is None:
                if self.interrupt.count >= 2 or (self.interrupt.stopping and not self._active):
                    return
                raise RuntimeError("scheduler stalled: nothing in flight and nothing queued")
            self.sleep(due)
            return
        timeout = _MAX_BLOCK if due is None else min(due, _MAX_BLOCK)
        try:
            name, outcome = self._results.get(timeout=timeout)
        except queue.Empty:
            return
        self._handle(name, outcome)

    def _drain(self) -> None:
        while True:
            try:
                name, outcome = self._results.get_nowait()
            except queue.Empty:
                return
            self._handle(name, outcome)

    # -- starting ---------------------------------------------------------------------------

    def _ready(self, name: str) -> bool:
        return all(self.done_phase.get(d, Phase.PENDING).ok for d in self.waits_for[name])

    def _start_ready(self) -> None:
        progressed = True
        while progressed:
            progressed = False
            for name in self.order:
                if name in self.done_phase or name in self._active or not self._ready(name):
                    continue
                if name in self.passthrough:
                    self._finish(name, Done(Phase.COMPLETE))
                    progressed = True
                    continue
                if self.max_parallel and len(self._active) >= self.max_parallel:
                    if self.states[name].phase is not Phase.PENDING or self.states[name].detail:
                        self._set(name, Phase.PENDING)
                    continue
                self._active.add(name)
                self._set(name, Phase.CHECKING, started=self.clock())
                self._submit(name)

    def _submit(self, name: str) -> None:
        def work() -> None:
            try:
                outcome = self.ops.prepare(name)
            except StackyardError as exc:
                outcome = Done(Phase.FAILED, failure=Failure(exc.message, hint=exc.hint))
            except Exception as exc:  # a bug must not hang the run
                outcome = Done(
                    Phase.FAILED, failure=Failure(f"internal error: {type(exc).__name__}: {exc}")
                )
            self._results.put((name, outcome))

        if self._executor is None:
            work()
        else:
            self._executor.submit(work)

    # -- outcomes ---------------------------------------------------------------------------

    def _handle(self, name: str, outcome: Outcome) -> None:
        if isinstance(outcome, Done):
            self._finish(name, outcome)
        elif isinstance(outcome, InFlight):
            if self.interrupt.count >= 2:
                self._finish(name, Done(Phase.LEFT_RUNNING, "CloudFormation carries on"))
                return
            self._flights[name] = outcome
            self._events[name] = []
            self.poller.watch(
                name,
                outcome.fqn,
                outcome.location,
                status=outcome.status,
                stack_id=outcome.stack_id,
                kind=outcome.op,
            )
            self._set(
                name,
                _OP_PHASES.get(outcome.op, Phase.SUBMITTED),
                outcome.detail or _OP_DETAILS.get(outcome.op, ""),
            )
        else:
            self._flights.pop(name, None)
            if self.interrupt.stopping:
                self._finish(name, Done(Phase.NOT_STARTED, "interrupted"))
                return
            self._set(name, Phase.CHECKING, outcome.detail)
            self._submit(name)

    def _poll(self) -> None:
        try:
            updates = self.poller.poll()
        except StackyardError as exc:
            self._poll_failures += 1
            self.listener.note(f"could not read stack statuses ({exc.message}); retrying")
            if self._poll_failures >= _POLL_FAILURES_TOLERATED:
                for name in list(self._flights):
                    self.poller.unwatch(name)
                    self._finish(
                        name,
                        Done(
                            Phase.FAILED, failure=Failure(f"lost track of the stack: {exc.message}")
                        ),
                    )
            return
        self._poll_failures = 0
        if self.tail:
            self._tail_round(updates)
        for update in updates:
            name = update.key
            flight = self._flights.get(name)
            if flight is None:
                self.poller.unwatch(name)
                continue
            events = self._events.setdefault(name, [])
            events.extend(self.ops.redact_events(name, update.events))
            if update.stack is not None:
                self.poller.gateway.remember(flight.location, flight.fqn, update.stack)
            latest = events[-1] if events else self.states[name].latest_event
            try:
                outcome = self.ops.settled(name, flight, update.stack, events)
            except StackyardError as exc:
                outcome = Done(Phase.FAILED, failure=Failure(exc.message, hint=exc.hint))
            if outcome is None:
                status = update.stack.status if update.stack else ""
                phase = (
                    Phase.ROLLING_BACK
                    if "ROLLBACK_IN_PROGRESS" in status
                    else (self.states[name].phase)
                )
                self._set(name, phase, self.states[name].detail, latest_event=latest)
                continue
            self.poller.unwatch(name)
            self._flights.pop(name, None)
            if latest is not None:
                self.states[name] = self.states[name].moved(
                    self.states[name].phase, self.states[name].detail, latest_event=latest
                )
            self._handle(name, outcome)

    def _tail_round(self, updates: Sequence[StatusUpdate]) -> None:
        """Report the events each stack in flight has had since the last round, oldest first
        (before this round's updates settle any of them, so a stack's last events are in)."""
        seen_ids = {u.key: u.stack.stack_id for u in updates if u.stack is not None}
        for name, flight in list(self._flights.items()):
            # By id: a deleted stack's events stay readable by its id, not by its name.
            stack = flight.stack_id or seen_ids.get(name) or flight.fqn
            reported = self._tailed.setdefault(name, set())
            try:
                newest_first = self.poller.gateway.stack_events(
                    stack, flight.location, stop=reported
                )
            except StackyardError:
                continue  # not there yet, or a read that failed: the next round tries again
            fresh = [e for e in reversed(newest_first) if e.event_id not in reported]
            reported.update(e.event_id for e in fresh)
            if fresh:
                self.listener.stack_events(self.states[name], self.ops.redact_events(name, fresh))

    def _finish(self, name: str, done: Done) -> None:
        self._active.discard(name)
        self.done_phase[name] = done.phase
        if name not in self.passthrough:
            self._set(name, done.phase, done.detail, failure=done.failure, finished=self.clock())
        if not done.phase.ok:
            self._cancel_dependents(name, done)
        self._refresh_waiting(self._seen_through(name))

    def _cancel_dependents(self, name: str, done: Done) -> None:
        why = str(done.failure) if done.failure else done.detail or str(done.phase)
        stack = {d for d in self.dependents[name]}
        while stack:
            node = stack.pop()
            if node in self.done_phase or node in self._active:
                continue
            self.done_phase[node] = Phase.CANCELLED
            if done.phase is Phase.NOT_STARTED:
                self.done_phase[node] = Phase.NOT_STARTED
            if node not in self.passthrough:
                phase = self.done_phase[node]
                detail = (
                    "interrupted"
                    if phase is Phase.NOT_STARTED
                    else f"dependency {name} {done.phase}: {why}"
                )
                self._set(node, phase, detail, finished=self.clock())
            stack |= self.dependents[node]

    def _seen_through(self, name: str) -> list[str]:
        """The stacks whose "waiting on" line names ``name``: its dependents, and through
        targets theirs, in run order (only these change when ``name`` finishes)."""
        found: set[str] = set()
        todo = list(self.dependents[name])
        while todo:
            node = todo.pop()
            if node not in found:
                found.add(node)
                if node in self.passthrough:
                    todo.extend(self.dependents[node])
        return sorted((n for n in found if n in self._position), key=self._position.__getitem__)

    def _refresh_waiting(self, names: Iterable[str] | None = None) -> None:
        """Update the "waiting on" line of ``names`` (all stacks when None)."""
        for name in self.order if names is None else names:
            if name in self.done_phase or name in self._active or name in self.passthrough:
                continue
            unfinished = sorted(self._visible_unfinished(name))
            if unfinished:
                detail = (
                    "on "
                    + ", ".join(unfinished[:3])
                    + (f" +{len(unfinished) - 3}" if len(unfinished) > 3 else "")
                )
                if self.states[name].phase is not Phase.WAITING or self.states[name].detail != (
                    detail
                ):
                    self._set(name, Phase.WAITING, detail)

    def _visible_unfinished(self, name: str) -> set[str]:
        """Unfinished stacks ``name`` waits for, looking through targets."""
        out: set[str] = set()
        for dep in self.waits_for[name]:
            if dep in self.done_phase:
                continue
            if dep in self.passthrough:
                out |= self._visible_unfinished(dep)
            else:
                out.add(dep)
        return out

    # -- interrupts -------------------------------------------------------------------------

    def _stop_new(self) -> None:
        self._stopped_new = True
        for name in self.order:
            if name in self.done_phase or name in self._active:
                continue
            self.done_phase[name] = Phase.NOT_STARTED
            if name not in self.passthrough:
                self._set(name, Phase.NOT_STARTED, "interrupted", finished=self.clock())
        flying = sorted(n for n in self._active if n not in self.passthrough)
        self.listener.note(
            "interrupted: submitting nothing new; waiting for "
            + (", ".join(flying) if flying else "nothing")
            + " (press Ctrl-C again to stop waiting)"
        )

    def _leave_running(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
            self._drain()
        left = sorted(self._flights)
        for name in left:
            self.poller.unwatch(name)
            self._finish(name, Done(Phase.LEFT_RUNNING, "CloudFormation carries on"))
        self._flights.clear()
        if left:
            self.listener.note(
                "stopped waiting; CloudFormation carries on with: "
                + ", ".join(left)
                + " (rerun the same command to converge)"
            )

    # -- reporting --------------------------------------------------------------------------

    def _set(self, name: str, phase: Phase, detail: str = "", **changes: object) -> None:
        state = self.states[name].moved(phase, detail, **changes)
        self.states[name] = state
        self.listener.stack_changed(state)
