"""A set of names that tests and drills mark on a running endpoint through a local route.

``GET`` lists the marked names; ``POST`` with ``{KEY: name, FLAG: bool}`` marks or clears one;
``DELETE`` clears them all. The marks belong to the running endpoint and are not saved with
``--state``. Used for images whose tasks fail their health checks and for listener rules that
keep their actions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from stackyard.local.wsgi import StartResponse, json_response, read_body

__all__ = ["MarkedNames"]


class MarkedNames:
    """Thread-safe marked names, and the route that changes them.

    ``key`` names the field holding the name in a POST body, ``flag`` the boolean beside it;
    a name is marked when the flag equals ``marks`` (the flag defaults to ``marks``).
    ``listed_as`` is the answer's key for the sorted names; ``extra`` goes into every answer.
    """

    def __init__(
        self,
        *,
        key: str,
        flag: str,
        marks: bool,
        listed_as: str,
        example: str,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self._names: set[str] = set()
        self._lock = threading.Lock()
        self._key, self._flag, self._marks = key, flag, marks
        self._listed_as, self._example = listed_as, example
        self._extra = dict(extra or {})

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._names

    def set(self, name: str, marked: bool) -> None:
        """Mark ``name`` (``marked=False``: clear it)."""
        with self._lock:
            if marked:
                self._names.add(name)
            else:
                self._names.discard(name)

    def clear(self) -> None:
        """Clear every mark."""
        with self._lock:
            self._names.clear()

    def names(self) -> list[str]:
        """The marked names, sorted."""
        with self._lock:
            return sorted(self._names)

    def handle(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The route: list, mark or clear one, clear all."""
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "DELETE":
            self.clear()
        elif method == "POST":
            try:
                body = json.loads(read_body(environ) or b"{}")
                name = str(body[self._key])
                flag = bool(body.get(self._flag, self._marks))
            except (ValueError, KeyError, TypeError):
                expected = json.dumps({self._key: self._example, self._flag: self._marks})
                return json_response(start_response, 400, {"error": f"expected JSON {expected}"})
            self.set(name, flag == self._marks)
        elif method != "GET":
            return json_response(start_response, 405, {"error": f"{method} not allowed"})
        return json_response(start_response, 200, {self._listed_as: self.names(), **self._extra})
