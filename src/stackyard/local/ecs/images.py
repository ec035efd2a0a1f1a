"""Which container images are unhealthy on the local endpoint.

Nothing runs containers locally, so an image is healthy unless it is marked as failing:

- by name: an image reference containing ``unhealthy`` (``app:unhealthy``,
  ``registry/app:v2-unhealthy``) fails its health check;
- at run time: ``POST /_stackyard/health/images`` with ``{"image": "app:v2", "healthy": false}``
  marks one (``"healthy": true`` clears it; ``DELETE`` clears all; ``GET`` lists them).

Tasks of an unhealthy image start, then fail their health check (their load balancer targets
turn ``unhealthy``) and stop, which is what deployment circuit breakers watch for. The marks
belong to the running process and are not saved with ``--state``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

from stackyard.local.wsgi import StartResponse, json_response, read_body

__all__ = ["IMAGES_PATH", "MARKER", "ImageHealth", "image_health"]

IMAGES_PATH = "/_stackyard/health/images"
MARKER = "unhealthy"


class ImageHealth:
    """The set of images marked as failing, and the name marker."""

    def __init__(self) -> None:
        self._failing: set[str] = set()
        self._lock = threading.Lock()

    def is_failing(self, image: str | None) -> bool:
        """Whether tasks of ``image`` fail their health checks."""
        if not image:
            return False
        with self._lock:
            if image in self._failing:
                return True
        return MARKER in image

    def mark(self, image: str, healthy: bool) -> None:
        """Mark ``image`` failing (``healthy=False``) or clear its mark."""
        with self._lock:
            if healthy:
                self._failing.discard(image)
            else:
                self._failing.add(image)

    def clear(self) -> None:
        """Clear every mark."""
        with self._lock:
            self._failing.clear()

    def failing(self) -> list[str]:
        """The images marked failing, sorted."""
        with self._lock:
            return sorted(self._failing)

    def handle(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The ``/_stackyard/health/images`` route."""
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "DELETE":
            self.clear()
        elif method == "POST":
            try:
                body = json.loads(read_body(environ) or b"{}")
                image = str(body["image"])
                healthy = bool(body.get("healthy", False))
            except (ValueError, KeyError, TypeError):
                return json_response(
                    start_response,
                    400,
                    {"error": 'expected JSON {"image": "name:tag", "healthy": false}'},
                )
            self.mark(image, healthy)
        elif method != "GET":
            return json_response(start_response, 405, {"error": f"{method} not allowed"})
        return json_response(start_response, 200, {"failing": self.failing(), "marker": MARKER})


image_health = ImageHealth()
