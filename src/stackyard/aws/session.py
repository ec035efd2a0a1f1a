"""Sessions and clients per (profile, region, role), with an endpoint override.

``ClientFactory`` is the one seam to botocore: the gateway, the template store and
the lookups get their clients from it, so the local endpoint, moto or a
botocore ``Stubber`` plug in at the same place. It caches per instance only.

The endpoint is, in order: the explicit ``endpoint_url`` (``--local``), else
whatever botocore picks up itself (``AWS_ENDPOINT_URL`` and its per-service
variants are honoured by botocore), else AWS. Retries are botocore's own
(``standard`` or ``adaptive`` mode); stackyard adds no retry loop on top.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from stackyard import __version__
from stackyard.errors import AWSError

__all__ = ["ClientFactory", "Location", "RetryMode"]

RetryMode = Literal["standard", "adaptive"]

# Credentials the local endpoint accepts; never used against AWS.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
DEFAULT_LOCAL_REGION = "us-east-1"


@dataclass(frozen=True)
class Location:
    """Where a stack lives: region, profile and the role assumed to reach it."""

    region: str | None = None
    profile: str | None = None
    role_arn: str | None = None

    @property
    def sort_key(self) -> tuple[str, str, str]:
        """For a stable order of locations (None sorts first)."""
        return (self.region or "", self.profile or "", self.role_arn or "")

    def __str__(self) -> str:
        parts = [self.region or "default region"]
        if self.profile:
            parts.append(f"profile {self.profile}")
        if self.role_arn:
            parts.append(f"role {self.role_arn}")
        return ", ".join(parts)


class ClientFactory:
    """Clients per service and ``Location``; one botocore session per (profile, role)."""

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        retry_mode: RetryMode = "standard",
        max_attempts: int = 8,
        default_region: str | None = None,
        session_maker: Callable[..., Any] | None = None,
        max_pool_connections: int = 50,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.retry_mode: RetryMode = retry_mode
        self.max_attempts = max_attempts
        self.default_region = default_region or (DEFAULT_LOCAL_REGION if endpoint_url else None)
        self.max_pool_connections = max_pool_connections
        self._session_maker = session_maker
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str | None, str | None], Any] = {}
        self._clients: dict[tuple[str, Location], Any] = {}

    def config(self) -> Any:
        """The botocore ``Config`` every client gets: retries, user agent, pool size."""
        from botocore.config import Config

        options: dict[str, Any] = {
            "retries": {"mode": self.retry_mode, "max_attempts": self.max_attempts},
            "user_agent_extra": f"stackyard/{__version__}",
            "user_agent_appid": "stackyard",
            "max_pool_connections": self.max_pool_connections,
        }
        return Config(**options)

    def client(self, service: str, location: Location | None = None) -> Any:
        """A client for ``service`` at ``location``; the same object for the same arguments."""
        location = location or Location()
        key = (service, location)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                session = self._session(location)
                region = location.region or self.default_region
                kwargs: dict[str, Any] = {"config": self.config()}
                if region:
                    kwargs["region_name"] = region
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                try:
                    client = session.client(service, **kwargs)
                except Exception as exc:  # botocore raises several unrelated types here
                    raise AWSError(
                        f"cannot create a {service} client for {location}: {exc}",
                        hint="check the profile, region and credentials",
                    ) from exc
                self._clients[key] = client
            return client

    def _session(self, location: Location) -> Any:
        key = (location.profile, location.role_arn)
        session = self._sessions.get(key)
        if session is None:
            session = self._make_session(location.profile)
            if location.role_arn:
                session = self._assume_role(session, location)
            self._sessions[key] = session
        return session

    def _make_session(self, profile: str | None, **credentials: str) -> Any:
        if self._session_maker is not None:
            return self._session_maker(profile=profile, **credentials)
        if self.endpoint_url and not credentials:
            # The local endpoint ignores credentials, but botocore wants some to sign with.
            credentials = dict(LOCAL_CREDENTIALS)
            profile = None
        return _ClientSession.open(profile, credentials)

    def _assume_role(self, session: Any, location: Location) -> Any:
        kwargs: dict[str, Any] = {"config": self.config()}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        region = location.region or self.default_region
        if region:
            kwargs["region_name"] = region
        sts = session.client("sts", **kwargs)
        from stackyard.aws.errors import map_client_error

        try:
            answer = sts.assume_role(RoleArn=location.role_arn, RoleSessionName="stackyard")
        except Exception as exc:
            raise map_client_error(exc, "AssumeRole") from exc
        creds = answer["Credentials"]
        return self._make_session(
            None,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )


class _ClientSession:
    """A botocore session with boto3's ``client`` call.

    stackyard makes clients only, never boto3's resources: botocore alone makes the same
    clients, and skips importing boto3 (with s3transfer) and searching its data folder,
    about 10 ms of every command's start.
    """

    def __init__(self, session: Any) -> None:
        self._session = session

    @classmethod
    def open(cls, profile: str | None, credentials: dict[str, str]) -> _ClientSession:
        """A session for ``profile`` (or the default chain), with ``credentials`` if given."""
        import botocore.exceptions
        import botocore.session

        from stackyard.aws.model_loader import install

        session = botocore.session.Session(profile=profile)
        if credentials:
            session.set_credentials(
                credentials["aws_access_key_id"],
                credentials["aws_secret_access_key"],
                credentials.get("aws_session_token"),
            )
        try:
            session.get_scoped_config()  # an unknown profile fails here, not at first call
        except botocore.exceptions.ProfileNotFound as exc:
            named = profile or session.profile  # AWS_PROFILE names it when the config does not
            raise AWSError(f"AWS profile {named!r} not found", hint="see ~/.aws/config") from exc
        install(session)
        return cls(session)

    def client(self, service: str, **kwargs: Any) -> Any:
        """A client for ``service`` (``region_name``, ``endpoint_url``, ``config`` as boto3)."""
        return self._session.create_client(service, **kwargs)
