"""Call accounting: a middleware counting calls per service and action, client and status."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from stackyard.local.request_info import RequestInfo, classify
from stackyard.local.wsgi import OPS_PREFIX, StartResponse, WSGIApp, json_response, status_code

__all__ = ["CallAccounting"]


class _RecordOnClose:
    """An iterable over a response that calls ``done`` once, when the server closes it."""

    def __init__(self, result: Iterable[bytes], done: Callable[[], None]) -> None:
        self._result = result
        self._done = done
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self._result
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


class CallAccounting:
    """Counts requests per service and action, per client, and by response status; thread-safe.

    Call the instance with a WSGI app to get the counting app.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._services: dict[str, Counter[str]] = {}
        self._clients: dict[str, Counter[str]] = {}
        self._statuses: Counter[str] = Counter()
        self._since = clock()

    def record(self, info: RequestInfo, outcome: str) -> None:
        """Count one call; ``outcome`` is a status class (``2xx``...) or ``dropped``."""
        with self._lock:
            self._services.setdefault(info.service, Counter())[info.action] += 1
            self._clients.setdefault(info.client, Counter())[info.key] += 1
            self._statuses[outcome] += 1

    def snapshot(self) -> dict[str, Any]:
        """The counts as plain data (what ``GET /_stackyard/calls`` returns)."""
        with self._lock:
            return self._snapshot_unlocked()

    def reset(self) -> dict[str, Any]:
        """Return the counts and start again from zero, atomically."""
        with self._lock:
            snapshot = self._snapshot_unlocked()
            self._services.clear()
            self._clients.clear()
            self._statuses.clear()
            self._since = self._clock()
        return snapshot

    def _snapshot_unlocked(self) -> dict[str, Any]:
        services = {name: dict(sorted(c.items())) for name, c in self._services.items()}
        return {
            "since": datetime.fromtimestamp(self._since, UTC).isoformat(timespec="seconds"),
            "total": sum(sum(actions.values()) for actions in services.values()),
            "services": dict(sorted(services.items())),
            "clients": {name: dict(sorted(c.items())) for name, c in sorted(self._clients.items())},
            "statuses": dict(sorted(self._statuses.items())),
        }

    def __call__(self, app: WSGIApp) -> WSGIApp:
        def counting_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            path = str(environ.get("PATH_INFO") or "")
            method = str(environ.get("REQUEST_METHOD") or "GET").upper()
            if path == "/_stackyard/calls" and method == "GET":
                return json_response(start_response, 200, self.snapshot())
            if (path == "/_stackyard/calls/reset" and method == "POST") or (
                path == "/_stackyard/calls" and method == "DELETE"
            ):
                return json_response(start_response, 200, self.reset())
            if path.startswith(OPS_PREFIX):
                return app(environ, start_response)

            info = classify(environ)
            seen: list[str] = []

            def recording_start_response(status: str, *args: Any) -> Any:
                seen.append(status)
                return start_response(status, *args)

            try:
                result = app(environ, recording_start_response)
            except ConnectionError:
                self.record(info, "dropped")
                raise
            except Exception:
                self.record(info, "5xx")  # the server answers 500 for an app that raises
                raise

            def done() -> None:
                code = status_code(seen[-1]) if seen else 0
                self.record(info, f"{code // 100}xx" if code else "dropped")

            if seen:  # the usual case: the status is known before the body is sent
                done()
                return result
            return _RecordOnClose(result, done)

        return counting_app
