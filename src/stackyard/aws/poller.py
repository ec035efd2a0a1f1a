"""Batched status polling: one listing per location reports on every stack in flight.

Each round makes one paginated DescribeStacks per location that has stacks in
flight, however many there are, and reads events only for stacks whose status
changed since the last round to one that is not a plain success (a failure,
a rollback, an intermediate status): that is where reasons are. Events of an
operation simply under way (``CREATE_IN_PROGRESS``...) are only for the progress
view, so they are read with spare rate budget and never delay a status poll. When an
account holds so many stacks that its listing takes more pages than there are
stacks in flight, those stacks are described one by one instead. The interval
adapts to the youngest operation: short while stacks are young (most finish
quickly), longer for long-running ones, between ``PollPolicy.min_interval``
and ``max_interval``.

Polls are also aimed at each stack's likely finish: operations of one kind in one run
take about as long as each other (the same latency per resource, similar templates), so
once some have finished, a stack still in flight is polled over the durations seen so far,
from a little before the fastest to a little after the slowest, but never further than
``aim_window`` from the median, every ``aim_interval`` (or every ``aim_ratio`` of the median,
if longer: a minute-long operation gains nothing from polls 20 ms apart). Completion is
then seen within about that interval of happening instead of within a whole interval, at
the cost of a few extra listings (which cover every stack in flight at once) per wave: the
tighter the durations, the fewer.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from stackyard.aws.cloudformation import CloudFormationGateway, DeployedStack, StackEvent
from stackyard.aws.session import Location
from stackyard.errors import StackyardError

__all__ = ["PollPolicy", "StatusPoller", "StatusUpdate"]


@dataclass(frozen=True)
class PollPolicy:
    """Poll every ``ramp`` times the youngest operation's age, within [min, max] seconds."""

    min_interval: float = 0.1
    max_interval: float = 10.0
    ramp: float = 0.1
    aim_interval: float = 0.02  # polls around a stack's likely finish
    aim_ratio: float = 0.01  # or this share of the median duration, if longer
    aim_lead: float = 0.06  # from this long before the fastest duration seen (after the slowest)
    aim_window: float = 0.15  # never further than this from the median

    def interval(self, youngest_age: float) -> float:
        """Seconds between rounds when the youngest operation is ``youngest_age`` old."""
        return min(self.max_interval, max(self.min_interval, youngest_age * self.ramp))


@dataclass
class _Watch:
    fqn: str
    location: Location
    started: float
    status: str | None
    stack_id: str | None
    kind: str = ""
    seen: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class StatusUpdate:
    """A watched stack's status changed (``stack`` is None once it is gone)."""

    key: str
    stack: DeployedStack | None
    events: tuple[StackEvent, ...]  # new events, oldest first


