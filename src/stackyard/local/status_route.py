"""The status route: ``GET /_stackyard/status`` with pid, uptime, calls, faults and health."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stackyard.local.accounting import CallAccounting
from stackyard.local.faults import FaultInjector
from stackyard.local.wsgi import StartResponse, WSGIApp, json_response, status_code

__all__ = ["StatusRoute"]


@dataclass
class StatusRoute:
    """``GET /_stackyard/status``: pid, uptime, calls, faults and the unsupported resource types.

    The unsupported types come from the inner app's health route, so this needs no handle on
    the emulator.
    """

    calls: CallAccounting | None = None
    faults: FaultInjector | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def payload(self, app: WSGIApp) -> dict[str, Any]:
        """The status document."""
        health = _get_json(app, "/_stackyard/health")
        calls = self.calls.snapshot() if self.calls is not None else None
        return {
            "pid": os.getpid(),
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds"),
            "uptime_seconds": round(time.time() - self.started, 1),
            "health": health.get("status", "unknown"),
            "unsupported_types": health.get("unsupported_types") or {},
            "calls": calls,
            "faults": self.faults.report() if self.faults is not None else None,
            **{key: value() if callable(value) else value for key, value in self.extra.items()},
        }

    def __call__(self, app: WSGIApp) -> WSGIApp:
        def status_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/_stackyard/status":
                return json_response(start_response, 200, self.payload(app))
            return app(environ, start_response)

        return status_app


def _get_json(app: WSGIApp, path: str) -> dict[str, Any]:
    """GET ``path`` from a WSGI app in-process; {} if it does not answer with JSON."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "0",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
        statuses.append(status)
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not statuses or status_code(statuses[-1]) != 200:
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
