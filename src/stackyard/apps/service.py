"""The apps service layer: every operation the CLI (and, later, the server) offers.

Each operation takes typed inputs, opens one database session for its own work, and returns
plain dataclasses; nothing here prints or parses arguments. A deploy is a plan: the
release renders to one stack that ``workflow.build`` plans, settles approvals for and
executes; then each process's ECS deployment is followed to COMPLETED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from stackyard.apps.db.database import Database
from stackyard.apps.db.locks import deploy_lock, holder_id
from stackyard.apps.db.models import App, ConfigVar, Environment, Event, Formation, Release, utcnow
from stackyard.apps.environments import Environments
from stackyard.apps.follow import Rollout, follow
from stackyard.apps.formation import Scale
from stackyard.apps.manifest import Manifest, manifest_data
from stackyard.apps.render import ReleaseSpec, load_project, stack_name
from stackyard.errors import StackyardError, UsageError

if TYPE_CHECKING:
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.engine.approval import ApprovalPolicy
    from stackyard.plan.model import Plan


@dataclass(frozen=True)
class ReleaseInfo:
    """A release as the operations return it."""

    version: int
    image: str
    status: str
    description: str
    created_at: str
    created_by: str
    reason: str = ""
    config_keys: tuple[str, ...] = ()
    formation: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventInfo:
    """An audit event."""

    time: str
    app: str
    environment: str
    kind: str
    message: str
    actor: str
    release: int | None


@dataclass(frozen=True)
class TaskInfo:
    """A running (or stopping) task of a process."""

    process: str
    task: str
    status: str
    release: str
    instance_type: str
    profile: str
    zone: str
    started: str


@dataclass(frozen=True)
class RunInfo:
    """How a one-off task ended."""

    task: str
    exit_code: int
    reason: str
    logs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeployResult:
    """How a deploy ended."""

    release: ReleaseInfo
    rollouts: dict[str, Rollout]
    exit_code: int = 0


def _release_info(row: Release) -> ReleaseInfo:
    return ReleaseInfo(
        version=row.version,
        image=row.image,
        status=row.status,
        description=row.description,
        created_at=row.created_at.isoformat(timespec="seconds"),
        created_by=row.created_by,
        reason=row.reason or "",
        config_keys=tuple(sorted(row.config)),
        formation=dict(row.formation),
    )


@dataclass
class AppsService:
    """The apps operations over one database, one AWS connection and one actor."""

    db: Database
    environments: Environments | None = None
    gateway: CloudFormationGateway | None = None
    actor: str = "unknown"
    region: str | None = None

    # -- lookups -------------------------------------------------------------------------
    def _app(self, session: Any, name: str) -> App:
        app = session.scalars(select(App).where(App.name == name)).one_or_none()
        if app is None:
            raise UsageError(f"no app {name!r}", hint=f"create it: stackyard apps create {name}")
        return app  # type: ignore[no-any-return]

    def _find_env(self, session: Any, app: App, name: str) -> Environment | None:
        found: Environment | None = session.scalars(
            select(Environment).where(Environment.app_id == app.id, Environment.name == name)
        ).one_or_none()
        return found

    def _env(self, session: Any, app: App, name: str) -> Environment:
        if self.environments is not None:
            self.environments.get(name)
        env = self._find_env(session, app, name)
        if env is None:
            env = Environment(app_id=app.id, name=name)
            session.add(env)
            session.flush()
        return env  # type: ignore[no-any-return]

    def _event(
        self, session: Any, app: str, env: str, kind: str, message: str, release: int | None = None
    ) -> None:
        session.add(
            Event(
                app=app,
                environment=env,
                kind=kind,
                message=message,
                actor=self.actor,
                release=release,
                created_at=utcnow(),
            )
        )

    def _clients(self, service: str) -> Any:
        if self.gateway is None:
            raise UsageError("this operation needs AWS", hint="pass --local or AWS credentials")
        return self.gateway.clients.client(service)

    # -- apps ------------------------------------------------------------------------------
    def create(self, name: str, manifest: Manifest) -> None:
        """Register app ``name`` with its manifest (or replace the manifest of an app)."""
        with self.db.session() as session:
            app = session.scalars(select(App).where(App.name == name)).one_or_none()
            if app is None:
                session.add(App(name=name, manifest=manifest_data(manifest), created_by=self.actor))
                self._event(session, name, "", "create", f"created app {name}")
            else:
                app.manifest = manifest_data(manifest)
                self._event(session, name, "", "manifest", "updated the manifest")

    def apps(self) -> list[dict[str, Any]]:
        """Every app: name, processes, environments with their current release."""
        with self.db.session() as session:
            out = []
            for app in session.scalars(select(App).order_by(App.name)):
                envs = session.scalars(select(Environment).where(Environment.app_id == app.id))
                out.append(
                    {
                        "name": app.name,
                        "processes": sorted(app.manifest.get("processes", {})),
                        "environments": {e.name: e.current_release for e in envs},
                    }
                )
            return out

    def info(self, name: str) -> dict[str, Any]:
        """An app: manifest, and per environment its current release and formation."""
        with self.db.session() as session:
            app = self._app(session, name)
            envs = {}
            for env in session.scalars(select(Environment).where(Environment.app_id == app.id)):
                rows = session.scalars(select(Formation).where(Formation.environment_id == env.id))
                envs[env.name] = {
                    "current_release": env.current_release,
                    "formation": {f.process: f.count for f in rows},
                }
            return {"name": app.name, "manifest": app.manifest, "environments": envs}

    # -- config vars -----------------------------------------------------------------------
    def config_get(self, app: str, env: str) -> dict[str, str]:
        """The config vars (secrets as their ``secret:/path`` references)."""
        with self.db.session() as session:
            e = self._find_env(session, self._app(session, app), env)
            if e is None:
                return {}
            rows = session.scalars(select(ConfigVar).where(ConfigVar.environment_id == e.id))
            return {row.key: row.value for row in rows}

    def config_change(self, app: str, env: str, set_: dict[str, str], unset: list[str]) -> None:
        """Set and unset config vars (a deploy makes them a release)."""
        with self.db.session() as session:
            e = self._env(session, self._app(session, app), env)
            rows = {
                r.key: r
                for r in session.scalars(select(ConfigVar).where(ConfigVar.environment_id == e.id))
            }
            for key, value in set_.items():
                if key in rows:
                    rows[key].value = value
                else:
                    session.add(ConfigVar(environment_id=e.id, key=key, value=value))
            for key in unset:
                if key in rows:
                    session.delete(rows[key])
            changed = ", ".join([f"set {k}" for k in sorted(set_)] + [f"unset {k}" for k in unset])
            self._event(session, app, env, "config", changed)

    # -- formation -------------------------------------------------------------------------
    def scale_formation(self, app: str, env: str, scales: list[Scale]) -> None:
        """Record new counts and sizes (a deploy makes them a release)."""
        with self.db.session() as session:
            a = self._app(session, app)
            known = set(a.manifest.get("processes", {}))
            e = self._env(session, a, env)
            for s in scales:
                if s.process not in known:
                    raise UsageError(f"{app} has no process {s.process!r}")
                row = session.scalars(
                    select(Formation).where(
                        Formation.environment_id == e.id, Formation.process == s.process
                    )
                ).one_or_none()
                if row is None:
                    row = Formation(environment_id=e.id, process=s.process, count=s.count)
                    session.add(row)
                row.count = s.count
                row.cpu = s.cpu or row.cpu
                row.memory = s.memory or row.memory
            text = " ".join(f"{s.process}={s.count}" for s in scales)
            self._event(session, app, env, "scale", f"scaled {text}")

    # -- releases --------------------------------------------------------------------------
    def releases(self, app: str, env: str) -> list[ReleaseInfo]:
        """Every release of ``app`` in ``env``, newest first."""
        with self.db.session() as session:
            e = self._find_env(session, self._app(session, app), env)
            if e is None:
                return []
            rows = session.scalars(
                select(Release)
                .where(Release.environment_id == e.id)
                .order_by(Release.version.desc())
            )
            return [_release_info(r) for r in rows]

    def current_image(self, app: str, env: str) -> str:
        """The image of the current release (for scale, config and restart deploys)."""
        with self.db.session() as session:
            e = self._env(session, self._app(session, app), env)
            row = session.scalars(
                select(Release).where(
                    Release.environment_id == e.id, Release.version == e.current_release
                )
            ).one_or_none()
            if row is None:
                raise UsageError(
                    f"{app} has no release in {env} yet",
                    hint=f"deploy one: stackyard apps deploy IMAGE -a {app} -e {env}",
                )
            return row.image  # type: ignore[no-any-return]

    def previous_version(self, app: str, env: str) -> int:
        """The newest succeeded release before the current one (what a bare rollback takes)."""
        with self.db.session() as session:
            e = self._env(session, self._app(session, app), env)
            version = session.scalar(
                select(func.max(Release.version)).where(
                    Release.environment_id == e.id,
                    Release.status == "succeeded",
                    Release.version < (e.current_release or 0),
                )
            )
            if version is None:
                raise UsageError(f"{app} has no earlier succeeded release in {env}")
            return int(version)

    def _new_release(
        self, app: str, env: str, image: str, description: str, source: int | None
    ) -> ReleaseSpec:
        with self.db.session() as session:
            a = self._app(session, app)
            e = self._env(session, a, env)
            version = (
                session.scalar(
                    select(func.max(Release.version)).where(Release.environment_id == e.id)
                )
                or 0
            ) + 1
            if source is not None:
                old = session.scalars(
                    select(Release).where(Release.environment_id == e.id, Release.version == source)
                ).one_or_none()
                if old is None:
                    raise UsageError(f"{app} has no release v{source} in {env}")
                manifest, config, formation = old.manifest, old.config, old.formation
                image = old.image
            else:
                manifest = a.manifest
                config = {
                    r.key: r.value
                    for r in session.scalars(
                        select(ConfigVar).where(ConfigVar.environment_id == e.id)
                    )
                }
                formation = {
                    f.process: {"count": f.count, "cpu": f.cpu, "memory": f.memory}
                    for f in session.scalars(
                        select(Formation).where(Formation.environment_id == e.id)
                    )
                }
            session.add(
                Release(
                    environment_id=e.id,
                    version=version,
                    image=image,
                    manifest=manifest,
                    config=config,
                    formation=formation,
                    description=description,
                    status="pending",
                    created_by=self.actor,
                    created_at=utcnow(),
                )
            )
            self._event(session, app, env, "release", description, version)
            return ReleaseSpec(app, env, version, image, manifest, config, formation)

    def _finish(self, spec: ReleaseSpec, status: str, reason: str) -> ReleaseInfo:
        with self.db.session() as session:
            e = self._env(session, self._app(session, spec.app), spec.environment)
            row = session.scalars(
                select(Release).where(
                    Release.environment_id == e.id, Release.version == spec.version
                )
            ).one()
            row.status, row.reason = status, reason
            if status == "succeeded":
                e.current_release = spec.version
            self._event(
                session,
                spec.app,
                spec.environment,
                "deploy",
                f"v{spec.version} {status}" + (f": {reason}" if reason else ""),
                spec.version,
            )
            return _release_info(row)

    # -- deploy ----------------------------------------------------------------------------
    def deploy(
        self,
        app: str,
        env: str,
        image: str | None,
        *,
        description: str = "",
        rollback_to: int | None = None,
        approvals: ApprovalPolicy | None = None,
        on_progress: Callable[[Rollout], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
        lock_wait: float = 900.0,
        timeout: float = 900.0,
    ) -> DeployResult:
        """Make a release and deploy it: one plan of the app environment's stack through the
        engine, then each ECS deployment followed to COMPLETED. Serialised per app
        environment by the database lock. ``image`` None: the current release's image."""
        from stackyard.apps.images import resolve_image
        from stackyard.workflow import build

        if self.environments is None or self.gateway is None:
            raise UsageError("deploying needs the apps file and AWS")
        holder = holder_id(self.actor)
        with deploy_lock(self.db, f"{app}/{env}", holder, wait=lock_wait, on_wait=on_wait):
            if image is None and rollback_to is None:
                image = self.current_image(app, env)
            resolved = resolve_image(image, self._clients("ecr")) if image else ""
            what = description or (
                f"rollback to v{rollback_to}" if rollback_to else f"deploy {resolved}"
            )
            spec = self._new_release(app, env, resolved, what, rollback_to)
            started = utcnow()
            try:
                project = load_project(spec, self.environments, self.region)
                from stackyard.engine.run import RunOptions

                result = build(project, self.gateway, RunOptions(), approvals=approvals)
            except StackyardError as exc:
                self._finish(spec, "failed", exc.message)
                raise
            if not result.ok:
                state = next(iter(result.states.values()), None)
                failure = state.failure if state else None
                reason = str(failure) if failure else (state.detail if state else "")
                reason = reason or result.summary()
                # exit 3: a protected environment's change awaits approval (or was declined)
                status = "held" if result.exit_code == 3 else "failed"
                info = self._finish(spec, status, reason)
                return DeployResult(info, {}, result.exit_code)
            rollouts = self._follow(spec, started, on_progress, timeout)
            failed = {p: r for p, r in rollouts.items() if r.state != "COMPLETED"}
            if failed:
                reason = "; ".join(f"{p}: {r.reason}" for p, r in sorted(failed.items()))
                return DeployResult(self._finish(spec, "failed", reason), rollouts, 1)
            return DeployResult(self._finish(spec, "succeeded", ""), rollouts, 0)

    def plan(self, app: str, env: str, image: str | None = None) -> Plan:
        """What deploying ``image`` (default: the current release's) with the app's current
        manifest, config and formation would change: the plan of its stack (reads only;
        nothing is recorded)."""
        from stackyard.apps.images import resolve_image
        from stackyard.plan.planner import PlanOptions
        from stackyard.workflow import plan

        if self.environments is None or self.gateway is None:
            raise UsageError("planning needs the apps file and AWS")
        image = image or self.current_image(app, env)
        with self.db.session() as session:
            a = self._app(session, app)
            e = self._find_env(session, a, env)
            env_id = e.id if e is not None else -1
            version = (
                session.scalar(
                    select(func.max(Release.version)).where(Release.environment_id == env_id)
                )
                or 0
            ) + 1
            manifest = a.manifest
        spec = ReleaseSpec(
            app,
            env,
            version,
            resolve_image(image, self._clients("ecr")),
            manifest,
            self.config_get(app, env),
            {
                name: {"count": f["count"], "cpu": f.get("cpu"), "memory": f.get("memory")}
                for name, f in self._formation(app, env).items()
            },
        )
        project = load_project(spec, self.environments, self.region)
        planned = plan(project, self.gateway, PlanOptions())
        return planned.plan

    def _formation(self, app: str, env: str) -> dict[str, dict[str, int | None]]:
        with self.db.session() as session:
            e = self._find_env(session, self._app(session, app), env)
            if e is None:
                return {}
            rows = session.scalars(select(Formation).where(Formation.environment_id == e.id))
            return {f.process: {"count": f.count, "cpu": f.cpu, "memory": f.memory} for f in rows}

    def _outputs(self, app: str, env: str) -> dict[str, str]:
        from stackyard.aws.session import Location

        assert self.environments is not None and self.gateway is not None
        from stackyard.apps.render import infrastructure_namespace

        namespace = infrastructure_namespace(self.environments, env)
        fqn = f"{namespace}-{stack_name(app, env)}" if namespace else stack_name(app, env)
        deployed = self.gateway.describe_stack(fqn, Location(self.region, None))
        if deployed is None:
            raise UsageError(f"{app} is not deployed in {env}")
        return dict(deployed.outputs)

    def _services(self, spec: ReleaseSpec) -> tuple[str, dict[str, tuple[str, str]]]:
        from stackyard.library.app_service import logical_name

        outputs = self._outputs(spec.app, spec.environment)
        services = {
            p: (
                outputs[f"{logical_name(p)}ServiceName"],
                outputs[f"{logical_name(p)}TaskDefinitionArn"],
            )
            for p in spec.manifest.get("processes", {})
        }
        return outputs["ClusterName"], services

    def _follow(
        self,
        spec: ReleaseSpec,
        since: datetime,
        on_progress: Callable[[Rollout], None] | None,
        timeout: float,
    ) -> dict[str, Rollout]:
        cluster, services = self._services(spec)
        return follow(
            self._clients("ecs"), cluster, services, since, on_progress=on_progress, timeout=timeout
        )

    def _current_spec(self, app: str, env: str) -> ReleaseSpec | None:
        with self.db.session() as session:
            e = self._env(session, self._app(session, app), env)
            row = session.scalars(
                select(Release).where(
                    Release.environment_id == e.id, Release.version == e.current_release
                )
            ).one_or_none()
            if row is None:
                return None
            return ReleaseSpec(
                app, env, row.version, row.image, row.manifest, row.config, row.formation
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
        """Replace the tasks of every process (or one) with new ones of the same release:
        a forced new ECS deployment, followed to COMPLETED. No new release."""
        spec = self._current_spec(app, env)
        if spec is None:
            raise UsageError(f"{app} has no release in {env} yet")
        with deploy_lock(self.db, f"{app}/{env}", holder_id(self.actor)):
            cluster, services = self._services(spec)
            if process is not None:
                if process not in services:
                    raise UsageError(f"{app} has no process {process!r}")
                services = {process: services[process]}
            started = utcnow()
            ecs = self._clients("ecs")
            for name, _ in services.values():
                ecs.update_service(cluster=cluster, service=name, forceNewDeployment=True)
            with self.db.session() as session:
                what = process or "all processes"
                self._event(session, app, env, "restart", f"restarted {what}", spec.version)
            return follow(ecs, cluster, services, started, on_progress=on_progress, timeout=timeout)

    def run(
        self,
        app: str,
        env: str,
        command: list[str],
        *,
        process: str | None = None,
        timeout: float = 900.0,
        poll: float = 0.5,
    ) -> RunInfo:
        """Run ``command`` once, as a task of the current release's ``process`` (default: the
        first): same image, config and placement; waits for it to stop, then returns its
        exit code and its log lines from CloudWatch Logs."""
        import time

        from stackyard.apps.render import processes

        spec = self._current_spec(app, env)
        if spec is None or self.environments is None:
            raise UsageError(f"{app} has no release in {env} yet")
        cluster, services = self._services(spec)
        name = process or sorted(services)[0]
        if name not in services:
            raise UsageError(f"{app} has no process {name!r}")
        rendered = processes(spec, self.environments.get(env))[name]
        ecs = self._clients("ecs")
        answer = ecs.run_task(
            cluster=cluster,
            taskDefinition=services[name][1],
            count=1,
            launchType="EC2",
            startedBy=f"stackyard-run-{app}"[:36],
            placementConstraints=rendered["constraints"],
            placementStrategy=rendered["strategy"],
            overrides={"containerOverrides": [{"name": name, "command": command}]},
        )
        if not answer.get("tasks"):
            reasons = ", ".join(f.get("reason", "") for f in answer.get("failures", []))
            raise StackyardError(f"the task could not be placed: {reasons}")
        arn = answer["tasks"][0]["taskArn"]
        with self.db.session() as session:
            self._event(session, app, env, "run", " ".join(command), spec.version)
        deadline = time.monotonic() + timeout
        while True:
            task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
            if task.get("lastStatus") == "STOPPED" or time.monotonic() >= deadline:
                break
            time.sleep(poll)
        containers = task.get("containers") or [{}]
        code = containers[0].get("exitCode")
        task_id = arn.rsplit("/", 1)[-1]
        group = self._outputs(app, env)["LogGroupName"]
        logs = _log_lines(self._clients("logs"), group, f"{name}/{name}/{task_id}")
        exit_code = code if isinstance(code, int) else 1
        return RunInfo(task_id, exit_code, task.get("stoppedReason", ""), logs)

    def destroy(self, app: str, env: str, *, approvals: ApprovalPolicy | None = None) -> int:
        """Delete the app's stack in ``env`` (a planned deletion through the engine) and its
        environment's records; the exit code of the deletion (0: done)."""
        from stackyard.engine.run import RunOptions
        from stackyard.workflow import destroy

        spec = self._current_spec(app, env)
        with deploy_lock(self.db, f"{app}/{env}", holder_id(self.actor)):
            if spec is not None:
                if self.environments is None or self.gateway is None:
                    raise UsageError("destroying a deployed app needs the apps file and AWS")
                project = load_project(spec, self.environments, self.region)
                result = destroy(project, self.gateway, RunOptions(), approvals=approvals)
                if not result.ok:
                    return result.exit_code
            with self.db.session() as session:
                e = self._env(session, self._app(session, app), env)
                session.delete(e)
                self._event(session, app, env, "destroy", f"destroyed {app} in {env}")
        return 0

    # -- reads of what runs ----------------------------------------------------------------
    def ps(self, app: str, env: str) -> list[TaskInfo]:
        """The tasks of every process: state, release, instance type, pool, zone, start."""
        with self.db.session() as session:
            a = self._app(session, app)
            processes = sorted(a.manifest.get("processes", {}))
        outputs = self._outputs(app, env)
        cluster = outputs["ClusterName"]
        ecs = self._clients("ecs")
        from stackyard.library.app_service import logical_name

        out: list[TaskInfo] = []
        releases: dict[str, str] = {}
        for process in processes:
            service = outputs.get(f"{logical_name(process)}ServiceName")
            arns = ecs.list_tasks(cluster=cluster, serviceName=service).get("taskArns", [])
            if not arns:
                continue
            tasks = ecs.describe_tasks(cluster=cluster, tasks=arns).get("tasks", [])
            instances = {t.get("containerInstanceArn") for t in tasks} - {None}
            attrs: dict[str, dict[str, str]] = {}
            if instances:
                described = ecs.describe_container_instances(
                    cluster=cluster, containerInstances=sorted(instances)
                )
                for ci in described.get("containerInstances", []):
                    attrs[ci["containerInstanceArn"]] = {
                        a["name"]: a.get("value", "") for a in ci.get("attributes", [])
                    }
            for task in tasks:
                definition = task.get("taskDefinitionArn", "")
                if definition not in releases:
                    releases[definition] = _release_of(ecs, definition)
                at = attrs.get(task.get("containerInstanceArn", ""), {})
                started = task.get("startedAt")
                out.append(
                    TaskInfo(
                        process=process,
                        task=task["taskArn"].rsplit("/", 1)[-1],
                        status=task.get("lastStatus", ""),
                        release=releases[definition],
                        instance_type=at.get("ecs.instance-type", ""),
                        profile=at.get("profile", ""),
                        zone=at.get("ecs.availability-zone", task.get("availabilityZone", "")),
                        started=started.isoformat(timespec="seconds") if started else "",
                    )
                )
        return out

    def events(self, app: str, limit: int = 100) -> list[EventInfo]:
        """The audit events of ``app``, newest first."""
        with self.db.session() as session:
            rows = session.scalars(
                select(Event).where(Event.app == app).order_by(Event.id.desc()).limit(limit)
            )
            return [
                EventInfo(
                    r.created_at.isoformat(timespec="seconds"),
                    r.app,
                    r.environment,
                    r.kind,
                    r.message,
                    r.actor,
                    r.release,
                )
                for r in rows
            ]


def _log_lines(logs: Any, group: str, stream: str) -> list[str]:
    """The lines a task wrote to its awslogs stream (none when the stream does not exist)."""
    from botocore.exceptions import ClientError

    try:
        answer = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    except ClientError:
        return []
    return [str(e.get("message", "")) for e in answer.get("events", [])]


def _release_of(ecs: Any, task_definition: str) -> str:
    answer = ecs.describe_task_definition(taskDefinition=task_definition)
    for container in answer["taskDefinition"].get("containerDefinitions", []):
        for pair in container.get("environment", []):
            if pair.get("name") == "STACKYARD_RELEASE":
                return str(pair.get("value", ""))
    return ""


def caller_identity(sts: Any) -> str:
    """The actor of audit events: the caller's AWS identity (its ARN)."""
    try:
        return str(sts.get_caller_identity()["Arn"])
    except Exception:  # an actor is recorded even when STS cannot say
        return "unknown"
