"""The apps service layer: every operation the CLI (and, later, the server) offers.

Each operation takes typed inputs, opens one database session for its own work, and returns
plain dataclasses; nothing here prints or parses arguments. A deploy is a plan: the
release renders to one stack that ``workflow.build`` plans, settles approvals for and
executes; then each process's ECS deployment is followed to COMPLETED. A deploy can also be
saved for review (``plan_deploy``, see :mod:`stackyard.apps.deploy_plan`) and deployed later
exactly as saved (``apply_plan``), through the same code path.
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
from stackyard.apps.environments import BINDINGS, Environments
from stackyard.apps.follow import Rollout, follow
from stackyard.apps.formation import Scale
from stackyard.apps.inheritance import effective_formation, layered, parent_name
from stackyard.apps.manifest import Manifest, manifest_data
from stackyard.apps.render import ReleaseSpec, load_project, stack_name
from stackyard.apps.rollout import CanaryPolicy, RolloutOutcome, StepProgress
from stackyard.errors import StackyardError, UsageError

if TYPE_CHECKING:
    from stackyard.apps.canaries import Canaries, CanaryStatus
    from stackyard.apps.canary import Confirmation
    from stackyard.apps.deploy_plan import DeployPlan, PlannedRelease
    from stackyard.apps.envdiff import DiffRow, EnvView
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.engine.approval import ApprovalPolicy
    from stackyard.plan.model import Plan
    from stackyard.plan.planner import Planned


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
    """How a deploy ended. ``shipped``: the stack took the release and its ECS deployments
    were followed; ``canary``: how a canary rollout's steps went; ``rolled_back_to``: the
    release a failed canary rollout went back to."""

    release: ReleaseInfo
    rollouts: dict[str, Rollout]
    exit_code: int = 0
    shipped: bool = False
    canary: RolloutOutcome | None = None
    rolled_back_to: ReleaseInfo | None = None


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
        """An app: manifest, and per environment its current release and formation, and
        (with the apps file) the effective placement of each process."""
        placements = self.placements(name)
        with self.db.session() as session:
            app = self._app(session, name)
            envs: dict[str, dict[str, Any]] = {}
            for env in session.scalars(select(Environment).where(Environment.app_id == app.id)):
                envs[env.name] = {
                    "current_release": env.current_release,
                    "formation": {
                        p: f["count"]
                        for p, f in self._effective_formation(session, app, env.name).items()
                    },
                }
            for env_name, placement in placements.items():
                envs.setdefault(env_name, {"current_release": None, "formation": {}})
                envs[env_name]["placement"] = placement
            return {"name": app.name, "manifest": app.manifest, "environments": envs}

    def placements(self, app: str) -> dict[str, dict[str, dict[str, list[dict[str, str]]]]]:
        """Per environment of the apps file, per process of the app: the effective placement
        constraints and strategy (the process's over its environment's defaults over its
        parent's). Empty without the apps file."""
        from stackyard.apps.inheritance import process_placement
        from stackyard.apps.manifest import manifest_of

        if self.environments is None:
            return {}
        with self.db.session() as session:
            manifest = manifest_of(self._app(session, app).manifest)
        out: dict[str, dict[str, dict[str, list[dict[str, str]]]]] = {}
        for env in sorted(self.environments.specs):
            defaults = self.environments.get(env).defaults
            out[env] = {}
            for name, process in sorted(manifest.processes.items()):
                placement = process_placement(process, defaults)
                out[env][name] = {
                    "constraints": [c.model_dump(exclude_none=True) for c in placement.constraints],
                    "strategy": [s.model_dump(exclude_none=True) for s in placement.strategy],
                }
        return out

    def env_view(self, app: str, env: str) -> EnvView:
        """``env``'s effective settings, each with its origin (see :mod:`apps.envdiff`)."""
        from stackyard.apps.envdiff import (
            EnvView,
            entries,
            formation_entries,
            layered_entries,
            placement_text,
        )

        parent = parent_name(env)
        sections: dict[str, dict[str, tuple[str, str]]] = {}
        if self.environments is not None:
            spec, declared = self.environments.get(env), self.environments.declared(env)

            def origin(key: str, mine: set[str]) -> str:
                return "own" if parent is None or key in mine else "inherited"

            sections["bindings"] = {
                key: (str(getattr(spec, key)), origin(key, declared.model_fields_set))
                for key in (*BINDINGS, "env_file", "protected")
                if getattr(spec, key) is not None
            }
            mine = set(declared.defaults.model_fields_set)
            constraints, strategy = placement_text(spec.defaults.placement)
            own_placement = declared.defaults.placement
            sections["defaults"] = {
                "cpu": (str(spec.defaults.cpu), origin("cpu", mine)),
                "memory": (str(spec.defaults.memory), origin("memory", mine)),
                "placement.constraints": (
                    constraints,
                    "own" if parent is None or own_placement.constraints else "inherited",
                ),
                "placement.strategy": (
                    strategy,
                    "own" if parent is None or own_placement.strategy else "inherited",
                ),
            }
        with self.db.session() as session:
            a = self._app(session, app)
            sections["config"] = layered_entries(self._config_layers(session, a, env))
            sections["formation"] = formation_entries(
                self._own_formation(session, a, env),
                self._own_formation(session, a, parent) if parent else None,
            )
            e = self._find_env(session, a, env)
            release = None
            if e is not None and e.current_release is not None:
                release = session.scalars(
                    select(Release).where(
                        Release.environment_id == e.id, Release.version == e.current_release
                    )
                ).one_or_none()
            sections["release"] = entries(
                {"version": f"v{release.version}", "image": release.image} if release else {}
            )
        return EnvView(env, sections)

    def env_diff(
        self, app: str, left: str, right: str, *, only_changes: bool = False
    ) -> list[DiffRow]:
        """The effective difference of two environments of ``app``, key by key, secrets
        masked (see :mod:`stackyard.apps.envdiff`)."""
        from stackyard.apps.envdiff import diff

        return diff(self.env_view(app, left), self.env_view(app, right), only_changes=only_changes)

    # -- config vars -----------------------------------------------------------------------
    def _own_config(self, session: Any, app: App, env: str) -> dict[str, str]:
        e = self._find_env(session, app, env)
        if e is None:
            return {}
        rows = session.scalars(select(ConfigVar).where(ConfigVar.environment_id == e.id))
        return {row.key: row.value for row in rows}

    def _own_formation(self, session: Any, app: App, env: str) -> dict[str, dict[str, int | None]]:
        e = self._find_env(session, app, env)
        if e is None:
            return {}
        rows = session.scalars(select(Formation).where(Formation.environment_id == e.id))
        return {f.process: {"count": f.count, "cpu": f.cpu, "memory": f.memory} for f in rows}

    def _config_layers(self, session: Any, app: App, env: str) -> dict[str, tuple[str, str]]:
        parent = parent_name(env)
        inherited = self._own_config(session, app, parent) if parent else {}
        return layered(inherited, self._own_config(session, app, env))

    def _effective_config(self, session: Any, app: App, env: str) -> dict[str, str]:
        return {k: v for k, (v, _) in self._config_layers(session, app, env).items()}

    def _effective_formation(
        self, session: Any, app: App, env: str
    ) -> dict[str, dict[str, int | None]]:
        parent = parent_name(env)
        own = self._own_formation(session, app, env)
        if parent is None:
            return own
        return effective_formation(self._own_formation(session, app, parent), own)

    def config_get(self, app: str, env: str) -> dict[str, str]:
        """The effective config vars (secrets as their ``secret:/path`` references): a
        sub-environment's own over its parent's."""
        with self.db.session() as session:
            return self._effective_config(session, self._app(session, app), env)

    def config_layers(self, app: str, env: str) -> dict[str, tuple[str, str]]:
        """Each effective config var with where it comes from: ``own`` or ``inherited``."""
        with self.db.session() as session:
            return self._config_layers(session, self._app(session, app), env)

    def config_change(self, app: str, env: str, set_: dict[str, str], unset: list[str]) -> None:
        """Set and unset config vars (a deploy makes them a release). In a sub-environment
        a set key overrides the parent's, and unsetting it brings the parent's back."""
        with self.db.session() as session:
            a = self._app(session, app)
            e = self._env(session, a, env)
            rows = {
                r.key: r
                for r in session.scalars(select(ConfigVar).where(ConfigVar.environment_id == e.id))
            }
            parent = parent_name(env)
            inherited = self._own_config(session, a, parent) if parent else {}
            for key in unset:
                if key not in rows and key in inherited:
                    raise UsageError(
                        f"{key} is {parent}'s: {env} inherits it and does not set it",
                        hint=f"unset it in {parent}, or override it here: "
                        f"stackyard apps env set -a {app} -e {env} {key}=...",
                    )
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
        self,
        app: str,
        env: str,
        image: str,
        description: str,
        source: int | None,
        *,
        contents: ReleaseSpec | None = None,
    ) -> ReleaseSpec:
        """Record a pending release of ``image`` with the app's manifest and the effective
        config and formation; or a copy of release ``source``; or ``contents``' image,
        manifest, config and formation (a promotion)."""
        with self.db.session() as session:
            a = self._app(session, app)
            e = self._env(session, a, env)
            version = _next_version(session, e.id)
            if source is not None:
                old = session.scalars(
                    select(Release).where(Release.environment_id == e.id, Release.version == source)
                ).one_or_none()
                if old is None:
                    raise UsageError(f"{app} has no release v{source} in {env}")
                manifest, config, formation = old.manifest, old.config, old.formation
                image = old.image
            elif contents is not None:
                image, manifest = contents.image, contents.manifest
                config, formation = contents.config, contents.formation
            else:
                manifest = a.manifest
                config = self._effective_config(session, a, env)
                formation = self._effective_formation(session, a, env)
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

    def _release_row(self, session: Any, spec: ReleaseSpec) -> tuple[Environment, Release]:
        e = self._env(session, self._app(session, spec.app), spec.environment)
        row = session.scalars(
            select(Release).where(Release.environment_id == e.id, Release.version == spec.version)
        ).one()
        return e, row

    def _release(self, spec: ReleaseSpec) -> ReleaseInfo:
        with self.db.session() as session:
            return _release_info(self._release_row(session, spec)[1])

    def _current_version(self, app: str, env: str) -> int | None:
        with self.db.session() as session:
            found = self._find_env(session, self._app(session, app), env)
            return found.current_release if found is not None else None

    def _finish(self, spec: ReleaseSpec, status: str, reason: str) -> ReleaseInfo:
        with self.db.session() as session:
            e, row = self._release_row(session, spec)
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
        canary: CanaryPolicy | None = None,
        on_step: Callable[[StepProgress], None] | None = None,
    ) -> DeployResult:
        """Make a release and deploy it: one plan of the app environment's stack through the
        engine, then each ECS deployment followed to COMPLETED. Serialised per app
        environment by the database lock. ``image`` None: the current release's image.

        ``canary`` (a sub-environment only): then step the canary's weight on the parent's
        listener, reading each weight back and baking each step while its health is
        watched; any failure sets the weight to 0 and rolls the canary back to its previous
        release (its parent's, the first time), and the result is a failure (exit 1) whose
        release carries the reason (:mod:`stackyard.apps.rollout`)."""
        from stackyard.apps.images import resolve_image

        if self.environments is None or self.gateway is None:
            raise UsageError("deploying needs the apps file and AWS")
        if canary is not None and parent_name(env) is None:
            raise UsageError(
                f"{env} is not a sub-environment: steps and bake are for canaries",
                hint="deploy to a sub-environment such as prod/canary (parent: prod)",
            )
        holder = holder_id(self.actor)
        with deploy_lock(self.db, f"{app}/{env}", holder, wait=lock_wait, on_wait=on_wait):
            if canary is not None:
                self.canaries.parent_rules(app, env)  # refuse before making a release
            previous = self._current_version(app, env)
            if image is None and rollback_to is None:
                image = self.current_image(app, env)
            resolved = resolve_image(image, self._clients("ecr")) if image else ""
            what = description or (
                f"rollback to v{rollback_to}" if rollback_to else f"deploy {resolved}"
            )
            spec = self._new_release(app, env, resolved, what, rollback_to)
            if canary is None:
                return self._ship(spec, approvals, on_progress, timeout)
            return self.canaries.rollout(
                spec, previous, canary, approvals, on_progress, on_step, timeout
            )

    def _ship(
        self,
        spec: ReleaseSpec,
        approvals: ApprovalPolicy | None,
        on_progress: Callable[[Rollout], None] | None,
        timeout: float,
        *,
        finish: bool = True,
        planned: tuple[Any, Planned] | None = None,
        since: datetime | None = None,
    ) -> DeployResult:
        """Deploy a recorded release: build its stack, follow its ECS deployments. A failure
        (or a held approval, exit 3) finishes the release; success finishes it only when
        ``finish`` (a canary rollout has steps to go first). ``planned``: the stack's project
        and plan, made and checked already (a saved plan's), executed as it is. ``since``:
        when the deploy began, if before now (ECS's events from then on explain a failure).

        Shipping a release again is safe: a stack that already holds it is unchanged, and
        following finds the deployments its task definitions started."""
        from stackyard.engine.run import RunOptions
        from stackyard.workflow import build

        assert self.environments is not None and self.gateway is not None
        started = since or utcnow()
        try:
            project, made = planned or (load_project(spec, self.environments, self.region), None)
            result = build(project, self.gateway, RunOptions(), approvals=approvals, planned=made)
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
            return DeployResult(self._finish(spec, "failed", reason), rollouts, 1, shipped=True)
        if not finish:
            return DeployResult(self._release(spec), rollouts, 0, shipped=True)
        return DeployResult(self._finish(spec, "succeeded", ""), rollouts, 0, shipped=True)

    @property
    def canaries(self) -> Canaries:
        """The canary operations of this service (weights, rollouts, promotion)."""
        from stackyard.apps.canaries import Canaries

        return Canaries(self)

    def canary_weight(
        self,
        app: str,
        env: str,
        weight: int,
        *,
        confirm_timeout: float = 30.0,
        on_wait: Callable[[str], None] | None = None,
        lock_wait: float = 900.0,
    ) -> Confirmation:
        """Set a canary's share of its parent's traffic (a whole percentage) on the parent's
        listener rules and read it back; WeightError (exit 1) when it does not read back."""
        return self.canaries.set_weight(
            app, env, weight, confirm_timeout=confirm_timeout, on_wait=on_wait, lock_wait=lock_wait
        )

    def canary_status(self, app: str, env: str) -> CanaryStatus:
        """A canary's release, its share per process as the listener has it, its health now
        and its last rollout."""
        return self.canaries.status(app, env)

    def promote(
        self,
        app: str,
        env: str,
        *,
        release: int | None = None,
        with_config: bool = False,
        approvals: ApprovalPolicy | None = None,
        on_progress: Callable[[Rollout], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
        lock_wait: float = 900.0,
        timeout: float = 900.0,
    ) -> DeployResult:
        """Promote a canary: a parent release with its image and manifest (``with_config``:
        and its config overrides, then dropped from it), deployed through the normal
        reviewed path, then the canary's weight set to 0. Refused when the canary is
        unhealthy or runs another release than ``release``."""
        return self.canaries.promote(
            app,
            env,
            release=release,
            with_config=with_config,
            approvals=approvals,
            on_progress=on_progress,
            on_wait=on_wait,
            lock_wait=lock_wait,
            timeout=timeout,
        )

    def plan(self, app: str, env: str, image: str | None = None) -> Plan:
        """What deploying ``image`` (default: the current release's) with the app's current
        manifest, config and formation would change: the plan of its stack (reads only;
        nothing is recorded)."""
        return self._stack_plan(self._planned_release(app, env, image).spec())[1].plan

    def plan_deploy(self, app: str, env: str, image: str | None = None) -> DeployPlan:
        """A deploy saved for review (``apps plan -o FILE``): the release deploying ``image``
        (default: the current release's) would make, and the plan of its stack. Reads
        only; nothing is recorded."""
        from stackyard.apps.deploy_plan import DeployPlan

        release = self._planned_release(app, env, image)
        _, planned = self._stack_plan(release.spec())
        created = utcnow().isoformat(timespec="seconds")
        return DeployPlan(release, planned.plan, created, self.region)

    def apply_plan(
        self,
        saved: DeployPlan,
        *,
        signed_items: frozenset[str] = frozenset(),
        approve_protected: bool = False,
        description: str = "",
        on_progress: Callable[[Rollout], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
        lock_wait: float = 900.0,
        timeout: float = 900.0,
    ) -> DeployResult:
        """Deploy a saved plan exactly, under the app environment's deploy lock.

        The release is made again from what the plan was asked for, and its stack planned
        again; ``PlanMoved`` (exit 1), naming what differs, unless both are the saved ones
        (so an edited plan is refused too). Protected changes run only with the items
        ``signed_items`` approves (verified signatures) or ``approve_protected``; otherwise
        ``DeployHeld`` (exit 3) and nothing is recorded, so the same plan can be approved
        and applied. Then the release is recorded with the saved contents and shipped as
        a deploy is."""
        from stackyard.apps.deploy_plan import DeployHeld, release_moved
        from stackyard.engine.approval import ApprovalPolicy, settle
        from stackyard.workflow import PlanMoved, refuse_if_moved

        planned_release = saved.release
        app, env = planned_release.app, planned_release.environment
        image = f" {planned_release.requested_image}" if planned_release.requested_image else ""
        again = (
            f"make and review the plan again: stackyard apps plan{image} -a {app} -e {env} -o FILE"
        )
        # A reviewed plan file alone approves nothing: only a signature (or break glass) does.
        policy = ApprovalPolicy(
            reviewed=saved.plan,
            approve_all=approve_protected,
            signed_items=signed_items,
        )
        holder = holder_id(self.actor)
        with deploy_lock(self.db, f"{app}/{env}", holder, wait=lock_wait, on_wait=on_wait):
            now = self._planned_release(app, env, planned_release.requested_image)
            moved = release_moved(planned_release, now)
            if moved:
                raise PlanMoved(
                    "refusing to apply: the release would differ from the planned one:\n"
                    + "\n".join(f"  - {m}" for m in moved),
                    hint=again,
                )
            project, planned = self._stack_plan(planned_release.spec())
            refuse_if_moved(saved.plan, planned.plan, hint=again)
            held = settle(planned.plan, policy, planned.waits_for).not_approved
            if held:
                count = sum(len(o.plan.protection.items) for o in held.values())
                raise DeployHeld(
                    f"{app} {env} v{planned_release.version}: held: {count} protected "
                    f"change(s) of {', '.join(sorted(held))} need a signed approval; "
                    "nothing was recorded"
                )
            what = description or f"deploy {planned_release.image} (reviewed plan)"
            spec = self._new_release(
                app, env, planned_release.image, what, None, contents=planned_release.spec()
            )
            return self._ship(spec, policy, on_progress, timeout, planned=(project, planned))

    def _planned_release(self, app: str, env: str, image: str | None) -> PlannedRelease:
        """The release deploying ``image`` (None: the current release's image) would make
        now, with the app's manifest and the effective config and formation (reads only)."""
        from stackyard.apps.deploy_plan import PlannedRelease
        from stackyard.apps.images import resolve_image

        if self.environments is None or self.gateway is None:
            raise UsageError("planning needs the apps file and AWS")
        self.environments.get(env)
        with self.db.session() as session:
            a = self._app(session, app)
            e = self._find_env(session, a, env)
            current = e.current_release if e is not None else None
            env_id = e.id if e is not None else -1
            version = _next_version(session, env_id)
            chosen = image
            if chosen is None:
                row = session.scalars(
                    select(Release).where(
                        Release.environment_id == env_id, Release.version == current
                    )
                ).one_or_none()
                if row is None:
                    raise UsageError(
                        f"{app} has no release in {env} yet",
                        hint="name the image to deploy (IMAGE)",
                    )
                chosen = row.image
            manifest = a.manifest
            config = self._effective_config(session, a, env)
            formation = self._effective_formation(session, a, env)
        resolved = resolve_image(chosen, self._clients("ecr"))
        spec = ReleaseSpec(app, env, version, resolved, manifest, config, formation)
        return PlannedRelease.of(spec, current, image)

    def _stack_plan(self, spec: ReleaseSpec) -> tuple[Any, Planned]:
        """The project of release ``spec``'s stack and its plan (reads only)."""
        from stackyard.plan.planner import PlanOptions
        from stackyard.workflow import plan

        assert self.environments is not None and self.gateway is not None
        project = load_project(spec, self.environments, self.region)
        return project, plan(project, self.gateway, PlanOptions())

    def _formation(self, app: str, env: str) -> dict[str, dict[str, int | None]]:
        with self.db.session() as session:
            return self._effective_formation(session, self._app(session, app), env)

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

    def _services(
        self, spec: ReleaseSpec, outputs: dict[str, str] | None = None
    ) -> tuple[str, dict[str, tuple[str, str]]]:
        """The cluster and, per process, its service name and task definition ARN, from the
        stack's outputs (read unless given)."""
        from stackyard.library.app_service import logical_name

        outputs = outputs or self._outputs(spec.app, spec.environment)
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
                self._refuse_with_children(app, env)
                if parent_name(env) is not None:
                    self.canaries.detach(app, env)
                project = load_project(spec, self.environments, self.region)
                result = destroy(project, self.gateway, RunOptions(), approvals=approvals)
                if not result.ok:
                    return result.exit_code
            with self.db.session() as session:
                e = self._env(session, self._app(session, app), env)
                session.delete(e)
                self._event(session, app, env, "destroy", f"destroyed {app} in {env}")
        return 0

    def _refuse_with_children(self, app: str, env: str) -> None:
        assert self.environments is not None
        for child in self.environments.children_of(env):
            if self._current_version(app, child) is not None:
                raise UsageError(
                    f"{app} runs in {child}, which shares {env}'s listener rules",
                    hint=f"destroy it first: stackyard apps destroy -a {app} -e {child}",
                )

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


def _next_version(session: Any, environment_id: int) -> int:
    """The version the next release of an environment gets (1 for the first)."""
    latest = session.scalar(
        select(func.max(Release.version)).where(Release.environment_id == environment_id)
    )
    return int(latest or 0) + 1
