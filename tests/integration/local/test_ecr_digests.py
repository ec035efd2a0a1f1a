"""The local ECR digests manifests as ECR does: the SHA-256 of the manifest as pushed."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

MEDIA = "application/vnd.docker.distribution.manifest.v2+json"


def _manifest(config_digest: str, layers: list[str]) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 7,
                "digest": config_digest,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 1,
                    "digest": d,
                }
                for d in layers
            ],
        }
    )


@pytest.fixture
def repository(aws: Callable[[str], Any]) -> str:
    name = f"digests-{uuid.uuid4().hex[:8]}"
    aws("ecr").create_repository(repositoryName=name)
    return name


def test_manifests_without_layers_get_their_own_digests(
    aws: Callable[[str], Any], repository: str
) -> None:
    ecr = aws("ecr")
    first, second = _manifest("sha256:" + "1" * 64, []), _manifest("sha256:" + "2" * 64, [])
    a = ecr.put_image(repositoryName=repository, imageManifest=first, imageTag="a")
    b = ecr.put_image(repositoryName=repository, imageManifest=second, imageTag="b")
    digests = [a["image"]["imageId"]["imageDigest"], b["image"]["imageId"]["imageDigest"]]
    assert digests == [
        "sha256:" + hashlib.sha256(first.encode()).hexdigest(),
        "sha256:" + hashlib.sha256(second.encode()).hexdigest(),
    ]
    described = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "b"}])
    assert described["imageDetails"][0]["imageDigest"] == digests[1]


def test_the_same_manifest_keeps_its_digest_under_a_new_tag(
    aws: Callable[[str], Any], repository: str
) -> None:
    ecr = aws("ecr")
    manifest = _manifest("sha256:" + "3" * 64, ["sha256:" + "4" * 64])
    one = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag="v1")
    two = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag="latest")
    assert one["image"]["imageId"]["imageDigest"] == two["image"]["imageId"]["imageDigest"]
    listed = ecr.list_images(repositoryName=repository)["imageIds"]
    assert {i["imageDigest"] for i in listed} == {one["image"]["imageId"]["imageDigest"]}


def test_a_digest_that_is_not_the_manifests_is_refused(
    aws: Callable[[str], Any], repository: str
) -> None:
    ecr = aws("ecr")
    manifest = _manifest("sha256:" + "5" * 64, [])
    with pytest.raises(ClientError) as refused:
        ecr.put_image(
            repositoryName=repository,
            imageManifest=manifest,
            imageTag="v1",
            imageDigest="sha256:" + "0" * 64,
        )
    assert refused.value.response["Error"]["Code"] == "ImageDigestDoesNotMatchException"
    assert ecr.list_images(repositoryName=repository)["imageIds"] == []
    right = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    put = ecr.put_image(
        repositoryName=repository, imageManifest=manifest, imageTag="v1", imageDigest=right
    )
    assert put["image"]["imageId"]["imageDigest"] == right
