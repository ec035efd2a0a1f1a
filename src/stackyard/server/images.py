"""From a ref (``main``, ``3f2a9c1``) to an image the registry has.

The app's template (``{registry}/{app}:{sha}``) names the image; ``{ref}`` is the ref as
typed, ``{sha}`` the commit it resolves to (through GitHub when the server has a token and the
app a repository; a hex ref is its own sha), ``{registry}`` the server's registry (default:
the account's ECR in the server's region). Before anything is planned the registry must
confirm the image: ECR's DescribeImages for the tag. An image in another registry cannot be
checked from here and is refused unless the template names it without a registry host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from stackyard.apps.images import _ECR
from stackyard.errors import StackyardError

HEX = re.compile(r"^[0-9a-f]{7,40}$")


class ImageMissing(StackyardError):
    """The registry does not have the image a ref names."""


@dataclass(frozen=True)
class Resolved:
    """A ref, its commit, and the image the registry confirmed (pinned to its digest)."""

    ref: str
    sha: str
    image: str
    digest: str


def registry_of(sts: Any, region: str) -> str:
    """The account's ECR registry host."""
    account = sts.get_caller_identity()["Account"]
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def image_name(template: str, *, registry: str, app: str, ref: str, sha: str) -> str:
    """The template filled in."""
    try:
        return template.format(registry=registry, app=app, ref=ref, sha=sha)
    except (KeyError, IndexError) as exc:
        raise StackyardError(
            f"the image template {template!r} names an unknown field {exc}",
            hint="fields: {registry} {app} {ref} {sha}",
        ) from None


def confirm(image: str, ecr: Any) -> str:
    """``image`` pinned to its digest once ECR confirms it; ImageMissing otherwise."""
    from botocore.exceptions import ClientError

    match = _ECR.match(image)
    if not match:
        raise ImageMissing(
            f"{image} is not in an ECR registry, so it cannot be confirmed",
            hint="point the app's image template at ECR ({registry}/...)",
        )
    tag = match["tag"] or "latest"
    try:
        answer = ecr.describe_images(
            registryId=match["account"],
            repositoryName=match["repo"],
            imageIds=[{"imageTag": tag}],
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise ImageMissing(
            f"the registry has no image {image}",
            hint=f"{code}: has CI built and pushed it?" if code else "has CI pushed it?",
        ) from None
    details = answer.get("imageDetails") or []
    if not details or not details[0].get("imageDigest"):
        raise ImageMissing(f"the registry has no image {image}", hint="has CI pushed it?")
    base = image.rsplit(":", 1)[0] if match["tag"] else image
    return f"{base}@{details[0]['imageDigest']}"
