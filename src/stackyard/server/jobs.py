"""Deploys the server runs in the background: queued as rows, claimed by exactly one server
process, followed to the end, reported to Slack and GitHub.

Claiming is a compare-and-set ``UPDATE ... WHERE state = 'queued'``: on one database any
number of server processes poll the same queue and each job runs once. The app environment's
deploy mutex (``stackyard.apps.db.locks``) still serialises two deploys of one place. A
running job beats a heartbeat; a job whose process stopped (its heartbeat is stale, or its
process is gone from this host) or that a graceful shutdown interrupted is taken over by a
server, which follows the release's rollout to its end instead of deploying it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from stackyard.apps.db.models import Event, Release, utcnow
from stackyard.errors import StackyardError
from stackyard.server.models import Commit, Job
from stackyard.server.outbound import SlackResponder

log = logging.getLogger("stackyard.server")

HEARTBEAT = 2.0
STALE = timedelta(seconds=20)
FINAL = ("succeeded", "failed", "held", "superseded")


def enqueue(
    server: Any,
    *,
    app: str,
    env: str,
    actor: str,
    kind: str = "deploy",
    ref: str = "",
    image: str = "",
    options: dict[str, Any] | None = None,
    source: str = "api",
    response_url: str = "",
) -> int:
    """Queue a job; its id. A continuous-delivery job supersedes older queued ones of the
    same app environment."""
    with server.db.session() as session:
        if source == "cd":
            older = session.scalars(
                select(Job).where(
                    Job.app == app,
                    Job.environment == env,
                    Job.source == "cd",
                    Job.state == "queued",
                )
            ).all()
            for row in older:
                row.state, row.result, row.finished_at = "superseded", "a newer commit", utcnow()
        job = Job(
            kind=kind,
            app=app,
            environment=env,
            ref=ref,
            image=image,
            options=options or {},
            actor=actor,
            source=source,
            response_url=response_url,
            state="queued",
            claimed_by="",
            runs=0,
            progress={},
            result="",
            created_at=utcnow(),
        )
        session.add(job)
        session.flush()
        job_id = int(job.id)
        session.add(
            Event(
                app=app,
                environment=env,
                kind="job",
                message=f"queued {kind} {ref or image or ''} (job {job_id}, {source})".replace(
                    "  ", " "
                ),
                actor=actor,
                created_at=utcnow(),
            )
        )
    runner = getattr(server, "runner", None)
    if runner is not None:
        runner.wake()
    return job_id


def job_data(row: Job) -> dict[str, Any]:
    """A job as the API returns it."""
    return {
        "id": row.id,
        "kind": row.kind,
        "app": row.app,
        "environment": row.environment,
        "ref": row.ref,
        "image": row.image,
        "actor": row.actor,
        "source": row.source,
        "state": row.state,
        "claimed_by": row.claimed_by,
        "runs": row.runs,
        "release": row.release,
        "progress": row.progress,
        "result": row.result,
        "created_at": row.created_at.isoformat(timespec="seconds"),
        "finished_at": row.finished_at.isoformat(timespec="seconds") if row.finished_at else None,
    }


def get_job(db: Any, job_id: int) -> dict[str, Any] | None:
    """One job, or None."""
    with db.session() as session:
        row = session.get(Job, job_id)
        return job_data(row) if row else None


def _process_gone(claimed_by: str) -> bool:
    from stackyard.apps.db.locks import _stale

    return bool(claimed_by) and _stale(claimed_by.rsplit(" #", 1)[0])


@dataclass
class Runner:
    """Claims jobs from the queue and runs each on a thread of its own."""

    server: Any
    poll: float = 0.5
    max_jobs: int = 8
    active: dict[int, threading.Thread] = field(default_factory=dict)
    _wake: threading.Event = field(default_factory=threading.Event)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _loop: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start polling (and taking over interrupted jobs)."""
        self._loop = threading.Thread(target=self._run, name="stackyard-jobs", daemon=True)
        self._loop.start()

    def wake(self) -> None:
        """Poll now (a job was queued here)."""
        self._wake.set()

    def stop(self, grace: float) -> list[int]:
        """Stop claiming; wait up to ``grace`` seconds for running jobs to finish; hand the
        rest back (state ``interrupted``: their rollouts go on in ECS and a server follows
        them on its next start). The ids handed back."""
        self._stopping.set()
        self._wake.set()
        if self._loop is not None:
            self._loop.join(timeout=5)
        deadline = time.monotonic() + grace
        for thread in list(self.active.values()):
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        handed: list[int] = []
        with self._lock:
            remaining = list(self.active)
        log.warning("stopping with jobs %s still running", remaining)
        for job_id in remaining:
            if self._interrupt(job_id):
                handed.append(job_id)
        return handed

    def _interrupt(self, job_id: int) -> bool:
        db = self.server.db
        with db.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.state != "running" or job.claimed_by != self.server.ident:
                return False
            if job.release is None:
                job.release = _pending_release(session, job)
            job.state, job.claimed_by = "interrupted", ""
            job.result = "the server stopped while the rollout went on; it is followed on restart"
            url = job.response_url
        if url:
            SlackResponder(url).progress(
                f"The server restarted during job {job_id}; the rollout goes on and its result "
                "follows when a server picks it up again."
            )
        return True

    # -- the loop ------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._claim_some()
            except Exception:  # the loop outlives a database hiccup
                log.exception("claiming jobs failed")
            self._heartbeat()
            self._wake.wait(self.poll)
            self._wake.clear()

    def _heartbeat(self) -> None:
        with self._lock:
            ids = list(self.active)
        if not ids:
            return
        try:
            with self.server.db.session() as session:
                session.execute(
                    update(Job)
                    .where(Job.id.in_(ids), Job.claimed_by == self.server.ident)
                    .values(heartbeat_at=utcnow())
                )
        except Exception:
            log.exception("heartbeat failed")

    def _claim_some(self) -> None:
        with self._lock:
            room = self.max_jobs - len(self.active)
        if room <= 0:
            return
        now = utcnow()
        with self.server.db.session() as session:
            rows = session.execute(
                select(Job.id, Job.state, Job.claimed_by, Job.heartbeat_at)
                .where(
                    or_(
                        Job.state == "queued",
                        Job.state == "interrupted",
                        Job.state == "running",
                    )
                )
                .order_by(Job.id)
                .limit(50)
            ).all()
        for job_id, state, claimed_by, heartbeat in rows:
            if room <= 0 or self._stopping.is_set():
                return
            if job_id in self.active:
                continue
            if state == "running":
                stale = heartbeat is None or now - heartbeat > STALE
                if claimed_by == self.server.ident or not (stale or _process_gone(claimed_by)):
                    continue
            if self._claim(job_id, state, claimed_by, heartbeat):
                room -= 1
                thread = threading.Thread(
                    target=self._execute, args=(job_id,), name=f"job-{job_id}", daemon=True
                )
                with self._lock:
                    self.active[job_id] = thread
                thread.start()

    def _claim(self, job_id: int, state: str, claimed_by: str, heartbeat: datetime | None) -> bool:
        """Compare-and-set: this process runs the job only when nobody changed it since it
        was read."""
        now = utcnow()
        with self.server.db.session() as session:
            claimed = session.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    Job.state == state,
                    Job.claimed_by == claimed_by,
                    Job.heartbeat_at.is_(None)
                    if heartbeat is None
                    else Job.heartbeat_at == heartbeat,
                )
                .values(
                    state="running",
                    claimed_by=self.server.ident,
                    runs=Job.runs + 1,
                    heartbeat_at=now,
                    started_at=Job.started_at if state != "queued" else now,
                )
                .execution_options(synchronize_session=False)
            )
            return bool(claimed.rowcount == 1)

    # -- one job -------------------------------------------------------------------------
    def _execute(self, job_id: int) -> None:
        try:
            JobRun(self.server, job_id).run()
        except Exception:
            log.exception("job %s failed", job_id)
        finally:
            with self._lock:
                self.active.pop(job_id, None)


