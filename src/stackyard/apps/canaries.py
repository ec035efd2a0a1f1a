"""Canary operations of the apps service: stepped rollouts with automatic rollback, weights,
status and promotion. :class:`~stackyard.apps.service.AppsService` offers them as its own
methods (``deploy(..., canary=...)``, ``canary_weight``, ``canary_status``, ``promote``);
this module holds their work, over the service's database, releases and AWS clients.

Where a canary's pieces are: the parent's stack outputs, per exposed process, its listener
rule (``WebListenerRuleArn``) and target group (``WebTargetGroupArn``); the canary's stack
outputs its own target group, services and alarms (``WebAlarms``). The weights live on the
parent's rules, outside the parent's template: a parent deploy leaves them alone unless it
changes the rule itself, which puts all traffic back on the parent (weight 0, the safe side).

Promotion makes a parent release with the canary's image (its digest, as the canary's
release pinned it) and manifest, deploys it through the normal reviewed path, then sets the
canary's weight to 0. The canary's tasks keep running, on the promoted image: the next
canary deploy replaces them (scale the canary down with ``apps scale`` to save them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from stackyard.apps.canary import Confirmation, WeightedRule, WeightError, Weights
from stackyard.apps.db.locks import deploy_lock, holder_id
from stackyard.apps.db.models import CanaryRollout, ConfigVar, utcnow
from stackyard.apps.health import Health, HealthWatch
from stackyard.apps.inheritance import parent_name
from stackyard.apps.render import ReleaseSpec
from stackyard.apps.rollout import CanaryPolicy, StepProgress, run_steps
from stackyard.errors import StackyardError, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from stackyard.apps.follow import Rollout
    from stackyard.apps.service import AppsService, DeployResult, ReleaseInfo
    from stackyard.engine.approval import ApprovalPolicy

__all__ = ["Canaries", "CanaryStatus"]


@dataclass(frozen=True)
class CanaryStatus:
    """A canary as it stands: its release and its parent's, each process's share as the
    listener has it, its health, and its last rollout."""

    app: str
    environment: str
    parent: str
    release: int | None
    parent_release: int | None
    weights: dict[str, float | None]
    rules: list[WeightedRule]
    listener: str
    health: Health | None
    rollout: dict[str, Any] | None = None
    image: str = ""
    parent_image: str = ""


def _require_parent(env: str) -> str:
    parent = parent_name(env)
    if parent is None:
        raise UsageError(
            f"{env} is not a sub-environment",
            hint="canaries are sub-environments named PARENT/NAME (prod/canary)",
        )
    return parent


def listener_of(rule_arn: str) -> str:
    """The listener ARN of a listener rule's ARN."""
    return rule_arn.replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]


