"""The apps service, over a stackyard server's API: what ``stackyard apps --server URL``
(or ``STACKYARD_SERVER``) uses instead of the local database. Same methods, same results,
so the CLI prints the same output; the token is ``STACKYARD_TOKEN``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from stackyard.apps.follow import Rollout
from stackyard.apps.formation import Scale
from stackyard.apps.manifest import Manifest, manifest_data
from stackyard.apps.service import DeployResult, EventInfo, ReleaseInfo, RunInfo, TaskInfo
from stackyard.errors import StackyardError, UsageError

TOKEN_VARIABLE = "STACKYARD_TOKEN"
EXIT = {"succeeded": 0, "held": 3}


class ServerError(StackyardError):
    """The server refused or failed a request."""


@dataclass
class RemoteService:
    """:class:`stackyard.apps.service.AppsService`'s operations through the server."""

    url: str
    token: str = field(default_factory=lambda: os.environ.get(TOKEN_VARIABLE, ""))
    poll: float = 0.5
    timeout: float = 30.0

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            with httpx.Client(base_url=self.url.rstrip("/"), timeout=self.timeout) as client:
                answer = client.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as exc:
            raise ServerError(
                f"cannot reach the server at {self.url}: {exc}",
                hint="check --server / STACKYARD_SERVER",
            ) from None
        if answer.status_code >= 400:
            try:
                body = answer.json()
            except ValueError:
                body = {"error": answer.text}
            message = body.get("error") or body.get("detail") or answer.reason_phrase
            if not isinstance(message, str):
                message = str(message)
            hint = body.get("hint")
            if answer.status_code == 401:
                hint = hint or f"set {TOKEN_VARIABLE} to an API token"
            error = UsageError if answer.status_code in (400, 401, 403, 404, 409) else ServerError
            raise error(f"server: {message}", hint=hint)
        return answer.json()

    # -- reads ---------------------------------------------------------------------------
    def apps(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/v1/apps"))

    def info(self, name: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/v1/apps/{name}"))

    def config_get(self, app: str, env: str) -> dict[str, str]:
        return dict(self._call("GET", f"/api/v1/apps/{app}/config", params={"env": env}))

    def releases(self, app: str, env: str) -> list[ReleaseInfo]:
        rows = self._call("GET", f"/api/v1/apps/{app}/releases", params={"env": env})
        return [_release(r) for r in rows]

    def ps(self, app: str, env: str) -> list[TaskInfo]:
        rows = self._call("GET", f"/api/v1/apps/{app}/ps", params={"env": env})
        return [TaskInfo(**r) for r in rows]

    def events(self, app: str, limit: int = 100) -> list[EventInfo]:
        rows = self._call("GET", f"/api/v1/apps/{app}/events", params={"limit": limit})
        return [EventInfo(**r) for r in rows]

    def previous_version(self, app: str, env: str) -> int:
        """0: the server picks the release before the current one."""
        return 0

    # -- changes -------------------------------------------------------------------------
    def create(self, name: str, manifest: Manifest) -> None:
        self._call("POST", "/api/v1/apps", json={"name": name, "manifest": manifest_data(manifest)})

    def config_change(self, app: str, env: str, set_: dict[str, str], unset: list[str]) -> None:
        self._call(
            "PATCH",
            f"/api/v1/apps/{app}/config",
            params={"env": env},
            json={"set": set_, "unset": unset},
        )

    def scale_formation(self, app: str, env: str, scales: list[Scale]) -> None:
        body = {
            "scales": [
                {"process": s.process, "count": s.count, "cpu": s.cpu, "memory": s.memory}
                for s in scales
            ]
        }
        self._call("POST", f"/api/v1/apps/{app}/formation", params={"env": env}, json=body)

    def deploy(
        self,
        app: str,
        env: str,
        image: str | None,
        *,
        description: str = "",
        rollback_to: int | None = None,
        approvals: Any = None,
        on_progress: Callable[[Rollout], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
        lock_wait: float = 900.0,
        timeout: float = 900.0,
        canary: Any = None,
        on_step: Callable[[Any], None] | None = None,
    ) -> DeployResult:
        """Queue the deploy on the server and follow its job to the end (a canary's steps
        and bake go with it)."""
        if rollback_to is not None:
            queued = self._call(
                "POST",
                f"/api/v1/apps/{app}/rollback",
                json={"env": env, "version": rollback_to or None},
            )
        else:
            queued = self._call(
                "POST",
                f"/api/v1/apps/{app}/deploys",
                json={
                    "env": env,
                    "image": image,
                    "description": description,
                    "lock_wait": lock_wait,
                    "steps": list(canary.steps) if canary is not None else None,
                    "bake": canary.bake if canary is not None else None,
                },
            )
        job = self._wait(int(queued["job"]), on_progress, timeout, on_step)
        version = job.get("release")
        rows = self.releases(app, env)
        release = next((r for r in rows if r.version == version), None)
        if release is None:
            raise ServerError(f"server: the deploy ended {job['state']}: {job['result']}")
        return DeployResult(
            release, _rollouts(job), EXIT.get(job["state"], 1), canary=_outcome(job, canary)
        )

    def promote(
        self,
        app: str,
        env: str,
        *,
        release: int | None = None,
        with_config: bool = False,
        approvals: Any = None,
        on_progress: Callable[[Rollout], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
        lock_wait: float = 900.0,
        timeout: float = 900.0,
    ) -> DeployResult:
        """Promote a canary on the server and follow the parent's deploy."""
        if with_config:
            raise UsageError("--with-config is not available through a server")
        queued = self._call(
            "POST", f"/api/v1/apps/{app}/promote", json={"env": env, "release": release}
        )
        job = self._wait(int(queued["job"]), on_progress, timeout)
        parent = env.split("/", 1)[0]
        version = job.get("release")
        found = next((r for r in self.releases(app, parent) if r.version == version), None)
        if found is None:
            raise ServerError(f"server: the promotion ended {job['state']}: {job['result']}")
        return DeployResult(found, _rollouts(job), EXIT.get(job["state"], 1))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise UsageError(
            f"{name.replace('_', ' ')} is not available through a server",
            hint="run the command without --server",
        )

    def restart(
        self,
        app: str,
        env: str,
        process: str | None = None,
        *,
        on_progress: Callable[[Rollout], None] | None = None,
        timeout: float = 900.0,
    ) -> dict[str, Rollout]:
        queued = self._call(
            "POST", f"/api/v1/apps/{app}/restart", json={"env": env, "process": process}
        )
        job = self._wait(int(queued["job"]), on_progress, timeout)
        if job["state"] != "succeeded" and not job["progress"]:
            raise ServerError(f"server: the restart ended {job['state']}: {job['result']}")
        return _rollouts(job)

    def plan(self, app: str, env: str, image: str | None = None) -> Any:
        raise UsageError(
            "apps diff is not available through a server", hint="run it without --server"
        )

    def run(self, app: str, env: str, command: list[str], **kw: Any) -> RunInfo:
        raise UsageError(
            "apps run is not available through a server", hint="run it without --server"
        )

    def destroy(self, app: str, env: str, **kw: Any) -> int:
        raise UsageError(
            "apps destroy is not available through a server", hint="run it without --server"
        )

    def _wait(
        self,
        job_id: int,
        on_progress: Callable[[Rollout], None] | None,
        timeout: float,
        on_step: Callable[[Any], None] | None = None,
    ) -> dict[str, Any]:
        seen: dict[str, Rollout] = {}
        last_step: dict[str, Any] = {}
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self._call("GET", f"/api/v1/jobs/{job_id}")
            for name, rollout in _rollouts(job).items():
                if on_progress is not None and seen.get(name) != rollout:
                    on_progress(rollout)
                seen[name] = rollout
            step = (job.get("progress") or {}).get("canary")
            if on_step is not None and step and step != last_step:
                on_step(_step(step))
                last_step = step
            if job["state"] not in ("queued", "running", "interrupted"):
                return job
            if time.monotonic() > deadline:
                raise ServerError(f"server: job {job_id} is still {job['state']}")
            time.sleep(self.poll)


def _release(row: dict[str, Any]) -> ReleaseInfo:
    return ReleaseInfo(**{**row, "config_keys": tuple(row.get("config_keys", ()))})


def _rollouts(job: dict[str, Any]) -> dict[str, Rollout]:
    processes = (job.get("progress") or {}).get("processes", {})
    return {
        name: Rollout(name, p["state"], p["running"], p["desired"], p.get("reason", ""))
        for name, p in processes.items()
    }


def _step(entry: dict[str, Any]) -> Any:
    """A canary step as the service reports it, from a job's progress."""
    from stackyard.apps.health import Health
    from stackyard.apps.rollout import StepProgress

    health = None
    if entry.get("healthy") is not None:
        health = Health(int(entry["healthy"]), int(entry.get("targets") or 0))
    return StepProgress(
        int(entry["step"]),
        int(entry["steps"]),
        int(entry["weight"]),
        str(entry["phase"]),
        health,
        reason=str(entry.get("reason") or ""),
    )


def _outcome(job: dict[str, Any], canary: Any) -> Any:
    """How a canary rollout went, from a job (None for a plain deploy)."""
    step = (job.get("progress") or {}).get("canary")
    if canary is None or not step:
        return None
    from stackyard.apps.rollout import RolloutOutcome

    ok = job["state"] == "succeeded"
    return RolloutOutcome(ok, int(step["step"]), int(step["weight"]), str(step.get("reason") or ""))
