"""The server's settings: ``server.yaml`` for what may be reviewed, the environment for secrets.

    apps_file: apps.yaml                  # the environments (relative to this file)
    registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com   # default: the account's ECR
    aliases: {production: prod, staging: stage}
    public_dashboard: false               # true: the dashboard needs no token
    slack:
      notify_url: https://hooks.slack.com/services/...   # lock steals, CD held by a lock
    github:
      api_url: https://api.github.com
    apps:
      api:
        repository: acme/api
        image: "{registry}/{app}:{sha}"   # a ref becomes an image through this template
        default_ref: main
        default_environment: stage
        canary: {steps: [10, 50], bake: 60}   # deploys to a sub-environment step like this
        cd:
          branch: main
          environment: stage
          required: [ci/test, build]      # statuses or check runs that must pass

Secrets never live in the file: ``STACKYARD_SLACK_SIGNING_SECRET``,
``STACKYARD_GITHUB_WEBHOOK_SECRET`` and ``STACKYARD_GITHUB_TOKEN``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stackyard.config.source import load_yaml
from stackyard.errors import ConfigError

SLACK_SECRET = "STACKYARD_SLACK_SIGNING_SECRET"
GITHUB_SECRET = "STACKYARD_GITHUB_WEBHOOK_SECRET"
GITHUB_TOKEN = "STACKYARD_GITHUB_TOKEN"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Delivery(_Strict):
    """Continuous delivery of one app: a branch to an environment once checks pass."""

    branch: str = "main"
    environment: str = "stage"
    required: list[str] = Field(default_factory=list)


class CanarySettings(_Strict):
    """How a deploy to a sub-environment (``prod/canary``) steps its traffic weight."""

    steps: list[int] = Field(default_factory=lambda: [10, 50])
    bake: float = 60.0  # seconds each step runs while its health is watched
    poll: float = 5.0


class AppSettings(_Strict):
    """How the server deploys one app from a ref."""

    repository: str = ""
    image: str = "{registry}/{app}:{ref}"
    default_ref: str = "main"
    default_environment: str = "stage"
    cd: Delivery | None = None
    canary: CanarySettings = CanarySettings()


class SlackSettings(_Strict):
    notify_url: str = ""


class GitHubSettings(_Strict):
    api_url: str = "https://api.github.com"


class ServerSettings(_Strict):
    """The whole ``server.yaml``."""

    apps_file: str = "apps.yaml"
    registry: str = ""
    aliases: dict[str, str] = Field(default_factory=dict)
    public_dashboard: bool = False
    slack: SlackSettings = SlackSettings()
    github: GitHubSettings = GitHubSettings()
    apps: dict[str, AppSettings] = Field(default_factory=dict)

    def app(self, name: str) -> AppSettings:
        """The settings of app ``name`` (the defaults when it has none)."""
        return self.apps.get(name, AppSettings())


class Secrets(BaseModel):
    """The server's secrets, from its environment."""

    model_config = ConfigDict(frozen=True)

    slack_signing_secret: str = ""
    github_webhook_secret: str = ""
    github_token: str = ""

    @classmethod
    def from_environ(cls) -> Secrets:
        return cls(
            slack_signing_secret=os.environ.get(SLACK_SECRET, ""),
            github_webhook_secret=os.environ.get(GITHUB_SECRET, ""),
            github_token=os.environ.get(GITHUB_TOKEN, ""),
        )

    def __repr__(self) -> str:  # never print a secret
        return "Secrets(...)"

    __str__ = __repr__


def load_settings(path: str | None) -> tuple[ServerSettings, Path]:
    """Read ``server.yaml`` (None: the defaults); the settings and the folder paths are
    relative to. ConfigError with file:line:key."""
    if path is None:
        return ServerSettings(), Path.cwd()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the server file: {exc.strerror}", file=path) from exc
    data, source = load_yaml(text, path)
    try:
        settings = ServerSettings.model_validate(data or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = tuple(p for p in err["loc"] if isinstance(p, str | int))
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise source.error(message, where) from None
    return settings, Path(path).resolve().parent
