"""The clock of the local ECS: one background thread that advances every managed service.

moto's backends live in the process, and so does this runtime: each local endpoint attaches
its lock (and latency) when it starts and detaches when it stops. A tick takes the locks of
every attached endpoint, so it never runs beside a request that reaches moto, and advances
each service to the current wall-clock time. Nothing of a service's progress lives here: it
is all on moto's models, so a state save and restore carries it (a restored task that was
PENDING starts on the first tick after the restore).
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from typing import Any

from stackyard.local.ecs.images import ImageHealth, image_health
from stackyard.local.ecs.one_off import finish as finish_one_offs
from stackyard.local.ecs.service_runner import Timing, reconcile
from stackyard.local.latency import LatencySpec

__all__ = ["TICK_SECONDS", "EcsRuntime", "runtime", "timing_from"]

TICK_SECONDS = 0.05
# Pseudo resource types of the latency spec: a task's start, and its first health check.
TASK_KEY = "AWS::ECS::Task"
HEALTH_KEY = "AWS::ECS::HealthCheck"

_log = logging.getLogger(__name__)


def timing_from(latency: LatencySpec) -> Timing:
    """Task start and health-check times from a latency spec (default: the resource time)."""
    task_seconds = latency.per_type.get(TASK_KEY, latency.resource)
    return Timing(task_seconds, latency.per_type.get(HEALTH_KEY, task_seconds))


class EcsRuntime:
    """Advances services in the background while at least one endpoint is attached."""

    def __init__(self, images: ImageHealth) -> None:
        self.images = images
        self._guard = threading.Lock()
        self._endpoints: list[tuple[Any, Timing]] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._rng = random.Random()
        self.services_seen = False
        self._idle_ticks = 0
        self._reported: set[str] = set()

    @property
    def timing(self) -> Timing:
        """The timing of the endpoint attached last."""
        with self._guard:
            return self._endpoints[-1][1] if self._endpoints else Timing()

    def attach(self, lock: Any, latency: LatencySpec) -> None:
        """Start advancing services under ``lock`` (an endpoint's lock) too."""
        with self._guard:
            self._endpoints.append((lock, timing_from(latency)))
            if self._thread is None:
                self._stop = threading.Event()
                self._thread = threading.Thread(target=self._run, name="stackyard-ecs", daemon=True)
                self._thread.start()

    def detach(self, lock: Any) -> None:
        """Forget an endpoint's lock; the thread ends with the last one."""
        thread = None
        with self._guard:
            self._endpoints = [
                (held, timing) for held, timing in self._endpoints if held is not lock
            ]
            if not self._endpoints and self._thread is not None:
                thread, self._thread = self._thread, None
                self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        stop = self._stop
        while not stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # keep the clock running; one bad service must not stop others
                _log.exception("local ECS tick failed")

    def tick(self, now: float | None = None) -> None:
        """Advance every managed service to ``now`` (default: the current time)."""
        if not self.services_seen:
            # A restored state can hold services no request has touched yet: look now and then.
            self._idle_ticks += 1
            if self._idle_ticks % 40:
                return
        with self._guard:
            locks = [lock for lock, _ in self._endpoints]
            timing = self._endpoints[-1][1] if self._endpoints else Timing()
        with contextlib.ExitStack() as stack:
            for lock in locks:
                stack.enter_context(lock)
            from moto.ecs.models import ecs_backends

            moment = time.time() if now is None else now
            backends: list[Any] = [b for _, _, b in ecs_backends.iter_backends()]
            for backend in backends:
                try:
                    finish_one_offs(backend, moment, timing, self.images)
                except Exception:  # one-off tasks must not stop the services' clock
                    _log.exception("local ECS: one-off tasks cannot advance")
                for service in list(backend.services.values()):
                    state = getattr(service, "stackyard_state", None)
                    if state is None:
                        continue
                    self.services_seen = True
                    try:
                        reconcile(backend, service, moment, timing, self.images, self._rng)
                    except Exception:  # one broken service must not stop the others
                        if state.token not in self._reported:
                            self._reported.add(state.token)
                            _log.exception("local ECS: service %s cannot advance", service.arn)


runtime = EcsRuntime(image_health)
