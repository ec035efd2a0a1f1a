"""plan → review → apply, as a library: what ``stackyard.api`` exports and the CLI calls.

- :func:`connect` makes the CloudFormation gateway (sessions, retries, the rate limiter);
- :func:`load` loads a project from :class:`~stackyard.plan.model.PlanInputs`;
- :func:`plan` makes a :class:`~stackyard.plan.planner.Planned` (read calls only);
- :func:`build` and :func:`destroy` plan, settle approvals, then execute;
- :func:`apply` executes a saved plan: it loads the project from the plan's recorded
  inputs, plans again, and refuses, naming what moved, unless the result equals the saved
  plan exactly (so an edited plan file is refused too); then it executes it, the reviewed
  plan's approval ids counting as approvals;
- :func:`refuse_if_moved` is that comparison alone (an app deploy's saved plan uses it).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackyard.errors import StackyardError

if TYPE_CHECKING:
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.engine.approval import ApprovalPolicy
    from stackyard.engine.run import RunOptions, RunResult
    from stackyard.engine.status import Listener
    from stackyard.plan.model import Plan, PlanInputs
    from stackyard.plan.planner import Planned, PlanOptions
    from stackyard.project import Project

__all__ = [
    "PlanMoved",
    "apply",
    "build",
    "check_secret_overrides",
    "connect",
    "destroy",
    "input_digests",
    "load",
    "options_of",
    "plan",
    "refuse_if_moved",
    "replan",
]


class PlanMoved(StackyardError):
    """A saved plan no longer matches what its inputs and the deployed stacks give."""


def connect(
    *,
    endpoint_url: str | None = None,
    retry_mode: str = "standard",
    region: str | None = None,
) -> CloudFormationGateway:
    """The CloudFormation gateway for a run (``endpoint_url``: a local endpoint)."""
    from stackyard.aws.change_set_journal import ChangeSetJournal, default_journal_dir
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.aws.session import ClientFactory
    from stackyard.aws.template_cache import TemplateCache, default_cache_dir

    factory = ClientFactory(
        endpoint_url=endpoint_url,
        retry_mode="adaptive" if retry_mode == "adaptive" else "standard",
        default_region=region,
    )
    return CloudFormationGateway(
        factory,
        templates=TemplateCache(default_cache_dir()),
        journal=ChangeSetJournal(default_journal_dir(), endpoint_url),
    )


def load(inputs: PlanInputs, secrets: Mapping[str, str] | None = None) -> Project:
    """The project the inputs name, loaded as they say; ``secrets`` gives the values of the
    secret ``-e`` overrides, which a plan records only as digests."""
    from stackyard.project import Project

    return Project.load(
        inputs.config,
        environment_file=inputs.environment_file,
        overrides={**dict(inputs.overrides), **dict(secrets or {})},
        region=inputs.region,
        profile=inputs.profile,
    )


def _override_digest(key: str, value: str) -> str:
    from stackyard.template_secrets import parameter_digest

    return parameter_digest("stackyard:override", key, value)


def check_secret_overrides(inputs: PlanInputs, given: Mapping[str, str]) -> dict[str, str]:
    """The secret ``-e`` values for ``inputs``, checked against the digests the plan holds."""
    from stackyard.errors import UsageError

    out: dict[str, str] = {}
    for key, digest in inputs.secret_overrides:
        value = given.get(key)
        if value is None:
            raise UsageError(
                f"the plan was made with a secret -e {key}=...; it is not stored in the plan",
                hint=f"pass it again: stackyard apply PLANFILE -e {key}=VALUE",
            )
        if _override_digest(key, value) != digest:
            raise UsageError(
                f"-e {key}: not the value the plan was made with",
                hint="pass the same value, or make and review the plan again",
            )
        out[key] = value
    return out


def _without_secrets(inputs: PlanInputs, planned: Planned) -> PlanInputs:
    """``inputs`` with every ``-e`` value that reached a NoEcho parameter or a secret kept
    only as a salted digest (plan files are shared for review)."""
    from dataclasses import replace

    from stackyard.lookups.secret import is_secret

    secrets: set[str] = set()
    for item in planned.stacks.values():
        desired = item.desired
        if desired is None:
            continue
        for key, value in desired.parameters.items():
            if isinstance(value, str) and (key in desired.no_echo or is_secret(value)):
                secrets.add(str.__str__(value))
    kept: list[tuple[str, str]] = []
    hidden: dict[str, str] = dict(inputs.secret_overrides)
    for key, value in inputs.overrides:
        if key in hidden or (
            value and any(value == s or (len(value) >= 4 and value in s) for s in secrets)
        ):
            hidden[key] = _override_digest(key, value)
        else:
            kept.append((key, value))
    return replace(inputs, overrides=tuple(kept), secret_overrides=tuple(sorted(hidden.items())))


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def input_digests(project: Project, inputs: PlanInputs) -> tuple[tuple[str, str], ...]:
    """SHA-256 of every file the plan was made from: config, environment file, each raw
    template and each blueprint module (once imported)."""
    files: dict[str, Path] = {inputs.config: Path(inputs.config)}
    if inputs.environment_file:
        files[inputs.environment_file] = Path(inputs.environment_file)
    base = project.loaded.base_dir
    for stack in project.loaded.config.stacks:
        if stack.template_path:
            found = project.template_file(stack.name)
            files[stack.template_path] = found or base / stack.template_path
        elif stack.class_path:
            module = sys.modules.get(stack.class_path.rsplit(".", 1)[0])
            source = getattr(module, "__file__", None)
            if source and not source.startswith(str(Path(__file__).parent)):
                files[stack.class_path.rsplit(".", 1)[0]] = Path(source)
    return tuple(sorted((name, _sha256(path)) for name, path in files.items()))


def plan(
    project: Project,
    gateway: CloudFormationGateway,
    options: PlanOptions,
    *,
    inputs: PlanInputs | None = None,
) -> Planned:
    """The plan of ``options`` (read calls only, unless ``options.change_sets``).

    With ``inputs`` the plan records them (with file digests), for ``apply PLANFILE``.
    """
    from dataclasses import replace

    from stackyard.engine.access import EngineAWSAccess
    from stackyard.plan.planner import Planner

    planner = Planner(project, gateway, access=EngineAWSAccess.for_project(gateway, project))
    planned = planner.prepare(options)
    if inputs is not None:
        recorded = _without_secrets(inputs, planned)
        recorded = replace(recorded, digests=input_digests(project, recorded))
        planned = replace(planned, plan=replace(planned.plan, inputs=recorded))
    return planned


def build(
    project: Project,
    gateway: CloudFormationGateway,
    options: RunOptions,
    *,
    listener: Listener | None = None,
    approvals: ApprovalPolicy | None = None,
    review: Callable[[Planned], None] | None = None,
    **engine: Any,
) -> RunResult:
    """Plan, settle approvals (all up front), execute. See ``engine.run.build``."""
    from stackyard.engine.run import build as run_build

    return run_build(
        project, options, gateway, listener, approvals=approvals, review=review, **engine
    )


def destroy(
    project: Project,
    gateway: CloudFormationGateway,
    options: RunOptions,
    *,
    listener: Listener | None = None,
    approvals: ApprovalPolicy | None = None,
    review: Callable[[Planned], bool] | None = None,
    **engine: Any,
) -> RunResult:
    """Plan the deletion, settle approvals (nothing is deleted unless all are), execute."""
    from stackyard.engine.run import destroy as run_destroy

    return run_destroy(
        project, options, gateway, listener, approvals=approvals, review=review, **engine
    )


def options_of(inputs: PlanInputs) -> PlanOptions:
    """The plan options a saved plan was made with."""
    from stackyard.plan.planner import PlanOptions

    return PlanOptions(
        stacks=inputs.stacks,
        recreate_failed=inputs.recreate_failed,
        force=frozenset(inputs.force),
        change_sets=inputs.change_sets,
        destroy=inputs.destroy,
        wait=inputs.wait,
        prune=inputs.prune,
    )


def replan(
    saved: Plan, gateway: CloudFormationGateway, secrets: Mapping[str, str] | None = None
) -> tuple[Project, Planned]:
    """The project and a fresh plan from ``saved``'s recorded inputs; ``PlanMoved`` naming
    every difference unless the fresh plan equals the saved one exactly."""
    from dataclasses import replace

    if saved.inputs is None:
        raise StackyardError(
            "this plan file does not record its inputs",
            hint="make the plan again with this version: stackyard plan -o PLANFILE ...",
            exit_code=2,
        )
    given = check_secret_overrides(saved.inputs, secrets or {})
    project = load(saved.inputs, given)
    with_secrets = replace(
        saved.inputs, overrides=saved.inputs.overrides + tuple(sorted(given.items()))
    )
    fresh = plan(project, gateway, options_of(saved.inputs), inputs=with_secrets)
    refuse_if_moved(
        saved, fresh.plan, hint="make and review the plan again (stackyard plan -o PLANFILE ...)"
    )
    return project, fresh


def refuse_if_moved(saved: Plan, fresh: Plan, *, hint: str) -> None:
    """``PlanMoved`` naming every difference, unless ``fresh`` is exactly ``saved``."""
    from stackyard.plan.moved import what_moved

    moved = what_moved(saved, fresh)
    if moved:
        raise PlanMoved(
            "refusing to apply: the plan no longer matches what would run:\n"
            + "\n".join(f"  - {m}" for m in moved),
            hint=hint,
        )


def apply(
    saved: Plan,
    gateway: CloudFormationGateway,
    *,
    listener: Listener | None = None,
    max_parallel: int = 0,
    approve_protected: bool = False,
    secrets: Mapping[str, str] | None = None,
    signed_items: frozenset[str] | None = None,
    **engine: Any,
) -> RunResult:
    """Execute a saved plan, exactly (see the module docstring); ``secrets``: the values of
    the plan's secret ``-e`` overrides. With ``signed_items`` (the item ids of verified
    approvals, see ``plan.approvals_file``) only those approve protected changes."""
    from stackyard.engine.approval import ApprovalPolicy
    from stackyard.engine.run import RunOptions
    from stackyard.engine.run import build as run_build
    from stackyard.engine.run import destroy as run_destroy
    from stackyard.plan.protection import RULE_TERMINATION_PROTECTION

    project, fresh = replan(saved, gateway, secrets)
    assert saved.inputs is not None
    inputs = saved.inputs
    options = RunOptions(
        stacks=inputs.stacks,
        max_parallel=max_parallel,
        recreate_failed=inputs.recreate_failed,
        force=frozenset(inputs.force),
        disable_termination_protection=inputs.disable_termination_protection,
        wait=inputs.wait,
        change_sets=inputs.change_sets,
        prune=inputs.prune,
    )
    policy = ApprovalPolicy(
        reviewed=saved,
        approve_all=approve_protected,
        approved_rules=frozenset({RULE_TERMINATION_PROTECTION})
        if inputs.disable_termination_protection
        else frozenset(),
        signed_items=signed_items,
    )
    entry = run_destroy if inputs.destroy else run_build
    return entry(project, options, gateway, listener, approvals=policy, planned=fresh, **engine)