class Canaries:
    """The canary operations over one :class:`AppsService`, for one operation: the stack
    outputs it reads are kept for the operation's length (each is read after the stack
    took its release)."""

    def __init__(self, service: AppsService) -> None:
        self.service = service
        self._read: dict[tuple[str, str], dict[str, str] | None] = {}

    # -- where the pieces are ---------------------------------------------------------------
    def _outputs(self, app: str, env: str) -> dict[str, str] | None:
        if (app, env) not in self._read:
            try:
                self._read[app, env] = self.service._outputs(app, env)
            except UsageError:
                return None
        return self._read[app, env]

    def parent_rules(self, app: str, env: str) -> dict[str, tuple[str, str]]:
        """Per exposed process of the parent: (listener rule ARN, target group ARN).
        UsageError when the parent is not deployed or exposes nothing."""
        from stackyard.library.app_service import logical_name

        parent = _require_parent(env)
        outputs = self._outputs(app, parent)
        if outputs is None:
            raise UsageError(
                f"{app} is not deployed in {parent}: a canary takes a share of its traffic",
                hint=f"deploy it first: stackyard apps deploy IMAGE -a {app} -e {parent}",
            )
        found = {}
        for process in self._processes(app):
            name = logical_name(process)
            rule, group = (
                outputs.get(f"{name}ListenerRuleArn"),
                outputs.get(f"{name}TargetGroupArn"),
            )
            if rule and group:
                found[process] = (rule, group)
        if not found:
            raise UsageError(
                f"{app} in {parent} has no listener rule to share: no exposed process, or a "
                "stack from before canaries",
                hint=f"expose a process, then deploy {parent} once more",
            )
        return found

    def _processes(self, app: str) -> list[str]:
        with self.service.db.session() as session:
            return sorted(self.service._app(session, app).manifest.get("processes", {}))

    def rules(self, app: str, env: str) -> list[WeightedRule]:
        """The parent's rules with the canary's target group of each exposed process; empty
        when the canary's stack does not exist."""
        from stackyard.library.app_service import logical_name

        parent = self.parent_rules(app, env)
        outputs = self._outputs(app, env)
        if outputs is None:
            return []
        return [
            WeightedRule(process, rule, group, outputs[f"{logical_name(process)}TargetGroupArn"])
            for process, (rule, group) in sorted(parent.items())
            if f"{logical_name(process)}TargetGroupArn" in outputs
        ]

    def _weights(self, rules: list[WeightedRule]) -> Weights:
        return Weights(self.service._clients("elbv2"), rules)

    def watch(self, spec: ReleaseSpec, since: datetime) -> HealthWatch:
        """The health watch of ``spec``'s canary: its target groups, services and alarms."""
        from stackyard.library.app_service import logical_name

        outputs = self._outputs(spec.app, spec.environment)
        if outputs is None:
            raise UsageError(f"{spec.app} is not deployed in {spec.environment}")
        cluster, services = self.service._services(spec, outputs)
        groups, alarms = {}, []
        for process in services:
            name = logical_name(process)
            if f"{name}TargetGroupArn" in outputs:
                groups[process] = outputs[f"{name}TargetGroupArn"]
            alarms += [a for a in outputs.get(f"{name}Alarms", "").split(",") if a not in ("", "-")]
        return HealthWatch(
            self.service._clients("elbv2"),
            self.service._clients("ecs"),
            self.service._clients("cloudwatch"),
            cluster,
            groups,
            services,
            alarms,
            since,
        )

    # -- a stepped rollout ------------------------------------------------------------------
    def rollout(
        self,
        spec: ReleaseSpec,
        previous: int | None,
        policy: CanaryPolicy,
        approvals: ApprovalPolicy | None,
        on_progress: Callable[[Rollout], None] | None,
        on_step: Callable[[StepProgress], None] | None,
        timeout: float,
    ) -> DeployResult:
        """Ship ``spec`` to its canary environment, then run the steps of ``policy``; on any
        failure set the weight to 0 and roll back (see :meth:`AppsService.deploy`)."""
        from dataclasses import replace

        started = utcnow()
        row = self._record(spec, policy)
        shipped = self.service._ship(spec, approvals, on_progress, timeout, finish=False)
        if shipped.exit_code == 3:  # held for approval: nothing changed
            self._update(row, status="held", reason=shipped.release.reason, finished=True)
            return shipped
        if shipped.exit_code:
            self._update(row, status="rolled_back", reason=shipped.release.reason, finished=True)
            return self._recover(spec, previous, shipped, approvals, on_progress, timeout, policy)

        def progress(step: StepProgress) -> None:
            if step.phase == "confirmed":
                self._update(row, step=step.step, weight=step.weight)
                with self.service.db.session() as session:
                    message = f"weight {step.weight}% (step {step.step}/{step.steps})"
                    self.service._event(
                        session, spec.app, spec.environment, "weight", message, spec.version
                    )
            if on_step is not None:
                on_step(step)

        weights = self._weights(self.rules(spec.app, spec.environment))
        outcome = run_steps(policy, weights, self.watch(spec, started), progress)
        if outcome.ok:
            self._update(row, status="succeeded", finished=True)
            info = self.service._finish(spec, "succeeded", "")
            return replace(shipped, release=info, canary=outcome)
        self._update(row, status="rolled_back", reason=outcome.reason, finished=True)
        failed = replace(shipped, release=self.service._finish(spec, "failed", outcome.reason))
        return self._recover(
            spec, previous, replace(failed, canary=outcome), approvals, on_progress, timeout, policy
        )

    def _recover(
        self,
        spec: ReleaseSpec,
        previous: int | None,
        failed: DeployResult,
        approvals: ApprovalPolicy | None,
        on_progress: Callable[[Rollout], None] | None,
        timeout: float,
        policy: CanaryPolicy,
    ) -> DeployResult:
        """After a failed canary release (``failed``, finished with its reason): weight 0,
        then, if the stack took the release, a new release from the previous one (the
        parent's, the first time). Always exit 1: a rollback is a failure."""
        from dataclasses import replace

        svc = self.service
        notes: list[str] = []
        rules = self.rules(spec.app, spec.environment)
        if rules:
            try:
                self._weights(rules).apply(0, policy.confirm_timeout, policy.confirm_poll)
            except WeightError as exc:
                notes.append(exc.message)
        back: ReleaseInfo | None = None
        if failed.shipped:
            target = self._rollback_spec(spec, previous, failed.release.reason)
            if target is None:
                notes.append("nothing to roll back to")
            else:
                result = svc._ship(target, approvals, on_progress, timeout)
                back = result.release
                if result.exit_code:
                    notes.append(f"the rollback v{back.version} is {back.status}: {back.reason}")
        release = failed.release
        if notes:
            release = replace(release, reason="; ".join([release.reason, *notes]))
        return replace(failed, release=release, exit_code=1, rolled_back_to=back)

    def _rollback_spec(
        self, spec: ReleaseSpec, previous: int | None, reason: str
    ) -> ReleaseSpec | None:
        svc = self.service
        why = f"canary v{spec.version} failed: {reason}"
        if previous is not None:
            return svc._new_release(
                spec.app, spec.environment, "", f"rollback to v{previous} ({why})", previous
            )
        parent = svc._current_spec(spec.app, _require_parent(spec.environment))
        if parent is None:
            return None
        contents = ReleaseSpec(
            spec.app,
            spec.environment,
            0,
            parent.image,
            parent.manifest,
            spec.config,
            spec.formation,
        )
        description = f"back to {parent.environment} v{parent.version} ({why})"
        return svc._new_release(
            spec.app, spec.environment, "", description, None, contents=contents
        )

    def _record(self, spec: ReleaseSpec, policy: CanaryPolicy) -> int:
        with self.service.db.session() as session:
            e = self.service._env(session, self.service._app(session, spec.app), spec.environment)
            row = CanaryRollout(
                environment_id=e.id,
                release=spec.version,
                steps=list(policy.steps),
                bake_seconds=policy.bake,
                step=0,
                weight=0,
                status="running",
                reason="",
                started_at=utcnow(),
                created_by=self.service.actor,
            )
            session.add(row)
            session.flush()
            return int(row.id)

    def _update(self, row_id: int, *, finished: bool = False, **values: Any) -> None:
        with self.service.db.session() as session:
            row = session.get(CanaryRollout, row_id)
            for key, value in values.items():
                setattr(row, key, value)
            if finished:
                row.finished_at = utcnow()

    # -- weights, status --------------------------------------------------------------------
    def set_weight(
        self,
        app: str,
        env: str,
        weight: int,
        *,
        confirm_timeout: float = 30.0,
        on_wait: Callable[[str], None] | None = None,
        lock_wait: float = 900.0,
    ) -> Confirmation:
        """Set the canary's share and read it back; WeightError when it does not read back."""
        with deploy_lock(
            self.service.db,
            f"{app}/{env}",
            holder_id(self.service.actor),
            wait=lock_wait,
            on_wait=on_wait,
        ):
            rules = self.rules(app, env)
            if not rules:
                raise UsageError(
                    f"{app} is not deployed in {env}",
                    hint=f"deploy it first: stackyard apps deploy IMAGE -a {app} -e {env}",
                )
            confirmation = self._weights(rules).apply(weight, confirm_timeout)
            with self.service.db.session() as session:
                version = self.service._current_version(app, env)
                self.service._event(session, app, env, "weight", f"weight {weight}%", version)
            return confirmation

    def detach(self, app: str, env: str) -> None:
        """Point the parent's rules at the parent's target groups alone (before the canary's
        stack goes: a target group a rule forwards to cannot be deleted). Nothing to do when
        the parent's stack is gone."""
        try:
            rules = self.rules(app, env)
        except UsageError:
            return
        elbv2 = self.service._clients("elbv2")
        for rule in rules:
            elbv2.modify_rule(
                RuleArn=rule.rule_arn,
                Actions=[{"Type": "forward", "TargetGroupArn": rule.parent_group}],
            )
        if rules:
            confirmation = self._weights(rules).confirm(0)
            if not confirmation.confirmed:
                raise WeightError(
                    f"the parent's rules still forward to {env}: {confirmation.describe()}"
                )

    def weight_from_scale(self, app: str, env: str) -> int:
        """The share Empire would give: the canary's tasks serving its exposed processes (its
        healthy targets) over theirs and the parent's (a number to set, once: not a setting
        that follows scale)."""
        from stackyard.apps.canary import weight_from_scale

        rules = self.rules(app, env)
        elbv2 = self.service._clients("elbv2")

        def running(arn: str) -> int:
            answer = elbv2.describe_target_health(TargetGroupArn=arn)
            return sum(
                1
                for t in answer.get("TargetHealthDescriptions", [])
                if t.get("TargetHealth", {}).get("State") == "healthy"
            )

        canary = sum(running(r.canary_group) for r in rules)
        parent = sum(running(r.parent_group) for r in rules)
        return weight_from_scale(canary, parent)

    def status(self, app: str, env: str) -> CanaryStatus:
        """The canary's release, its share per process as read from the listener, its
        health now, and its last rollout."""
        svc = self.service
        parent = _require_parent(env)
        spec = svc._current_spec(app, env)
        parent_spec = svc._current_spec(app, parent)
        rules = self.rules(app, env)
        weights = self._weights(rules).read() if rules else {}
        health = self.watch(spec, utcnow()).read() if spec is not None and rules else None
        with svc.db.session() as session:
            e = svc._find_env(session, svc._app(session, app), env)
            last = None
            if e is not None:
                last = session.scalars(
                    select(CanaryRollout)
                    .where(CanaryRollout.environment_id == e.id)
                    .order_by(CanaryRollout.id.desc())
                    .limit(1)
                ).one_or_none()
            rollout = (
                {
                    "release": last.release,
                    "steps": list(last.steps),
                    "bake_seconds": last.bake_seconds,
                    "step": last.step,
                    "weight": last.weight,
                    "status": last.status,
                    "reason": last.reason,
                    "started_at": last.started_at.isoformat(timespec="seconds"),
                }
                if last is not None
                else None
            )
        return CanaryStatus(
            app,
            env,
            parent,
            spec.version if spec else None,
            parent_spec.version if parent_spec else None,
            weights,
            rules,
            listener_of(rules[0].rule_arn) if rules else "",
            health,
            rollout,
            spec.image if spec else "",
            parent_spec.image if parent_spec else "",
        )

    # -- promotion --------------------------------------------------------------------------
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
        confirm_timeout: float = 30.0,
    ) -> DeployResult:
        """Make a parent release with the canary's image and manifest (and, ``with_config``,
        its config overrides, then dropped from the canary), deploy it through the normal
        reviewed path, and set the canary's weight to 0. Refused when the canary is
        unhealthy or runs another release than ``release``."""
        svc = self.service
        parent = _require_parent(env)
        if svc.environments is None or svc.gateway is None:
            raise UsageError("promoting needs the apps file and AWS")
        holder = holder_id(svc.actor)
        with deploy_lock(svc.db, f"{app}/{env}", holder, wait=lock_wait, on_wait=on_wait):
            canary = svc._current_spec(app, env)
            if canary is None:
                raise UsageError(f"{app} has no release in {env} to promote")
            if release is not None and release != canary.version:
                raise UsageError(
                    f"{env} runs v{canary.version}, not v{release}: nothing promoted",
                    hint="name the release the canary runs (stackyard apps canary status)",
                )
            health = self.watch(canary, utcnow()).read()
            if not health.ok:
                raise StackyardError(
                    f"{env} v{canary.version} is not healthy, so it is not promoted: "
                    f"{health.problem}"
                )
            with deploy_lock(svc.db, f"{app}/{parent}", holder, wait=lock_wait, on_wait=on_wait):
                overrides = self._overrides(app, env) if with_config else {}
                config = {**svc.config_get(app, parent), **overrides}
                contents = ReleaseSpec(
                    app,
                    parent,
                    0,
                    canary.image,
                    canary.manifest,
                    config,
                    svc._formation(app, parent),
                )
                what = f"promote {env} v{canary.version}"
                if overrides:
                    what += " with config " + ", ".join(sorted(overrides))
                spec = svc._new_release(app, parent, "", what, None, contents=contents)
                result = svc._ship(spec, approvals, on_progress, timeout)
                if result.exit_code:
                    return result
                if overrides:
                    self._move_config(app, env, parent, overrides)
                with svc.db.session() as session:
                    svc._event(
                        session,
                        app,
                        env,
                        "promote",
                        f"{what} as {parent} v{spec.version}",
                        canary.version,
                    )
            rules = self.rules(app, env)
            try:
                self._weights(rules).apply(0, confirm_timeout)
            except WeightError as exc:
                raise WeightError(
                    f"{parent} v{spec.version} is promoted, but {exc.message}", hint=exc.hint
                ) from exc
            return result

    def _overrides(self, app: str, env: str) -> dict[str, str]:
        with self.service.db.session() as session:
            return self.service._own_config(session, self.service._app(session, app), env)

    def _move_config(self, app: str, env: str, parent: str, values: dict[str, str]) -> None:
        """Make the canary's overrides the parent's own, and drop them from the canary."""
        svc = self.service
        svc.config_change(app, parent, values, [])
        with svc.db.session() as session:
            e = svc._env(session, svc._app(session, app), env)
            for row in session.scalars(
                select(ConfigVar).where(ConfigVar.environment_id == e.id, ConfigVar.key.in_(values))
            ):
                session.delete(row)
            svc._event(session, app, env, "config", "promoted " + ", ".join(sorted(values)))
