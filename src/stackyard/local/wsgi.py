"""Shared WSGI plumbing of the local endpoint's middlewares: app types, the ops prefix, bodies.

Routes under ``OPS_PREFIX`` (``/_stackyard/``) are the endpoint's own: the middlewares never
count or fault them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "OPS_PREFIX",
    "StartResponse",
    "WSGIApp",
    "json_response",
    "read_body",
    "status_code",
]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
StartResponse = Callable[..., Any]

OPS_PREFIX = "/_stackyard/"


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, so the app behind still finds it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None or length <= 0:
        return b""
    body: bytes = stream.read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def json_response(start_response: StartResponse, status: int, payload: object) -> list[bytes]:
    """Answer with ``payload`` as indented JSON and the given status."""
    from http import HTTPStatus

    body = json.dumps(payload, indent=2, sort_keys=True).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def status_code(status: str) -> int:
    """The numeric code of a WSGI status line (``"200 OK"`` -> 200); 0 if there is none."""
    try:
        return int(status.split(None, 1)[0])
    except (ValueError, IndexError):
        return 0
