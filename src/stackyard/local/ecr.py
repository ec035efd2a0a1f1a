"""ECR image digests as the registry computes them: the SHA-256 of the manifest as pushed.

moto digests a manifest by its layers' digests (so every manifest without layers gets one
digest, the SHA-256 of nothing) or, with no ``layers`` key, by a random number. ECR, like every
registry, digests the manifest's bytes: two different manifests never share a digest, and
the same manifest always has the same one. A ``PutImage`` whose ``imageDigest`` does not match
its manifest is refused, as ECR refuses it.

Installed once per process, before the first request; the wrapper calls moto's original.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import ServiceException

__all__ = ["ImageDigestDoesNotMatch", "install", "manifest_digest"]

_installed = False


class ImageDigestDoesNotMatch(ServiceException):  # type: ignore[misc]
    """ECR's answer to a ``PutImage`` whose ``imageDigest`` is not its manifest's."""

    code = "ImageDigestDoesNotMatchException"


def manifest_digest(manifest: str) -> str:
    """``sha256:<hex>`` of the manifest's UTF-8 bytes."""
    return "sha256:" + hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def install() -> None:
    """Install the digest rule (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.ecr.models import ECRBackend, Image

    def _create_digest(self: Any) -> None:
        self._image_digest = manifest_digest(self.image_manifest)

    Image._create_digest = _create_digest  # type: ignore[method-assign]
    ECRBackend.put_image = _checked_digest(ECRBackend.put_image)  # type: ignore[method-assign]


def _checked_digest(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_image(
        self: Any,
        repository_name: str,
        image_manifest: str,
        image_tag: str,
        image_manifest_mediatype: str | None = None,
        digest: str | None = None,
    ) -> Any:
        if digest and digest != manifest_digest(image_manifest):
            raise ImageDigestDoesNotMatch(
                f"The specified image digest {digest} does not match the digest that ECR "
                "calculated for the image manifest"
            )
        return original(
            self, repository_name, image_manifest, image_tag, image_manifest_mediatype, digest
        )

    return put_image
