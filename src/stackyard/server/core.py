"""What every part of the server shares: the database, settings, secrets, the environments,
where AWS is, and this process's identity among the server processes."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackyard.apps.db.database import Database
from stackyard.server.auth import GUARDED, root
from stackyard.server.config import Secrets, ServerSettings
from stackyard.server.outbound import GitHub

if TYPE_CHECKING:
    from stackyard.apps.environments import Environments
    from stackyard.apps.service import AppsService
    from stackyard.server.images import Resolved


class SerialDatabase(Database):
    """The apps database with its SQLite sessions taken one at a time in this process.

    SQLite lets one writer in at a time and makes the others sleep and retry (backing off up
    to 100 ms a try); under a server's concurrent requests those sleeps, not the work,
    dominate. A process lock queues them instead. PostgreSQL sessions are not serialised.
    """

    _gate: threading.RLock

    @classmethod
    def wrap(cls, db: Database) -> Database:
        if db.dialect != "sqlite" or isinstance(db, SerialDatabase):
            return db
        wrapped = cls(db.engine, db.url)
        wrapped._gate = threading.RLock()
        return wrapped

    @contextmanager
    def session(self) -> Iterator[Any]:
        with self._gate, super().session() as session:
            yield session


def server_id() -> str:
    """This process among the server processes: ``host pid N #xxxx``."""
    return f"{socket.gethostname()} pid {os.getpid()} #{uuid.uuid4().hex[:6]}"


@dataclass
class Server:
    """One server process's shared state."""

    db: Database
    settings: ServerSettings = field(default_factory=ServerSettings)
    secrets: Secrets = field(default_factory=Secrets)
    environments: Environments | None = None
    endpoint_url: str | None = None
    region: str = "us-east-1"
    base: Path = field(default_factory=Path.cwd)
    ident: str = field(default_factory=server_id)
    _registry: str = ""

    def __post_init__(self) -> None:
        # reads take the database as it is (SQLite's WAL lets them run beside a writer);
        # everything else queues in this process (SerialDatabase)
        self.reads: Database = self.db
        self.db = SerialDatabase.wrap(self.db)

    def reader(self, actor: str) -> AppsService:
        """The apps service for reads only (not queued behind writers)."""
        from stackyard.apps.service import AppsService

        return AppsService(self.reads, self.environments, None, actor, self.region)

    # -- environments ------------------------------------------------------------------
    def guarded(self, env: str) -> bool:
        """Whether ``*`` scopes stop short of ``env``: prod, its sub-environments, and every
        environment apps.yaml marks protected."""
        if root(env) in GUARDED:
            return True
        if self.environments is None:
            return False
        spec = self.environments.specs.get(root(env))
        return bool(spec and spec.protected)

    def environment(self, name: str) -> str:
        """An environment name with aliases applied (``production`` → ``prod``;
        ``production/canary`` → ``prod/canary``)."""
        head, sep, rest = name.partition("/")
        head = self.settings.aliases.get(head, head)
        return f"{head}{sep}{rest}"

    def known_environment(self, name: str) -> bool:
        """Whether ``name`` (or its root) is an environment of apps.yaml (any, without one)."""
        if self.environments is None:
            return True
        return root(name) in self.environments.specs or name in self.environments.specs

    def environment_names(self) -> list[str]:
        """The environments apps.yaml declares."""
        return sorted(self.environments.specs) if self.environments else []

    # -- AWS ---------------------------------------------------------------------------
    def gateway(self) -> Any:
        """A CloudFormation gateway of its own (one per job: clients are not shared across
        threads that outlive each other)."""
        from stackyard.workflow import connect

        return connect(endpoint_url=self.endpoint_url, region=self.region)

    def service(self, actor: str, gateway: Any = None) -> AppsService:
        """The apps service acting as ``actor``."""
        from stackyard.apps.service import AppsService

        return AppsService(self.db, self.environments, gateway, actor, self.region)

    def registry(self, gateway: Any) -> str:
        """The registry ``{registry}`` stands for (default: the account's ECR)."""
        if self.settings.registry:
            return self.settings.registry
        if not self._registry:
            from stackyard.server.images import registry_of

            self._registry = registry_of(gateway.clients.client("sts"), self.region)
        return self._registry

    def github(self) -> GitHub | None:
        """The GitHub API client, when the server has a token."""
        if not self.secrets.github_token:
            return None
        return GitHub(self.settings.github.api_url.rstrip("/"), self.secrets.github_token)

    def resolve(self, app: str, ref: str, gateway: Any) -> Resolved:
        """``ref`` of ``app`` to the image the registry confirms (ImageMissing otherwise)."""
        from stackyard.server.images import HEX, Resolved, confirm, image_name

        settings = self.settings.app(app)
        sha = ref
        github = self.github()
        if not HEX.match(ref) and github is not None and settings.repository:
            sha = github.commit_sha(settings.repository, ref) or ref
        image = image_name(
            settings.image, registry=self.registry(gateway), app=app, ref=ref, sha=sha
        )
        pinned = confirm(image, gateway.clients.client("ecr"))
        return Resolved(ref, sha, image, pinned)
