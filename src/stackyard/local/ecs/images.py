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

from stackyard.local.marks import MarkedNames

__all__ = ["IMAGES_PATH", "MARKER", "ImageHealth", "image_health"]

IMAGES_PATH = "/_stackyard/health/images"
MARKER = "unhealthy"


class ImageHealth(MarkedNames):
    """The set of images marked as failing, and the name marker."""

    def __init__(self) -> None:
        super().__init__(
            key="image",
            flag="healthy",
            marks=False,
            listed_as="failing",
            example="name:tag",
            extra={"marker": MARKER},
        )

    def is_failing(self, image: str | None) -> bool:
        """Whether tasks of ``image`` fail their health checks."""
        if not image:
            return False
        return image in self or MARKER in image

    def mark(self, image: str, healthy: bool) -> None:
        """Mark ``image`` failing (``healthy=False``) or clear its mark."""
        self.set(image, not healthy)

    def failing(self) -> list[str]:
        """The images marked failing, sorted."""
        return self.names()


image_health = ImageHealth()
