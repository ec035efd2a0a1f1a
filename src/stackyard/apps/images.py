"""Resolving an image to its digest, so a release cannot change when a tag moves."""

from __future__ import annotations

import re
from typing import Any

_ECR = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repo>[^:@]+)(?::(?P<tag>[^@]+))?$"
)


def resolve_image(image: str, ecr: Any) -> str:
    """``image`` pinned to its digest (``repo@sha256:...``) when it is an ECR tag that the
    registry knows; any other image (a digest already, another registry) as given."""
    if "@sha256:" in image:
        return image
    match = _ECR.match(image)
    if not match:
        return image
    from botocore.exceptions import ClientError

    tag = match["tag"] or "latest"
    try:
        answer = ecr.describe_images(
            registryId=match["account"],
            repositoryName=match["repo"],
            imageIds=[{"imageTag": tag}],
        )
    except ClientError:
        return image
    details = answer.get("imageDetails") or []
    if not details or not details[0].get("imageDigest"):
        return image
    base = image.rsplit(":", 1)[0] if match["tag"] else image
    return f"{base}@{details[0]['imageDigest']}"