def _pending_release(session: Any, job: Job) -> int | None:
    """The release a job's deploy made (pending while its rollout goes on)."""
    from stackyard.apps.db.models import App, Environment

    since = job.started_at or job.created_at
    row = session.execute(
        select(Release.version)
        .join(Environment, Release.environment_id == Environment.id)
        .join(App, Environment.app_id == App.id)
        .where(
            App.name == job.app,
            Environment.name == job.environment,
            Release.created_at >= since - timedelta(seconds=1),
            Release.created_by == job.actor,
        )
        .order_by(Release.version.desc())
        .limit(1)
    ).first()
    return int(row[0]) if row else None


@dataclass
class JobRun:
    """One claimed job, from the registry check to the report of how it ended."""

    server: Any
    job_id: int
    slack: SlackResponder | None = None
    deployment: int | None = None
    repository: str = ""
    stepped: bool = False

    def _load(self) -> Job:
        with self.server.db.session() as session:
            job = session.get(Job, self.job_id)
            assert job is not None
            session.expunge(job)
            return job  # type: ignore[no-any-return]

    def _update(self, **values: Any) -> bool:
        """Write to the job while this process still holds it."""
        with self.server.db.session() as session:
            done = session.execute(
                update(Job)
                .where(
                    Job.id == self.job_id,
                    Job.claimed_by == self.server.ident,
                    Job.state == "running",
                )
                .values(heartbeat_at=utcnow(), **values)
                .execution_options(synchronize_session=False)
            )
            return bool(done.rowcount == 1)

    def _finish(self, state: str, result: str, release: int | None = None) -> None:
        values: dict[str, Any] = {"state": state, "result": result, "finished_at": utcnow()}
        if release is not None:
            values["release"] = release
        self._update(**values)
        with self.server.db.session() as session:
            commit = session.scalars(select(Commit).where(Commit.job_id == self.job_id)).first()
            if commit is not None:
                commit.state = {"succeeded": "deployed", "superseded": "superseded"}.get(
                    state, "failed"
                )
                commit.updated_at = utcnow()

    def run(self) -> None:
        job = self._load()
        label = f"{job.app}@{job.ref}" if job.ref else job.app
        where = f"{label} to {job.environment}"
        if job.response_url:
            self.slack = SlackResponder(job.response_url, sent=int(job.options.get("sent", 0)))
        settings = self.server.settings.app(job.app)
        github = self.server.github()
        if github is not None and settings.repository and job.options.get("sha"):
            self.repository = settings.repository
        self.deployment = job.options.get("github_deployment")
        if job.source == "cd" and self._superseded(job):
            self._finish("superseded", "a newer commit is deploying")
            self._say(f"Skipped {where}: a newer commit superseded it.", final=True)
            return
        try:
            if job.runs > 1 and job.kind == "deploy":
                self._resume(job, where)
            else:
                self._deploy(job, where)
        except StackyardError as exc:
            text = exc.message + (f" ({exc.hint})" if exc.hint else "")
            self._finish("failed", text)
            self._github("failure", text[:140])
            self._say(f"Deploy of {where} failed: {text}", final=True)

    def _superseded(self, job: Job) -> bool:
        with self.server.db.session() as session:
            newer = session.scalars(
                select(Job.id).where(
                    Job.app == job.app,
                    Job.environment == job.environment,
                    Job.source == "cd",
                    Job.id > job.id,
                    Job.state.in_(("queued", "running", "succeeded")),
                )
            ).first()
            return newer is not None

    def _say(self, text: str, *, final: bool = False) -> None:
        if self.slack is None:
            return
        (self.slack.final if final else self.slack.progress)(text)

    def _github(self, state: str, description: str, env: str = "") -> None:
        github = self.server.github()
        if github is None or not self.repository or self.deployment is None:
            return
        try:
            github.status(self.repository, self.deployment, state, description, env or "")
        except Exception as exc:
            log.warning("could not report the deployment status to GitHub: %s", exc)

    def _progress(self, job: Job, where: str) -> Callable[[Any], None]:
        seen: dict[str, dict[str, Any]] = {}

        def on_progress(rollout: Any) -> None:
            entry = {
                "process": rollout.process,
                "state": rollout.state,
                "running": rollout.running,
                "desired": rollout.desired,
                "reason": rollout.reason,
            }
            for extra in ("step", "weight", "healthy", "targets"):
                if hasattr(rollout, extra):
                    entry[extra] = getattr(rollout, extra)
            seen[rollout.process] = entry
            self._update(progress={**self._progress_now(), "processes": dict(seen)})
            if not self.stepped:  # a canary's Slack messages are its steps (a budget of five)
                self._say(f"{where}: {describe_rollout(entry)}")

        return on_progress

    def _deploy(self, job: Job, where: str) -> None:
        from stackyard.engine.approval import ApprovalPolicy

        gateway = self.server.gateway()
        service = self.server.service(job.actor, gateway)
        image: str | None = job.image or None
        options = dict(job.options)
        if job.kind == "restart":
            service.restart(
                job.app,
                job.environment,
                options.get("process"),
                on_progress=self._progress(job, where),
            )
            self._finish("succeeded", "restarted")
            self._say(f"Restarted {where}.", final=True)
            return
        if job.kind == "promote":
            # canary sub-environments: their service promotes a sub-environment's release
            promoted = service.promote(
                job.app,
                job.environment,
                release=options.get("release"),
                approvals=ApprovalPolicy(ask=None, approve_all=False),
                on_progress=self._progress(job, where),
            )
            info = promoted.release
            self._ended(f"{where} (promoted)", info.version, info.status, info.reason)
            return
        if job.ref:
            resolved = self.server.resolve(job.app, job.ref, gateway)
            image = resolved.digest
            self._update(image=resolved.image, options={**options, "sha": resolved.sha})
            settings = self.server.settings.app(job.app)
            github = self.server.github()
            if github is not None and settings.repository and self.deployment is None:
                self.repository = settings.repository
                try:
                    self.deployment = github.create_deployment(
                        settings.repository, resolved.sha, job.environment, f"deploy {where}"
                    )
                    self._update(github_deployment=self.deployment)
                except Exception as exc:
                    log.warning("could not create the GitHub deployment: %s", exc)
            self._github("in_progress", f"deploying {resolved.image}", job.environment)
        self._say(f"Deploying {where} ({image or 'the current image'})…")
        extra: dict[str, Any] = {}
        policy = self._canary_policy(job)
        if policy is not None:
            self.stepped = True
            extra = {"canary": policy, "on_step": self._on_step(where)}
        result = service.deploy(
            job.app,
            job.environment,
            image,
            description=options.get("description", "")
            or (f"deploy {job.ref} ({job.source})" if job.ref else ""),
            rollback_to=options.get("rollback_to"),
            approvals=ApprovalPolicy(ask=None, approve_all=False),
            on_progress=self._progress(job, where),
            lock_wait=float(options.get("lock_wait", 900.0)),
            **extra,
        )
        release = result.release
        reason = release.reason
        back = getattr(result, "rolled_back_to", None)
        if back is not None:
            reason = f"{reason}; rolled back to v{back.version}".lstrip("; ")
        self._ended(where, release.version, release.status, reason)

    def _canary_policy(self, job: Job) -> Any:
        """A stepped rollout for a sub-environment, when this build has canaries."""
        environments = self.server.environments
        if "/" not in job.environment or environments is None or job.kind != "deploy":
            return None
        try:
            from stackyard.apps.rollout import CanaryPolicy
        except ImportError:  # pragma: no cover - a build without canaries
            return None
        settings = self.server.settings.app(job.app).canary
        steps = tuple(job.options.get("steps") or settings.steps)
        bake = float(job.options.get("bake", settings.bake))
        return CanaryPolicy(steps, bake=bake, poll=min(settings.poll, bake or 1.0))

    def _on_step(self, where: str) -> Callable[[Any], None]:
        """Canary steps as progress: on the job (step, weight, healthy targets) and in Slack
        once per step."""
        told: set[tuple[int, int]] = set()

        def on_step(step: Any) -> None:
            health = getattr(step, "health", None)
            entry = {
                "step": step.step,
                "steps": step.steps,
                "weight": step.weight,
                "phase": step.phase,
                "healthy": health.healthy if health is not None else None,
                "targets": health.targets if health is not None else None,
                "reason": step.reason,
            }
            self._update(progress={**self._progress_now(), "canary": entry})
            # one Slack line a step, when it has baked (or failed), with its healthy targets
            if step.phase in ("baked", "failed") and (step.step, step.weight) not in told:
                told.add((step.step, step.weight))
                self._say(f"{where}: {describe_step(entry)}")

        return on_step

    def _progress_now(self) -> dict[str, Any]:
        with self.server.db.session() as session:
            job = session.get(Job, self.job_id)
            return dict(job.progress or {}) if job is not None else {}

    def _ended(self, where: str, version: int, status: str, reason: str) -> None:
        state = {"succeeded": "succeeded", "held": "held"}.get(status, "failed")
        text = f"v{version} {status}" + (f": {reason}" if reason else "")
        self._finish(state, text, version)
        self._github("success" if state == "succeeded" else "failure", text)
        verdict = {
            "succeeded": "Deployed",
            "held": "Held for review:",
            "failed": "Failed to deploy",
        }[state]
        self._say(f"{verdict} {where}: release {text}", final=True)

    def _resume(self, job: Job, where: str) -> None:
        """Finish the release an interrupted server left, without making another: ship it
        again (a stack that already holds it is unchanged; one the server stopped before
        changing gets it now) and follow its rollout."""
        from stackyard.apps.db.locks import deploy_lock, holder_id
        from stackyard.apps.render import ReleaseSpec
        from stackyard.engine.approval import ApprovalPolicy

        with self.server.db.session() as session:
            version = job.release or _pending_release(session, job)
            row = None
            if version is not None:
                from stackyard.apps.db.models import App, Environment

                row = session.execute(
                    select(Release)
                    .join(Environment, Release.environment_id == Environment.id)
                    .join(App, Environment.app_id == App.id)
                    .where(
                        App.name == job.app,
                        Environment.name == job.environment,
                        Release.version == version,
                    )
                ).scalar_one_or_none()
                if row is not None:
                    session.expunge(row)
        if row is None:
            # it stopped before a release was made: nothing ran, so deploy it now
            self._deploy(job, where)
            return
        if row.status != "pending":
            self._ended(where, row.version, row.status, row.reason or "")
            return
        self._say(f"Following {where} (release v{row.version}) again after a restart…")
        gateway = self.server.gateway()
        service = self.server.service(job.actor, gateway)
        spec = ReleaseSpec(
            job.app,
            job.environment,
            row.version,
            row.image,
            row.manifest,
            row.config,
            row.formation,
        )
        with deploy_lock(self.server.db, f"{job.app}/{job.environment}", holder_id(job.actor)):
            # The engine waits for a stack the stopped server left busy, then plans it:
            # no change if the release reached it, the release's change if it did not.
            result = service._ship(
                spec,
                ApprovalPolicy(ask=None, approve_all=False),
                self._progress(job, where),
                900.0,
                since=job.started_at or row.created_at,
            )
        info = result.release
        self._ended(where, info.version, info.status, info.reason)


def describe_step(entry: dict[str, Any]) -> str:
    """One line of a canary step: ``step 1/2: weight 10%, 2/2 healthy targets, bake``."""
    line = f"step {entry['step']}/{entry['steps']}: weight {entry['weight']}%"
    if entry.get("healthy") is not None:
        line += f", {entry['healthy']}/{entry['targets']} healthy targets"
    line += f" ({entry['phase']})"
    if entry.get("reason"):
        line += f": {entry['reason']}"
    return line


def describe_rollout(entry: dict[str, Any]) -> str:
    """One line of a process's rollout: step, weight, healthy targets when a canary has
    them, else running/desired."""
    parts = [f"{entry['process']} {entry['running']}/{entry['desired']} running"]
    if entry.get("step") is not None:
        parts.insert(0, f"step {entry['step']}")
    if entry.get("weight") is not None:
        parts.append(f"weight {entry['weight']}%")
    if entry.get("healthy") is not None:
        parts.append(f"{entry['healthy']} healthy targets")
    state = entry["state"]
    if entry.get("reason"):
        state += f" ({entry['reason']})"
    return ", ".join(parts) + f": {state}"
