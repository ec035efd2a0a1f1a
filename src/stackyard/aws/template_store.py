"""Templates too big to send inline go to the template bucket, under content-addressed keys.

CloudFormation takes at most 51,200 bytes in ``TemplateBody``; larger templates
must be given as a ``TemplateURL`` in S3. The key holds a hash of the
content, so an unchanged template is never uploaded twice, and the bucket is
created the first time it is needed.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from stackyard.aws.errors import error_code, map_client_error
from stackyard.aws.session import ClientFactory, Location
from stackyard.errors import ConfigError

__all__ = ["TEMPLATE_BODY_LIMIT", "TemplateStore", "default_bucket_name"]

TEMPLATE_BODY_LIMIT = 51_200


def default_bucket_name(namespace: str) -> str:
    """The bucket used when the config names none: ``stackyard-<namespace>``."""
    cleaned = "".join(c if c.isalnum() or c in "-." else "-" for c in namespace.lower())
    return f"stackyard-{cleaned}".strip("-.")[:63] or "stackyard-templates"


class TemplateStore:
    """Uploads large templates and answers with the URL CloudFormation should read."""

    def __init__(
        self,
        clients: ClientFactory,
        *,
        bucket: str | None,
        namespace: str,
        bucket_region: str | None = None,
        profile: str | None = None,
    ) -> None:
        self.clients = clients
        self.bucket = default_bucket_name(namespace) if bucket is None else bucket
        self.namespace = namespace
        self.location = Location(region=bucket_region, profile=profile)
        self._lock = threading.Lock()
        self._bucket_ready = False
        self.uploads = 0

    @staticmethod
    def key_for(fqn: str, body: str) -> str:
        """The object key of a template: stack name plus a hash of the content."""
        digest = hashlib.sha256(body.encode()).hexdigest()[:32]
        return f"stackyard/{fqn}/{digest}.json"

    def template_location(self, fqn: str, body: str) -> tuple[str | None, str | None]:
        """``(body, None)`` for a small template, ``(None, url)`` once a large one is stored."""
        if len(body.encode()) <= TEMPLATE_BODY_LIMIT:
            return body, None
        if not self.bucket:
            raise ConfigError(
                f"the template of {fqn} is {len(body.encode())} bytes, over CloudFormation's "
                f"{TEMPLATE_BODY_LIMIT} inline limit, and no template bucket is configured",
                stack=fqn,
                hint="set template_bucket (or stacker_bucket) in the config",
            )
        s3 = self.clients.client("s3", self.location)
        key = self.key_for(fqn, body)
        with self._lock:
            self._ensure_bucket(s3)
            if not self._exists(s3, key):
                try:
                    s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode())
                except Exception as exc:
                    raise map_client_error(exc, "PutObject", fqn) from exc
                self.uploads += 1
        return None, self.url(s3, key)

    def url(self, s3: Any, key: str) -> str:
        """A path-style URL of ``key`` on the client's endpoint."""
        endpoint = str(s3.meta.endpoint_url).rstrip("/")
        return f"{endpoint}/{self.bucket}/{key}"

    def _exists(self, s3: Any, key: str) -> bool:
        try:
            s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise map_client_error(exc, "HeadObject") from exc
        return True

    def _ensure_bucket(self, s3: Any) -> None:
        if self._bucket_ready:
            return
        try:
            s3.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise map_client_error(exc, "HeadBucket") from exc
            region = s3.meta.region_name
            args: dict[str, Any] = {"Bucket": self.bucket}
            if region and region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": region}
            try:
                s3.create_bucket(**args)
            except Exception as create_exc:
                if error_code(create_exc) != "BucketAlreadyOwnedByYou":
                    raise map_client_error(create_exc, "CreateBucket") from create_exc
        self._bucket_ready = True