class StatusPoller:
    """Watches stacks by key; ``poll`` reports those whose status changed."""

    def __init__(
        self,
        gateway: CloudFormationGateway,
        *,
        policy: PollPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gateway = gateway
        self.policy = policy or PollPolicy()
        self.clock = clock
        self._watches: dict[str, _Watch] = {}
        self._last_round: float | None = None
        self._durations: dict[str, list[float]] = {}  # by kind: how long operations took
        self._typical: dict[str, tuple[float, float, float]] = {}  # by kind: min, median, max
        self.rounds = 0

    def watch(
        self,
        key: str,
        fqn: str,
        location: Location,
        *,
        status: str | None = None,
        stack_id: str | None = None,
        kind: str = "",
    ) -> None:
        """Report on ``fqn`` under ``key`` from now on; ``status`` is the one last seen;
        ``kind`` (create, update, delete...) groups operations whose durations are alike."""
        self._watches[key] = _Watch(fqn, location, self.clock(), status, stack_id, kind)

    def unwatch(self, key: str) -> None:
        """Stop reporting on ``key``; if its operation ended, remember how long it took."""
        watch = self._watches.pop(key, None)
        if watch is not None and watch.kind and not _in_progress(watch.status):
            seen = self._durations.setdefault(watch.kind, [])
            seen.append(self.clock() - watch.started)
            # Kept up to date here, once per finished operation, not in every due_in().
            self._typical[watch.kind] = (min(seen), statistics.median(seen), max(seen))

    def _aim(self, key: str) -> tuple[float, float, float, float] | None:
        """When and how often to aim polls at ``key``: (from, likely finish, until, every),
        or None before an operation of its kind ended."""
        watch = self._watches.get(key)
        typical = self._typical.get(watch.kind) if watch is not None else None
        if watch is None or typical is None:
            return None
        fastest, median, slowest = typical
        policy = self.policy
        begin = max(fastest, median - policy.aim_window) - policy.aim_lead
        end = min(slowest, median + policy.aim_window) + policy.aim_lead
        every = max(policy.aim_interval, median * policy.aim_ratio)
        return watch.started + begin, watch.started + median, watch.started + end, every

    @property
    def watching(self) -> list[str]:
        """Keys being watched."""
        return list(self._watches)

    def due_in(self) -> float | None:
        """Seconds until the next round is due (0: now); None when nothing is watched."""
        if not self._watches:
            return None
        now = self.clock()
        youngest = min(now - w.started for w in self._watches.values())
        oldest = min(w.started for w in self._watches.values())
        anchor = oldest if self._last_round is None else max(self._last_round, oldest)
        due = anchor + self.policy.interval(youngest)
        last = self._last_round if self._last_round is not None else oldest
        for key in self._watches:
            window = self._aim(key)
            if window is None or now > window[2] or window[0] > window[2]:
                continue  # nothing known yet, the window passed, or aiming is off
            due = min(due, max(window[0], last + window[3]))
        return max(0.0, due - now)

    def poll(self) -> list[StatusUpdate]:
        """One round: a listing per location, events for stacks whose status changed."""
        self._last_round = self.clock()
        self.rounds += 1
        updates: list[StatusUpdate] = []
        locations = sorted({w.location for w in self._watches.values()}, key=lambda x: x.sort_key)
        for location in locations:
            watches = [(k, w) for k, w in self._watches.items() if w.location == location]
            listing = self._read(location, [w for _, w in watches])
            for key, watch in watches:
                stack = listing.get(watch.fqn)
                if stack is not None and watch.stack_id and stack.stack_id != watch.stack_id:
                    stack = None  # a different stack of the same name: ours is gone
                status = stack.status if stack else None
                if status == watch.status:
                    continue
                watch.status = status
                events: tuple[StackEvent, ...] = ()
                stack_id = stack.stack_id if stack else watch.stack_id
                if stack is not None:
                    watch.stack_id = stack.stack_id
                if stack_id and _worth_reading(status):
                    events = self._new_events(watch, stack_id, optional=_routine(status))
                updates.append(StatusUpdate(key, stack, events))
        return updates

    def _read(self, location: Location, watches: list[_Watch]) -> dict[str, DeployedStack | None]:
        """One listing, or one DescribeStacks per stack when that costs fewer calls (an account
        with many stacks needs several pages per listing)."""
        pages = self.gateway.pages.get(location, 1)
        if len(watches) >= pages:
            return dict(self.gateway.list_stacks(location))
        out: dict[str, DeployedStack | None] = {}
        for watch in watches:
            out[watch.fqn] = self.gateway.describe_stack(watch.stack_id or watch.fqn, location)
        return out

    def _new_events(
        self, watch: _Watch, stack_id: str, *, optional: bool
    ) -> tuple[StackEvent, ...]:
        try:
            newest_first = self.gateway.stack_events(
                stack_id, watch.location, stop=watch.seen, optional=optional
            )
        except StackyardError:
            return ()  # events are for display and reasons; the status change still counts
        watch.seen.update(e.event_id for e in newest_first)
        return tuple(reversed(newest_first))


def _in_progress(status: str | None) -> bool:
    return bool(status) and str(status).endswith("_IN_PROGRESS")


def _routine(status: str | None) -> bool:
    """An operation under way as asked: its events are for show, read with spare budget."""
    return bool(status) and status in ROUTINE_IN_PROGRESS


ROUTINE_IN_PROGRESS = frozenset(
    {"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "IMPORT_IN_PROGRESS"}
)


def _worth_reading(status: str | None) -> bool:
    """Events add nothing to a plain success (or a deletion) but a status: skip the read."""
    if status is None:
        return False
    return not (status.endswith("_COMPLETE") and "ROLLBACK" not in status)
