"""Fleet-wide AMI releases for ECS capacity pools: ``fleet release`` and ``fleet status``.

A *pool* is one entry of the ``Pools`` map of a stack built from
``stackyard.library.ecs.CapacityPools`` (or a subclass): one launch template and one
auto scaling group with a rolling update policy. Other stacks that happen to take an
``ImageId`` (a bastion, a one-off instance) are not pools: they have no group to roll.

Where the AMI lives
-------------------
The config stays the one source of truth. A pool's AMI is an *environment key*, written
in the config as ``ImageId: ${ami_id}`` (or per pool, ``Pools.web.ImageId: ${web_ami}``)
and set in the environment file (``stage.env``). ``fleet release --ami AMI``:

1. validates everything before touching anything: the AMI's shape, the pool names
   (unknown ones get a "did you mean"), that each selected pool's AMI comes from an
   environment key and that no pool outside the selection shares that key (releasing
   ``web`` alone when ``web`` and ``worker`` both read ``${ami_id}`` would make the
   config lie; give each pool its own key to release it alone);
2. plans the selected pool stacks with the key overridden (``-e ami_id=AMI``): every
   launch template and auto scaling group that changes, and what is protected;
3. after confirmation, **records the AMI in the environment file first** (one line
   rewritten in place, comments kept), then rolls the pool stacks through the normal
   engine build path, one stack at a time (stopping at the first failure) or all at
   once. Only the pool stacks are built; the stacks they read outputs from are read as
   deployed, never changed.

Recording before rolling is deliberate: if the release is interrupted or a pool fails,
the config already says where the fleet is going, so a later ``build`` (or the same
release again) finishes the roll instead of silently rolling the done pools back. A
release that was a mistake is undone the same way it was made: ``fleet release --ami
OLD``. The environment file change is the release's record; commit it (a checkout
without it would roll back, and ``fleet status`` shows that as ``release pending``).
An SSM parameter per pool was the alternative; it was not chosen because ``render``,
``validate`` and ``diff`` would then no longer show the AMI offline, a fresh
environment would need the parameter seeded before its first build, and the release
would live outside review.

A second release of the same AMI finds every pool in sync and does nothing.
``fleet status`` compares, per pool, the AMI in the config with the one the auto
scaling group's launch template version holds, and the AMIs its instances run.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackyard.config.environment import is_yaml_environment
from stackyard.errors import ConfigError, StackyardError, UsageError
from stackyard.plan.model import StackAction

if TYPE_CHECKING:
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.aws.session import ClientFactory, Location
    from stackyard.engine.approval import ApprovalPolicy
    from stackyard.engine.run import RunResult
    from stackyard.engine.scheduler import Interrupt
    from stackyard.engine.status import Listener
    from stackyard.lookups.context import AWSAccess
    from stackyard.plan.model import Plan, StackPlan
    from stackyard.project import Project

__all__ = [
    "POOL_BLUEPRINT",
    "ImageSource",
    "Pool",
    "PoolStatus",
    "Release",
    "ReleaseOutcome",
    "check_release",
    "find_pools",
    "fleet_status",
    "plan_release",
    "record_ami",
    "roll",
    "select_pools",
    "validate_ami",
]

#: The blueprint whose stacks are pools (subclasses count too).
POOL_BLUEPRINT = "stackyard.library.ecs.CapacityPools"

_ENV_KEY = re.compile(r"^\$(?:\{(?P<braced>[_a-zA-Z][_a-zA-Z0-9]*)\}|(?P<named>[_a-zA-Z]\w*))$")
# `$$`, `${...}` without braces inside, `$name`: hidden while the raw config is parsed.
_RAW_PLACEHOLDER = re.compile(r"\$\$|\$\{[^{}]*\}|\$[_a-zA-Z][_a-zA-Z0-9]*")
_TOKEN_MARK = "zzstackyardzz"
_GROUP_TYPE = "AWS::AutoScaling::AutoScalingGroup"


def validate_ami(value: str) -> str:
    """``value`` when it has the shape of an AMI ID; a ``UsageError`` saying why otherwise."""
    from stackyard.library.ecs import AMI_ID  # the blueprint's own rule, one definition

    if AMI_ID.match(value):
        return value
    hint = "ami- followed by 8 or 17 lowercase hex digits, e.g. ami-0123456789abcdef0"
    if AMI_ID.match(value.strip().lower()):
        hint = f"did you mean {value.strip().lower()!r}?"
    raise UsageError(f"--ami {value!r} is not an AMI ID", hint=hint)


# --- pools -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageSource:
    """Where a pool's AMI comes from in the config.

    ``kind`` is ``env`` (``text`` is the environment key), ``literal`` (an AMI written in
    the config), ``lookup`` (``${ssm ...}`` and friends) or ``unknown`` (the config could
    not be read without the environment); ``path`` is the key path in the stack.
    """

    kind: str
    text: str
    path: str

    def describe(self) -> str:
        """For messages: ``environment key 'ami_id'`` and the like."""
        if self.kind == "env":
            return f"environment key {self.text!r}"
        if self.kind == "literal":
            return f"the value {self.text!r} written in the config"
        if self.kind == "lookup":
            return f"the lookup {self.text}"
        return "a value stackyard cannot trace to an environment key"


@dataclass(frozen=True)
class Pool:
    """One capacity pool: its name, its stack, and its AMI in the config."""

    name: str  # the key in Pools: web
    stack: str  # the config stack: pool-web
    logical: str  # the prefix of its resources and outputs: Web
    image: Any  # the AMI the config asks for (after environment substitution)
    source: ImageSource

    @property
    def label(self) -> str:
        """``pool-web/web``: unique even when two stacks name a pool alike."""
        return f"{self.stack}/{self.name}"


def _is_pool_blueprint(class_path: str | None) -> bool:
    if not class_path:
        return False
    if class_path == POOL_BLUEPRINT:
        return True
    import importlib

    from stackyard.library.ecs import CapacityPools

    module, _, name = class_path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return False  # rendering the stack reports that; it is not a pool either way
    return isinstance(found, type) and issubclass(found, CapacityPools)


def _raw_stacks(project: Project) -> list[Any]:
    """The config's stacks as written, before environment substitution.

    Placeholders are swapped for plain tokens while the YAML is parsed (``{`` would
    otherwise break flow maps such as ``{ImageId: ${gpu_ami}}``) and put back after.
    Returns ``[]`` when the file cannot be read that way (standard input, say).
    """
    from stackyard.config.source import load_yaml

    file = project.loaded.source.file
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError:
        return []
    found: list[str] = []

    def hide(match: re.Match[str]) -> str:
        found.append(match.group(0))
        return f"{_TOKEN_MARK}{len(found) - 1}{_TOKEN_MARK}"

    while True:  # innermost first: ${ssm /${namespace}/ami} takes two rounds
        hidden = _RAW_PLACEHOLDER.sub(hide, text)
        if hidden == text:
            break
        text = hidden
    try:
        data, _ = load_yaml(text, file)
    except StackyardError:
        return []
    stacks = _reveal(data, found).get("stacks") if isinstance(data, dict) else None
    return stacks if isinstance(stacks, list) else []


def _reveal(node: Any, found: Sequence[str]) -> Any:
    if isinstance(node, str):
        token = re.compile(rf"{_TOKEN_MARK}(\d+){_TOKEN_MARK}")
        while token.search(node):
            node = token.sub(lambda m: found[int(m.group(1))], node)
        return node
    if isinstance(node, Mapping):
        return {_reveal(k, found): _reveal(v, found) for k, v in node.items()}
    if isinstance(node, list):
        return [_reveal(v, found) for v in node]
    return node


def _source(raw: Any, path: str) -> ImageSource:
    if not isinstance(raw, str):
        kind = "unknown" if raw is None else "literal"
        return ImageSource(kind, "" if raw is None else str(raw), path)
    whole = _ENV_KEY.match(raw.strip())
    if whole:
        return ImageSource("env", whole.group("braced") or whole.group("named"), path)
    if "${" in raw:
        return ImageSource("lookup", raw, path)
    return ImageSource("literal", raw, path)


def _get(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def find_pools(project: Project) -> list[Pool]:
    """Every pool of every enabled CapacityPools stack, in config order."""
    from stackyard.library.ecs import _logical

    raw_stacks = _raw_stacks(project)
    pools: list[Pool] = []
    for index, stack in enumerate(project.loaded.config.stacks):
        if not stack.enabled or not _is_pool_blueprint(stack.class_path):
            continue
        spec = stack.variables.get("Pools")
        if not isinstance(spec, Mapping):
            file, line = project.loaded.where(stack.name, "variables", "Pools")
            raise ConfigError(
                "fleet needs the Pools of a CapacityPools stack written in the config",
                file=file,
                line=line,
                stack=stack.name,
                key="variables.Pools",
            )
        raw = raw_stacks[index] if index < len(raw_stacks) else None
        for name, pool in spec.items():
            own = isinstance(pool, Mapping) and "ImageId" in pool
            if own:
                image = pool["ImageId"]
                path = f"variables.Pools.{name}.ImageId"
                source = _source(_get(raw, "variables", "Pools", str(name), "ImageId"), path)
            else:
                image = stack.variables.get("ImageId")
                source = _source(_get(raw, "variables", "ImageId"), "variables.ImageId")
            pools.append(Pool(str(name), stack.name, _logical(str(name)), image, source))
    return pools


def select_pools(pools: Sequence[Pool], names: Iterable[str]) -> list[Pool]:
    """The pools named by pool name or stack name (all when none); clear errors otherwise."""
    if not pools:
        raise ConfigError(
            "the config has no capacity pools",
            hint=f"fleet works on stacks built from {POOL_BLUEPRINT}",
        )
    wanted = [n.strip() for item in names for n in item.split(",") if n.strip()]
    if not wanted:
        return list(pools)
    chosen: list[Pool] = []
    for name in wanted:
        by_stack = [p for p in pools if p.stack == name]
        by_name = [p for p in pools if p.name == name or p.label == name]
        found = by_stack or by_name
        if not found:
            known = sorted({p.name for p in pools} | {p.stack for p in pools})
            close = difflib.get_close_matches(name, known, n=1)
            raise UsageError(
                f"--pools {name}: no pool of that name",
                hint=(f"did you mean {close[0]!r}? " if close else "")
                + "pools: "
                + ", ".join(sorted({p.name for p in pools})),
            )
        if not by_stack and len({p.stack for p in by_name}) > 1:
            raise UsageError(
                f"--pools {name}: several stacks have a pool of that name",
                hint="name one: " + ", ".join(p.label for p in by_name),
            )
        chosen.extend(p for p in found if p not in chosen)
    return chosen


# --- the release ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """A planned release: the pools, the keys it sets, and the plan of each pool stack."""

    ami: str
    pools: tuple[Pool, ...]
    keys: tuple[str, ...]
    plans: tuple[StackPlan, ...]
    warnings: tuple[str, ...] = ()

    @property
    def stacks(self) -> tuple[str, ...]:
        """The pool stacks, in config order."""
        return tuple(dict.fromkeys(p.stack for p in self.pools))

    @property
    def changing(self) -> tuple[StackPlan, ...]:
        """The stack plans a release would execute."""
        return tuple(p for p in self.plans if p.will_change)

    @property
    def is_noop(self) -> bool:
        """True when every selected pool already runs the AMI the config asks for."""
        return not self.changing

    def fleet_changes(self, plan: StackPlan) -> list[tuple[str, str, str, bool]]:
        """``(logical id, type, what changes, protected)`` for every resource of ``plan``
        that changes, plus each group that rolls because its launch template changes."""
        from stackyard.plan.model import Replacement

        protected = {i.subject for i in plan.protection.items}
        whole_stack = "true" in plan.protection.rules  # protected: true covers every change
        rows: list[tuple[str, str, str, bool]] = []
        for change in plan.resources:
            what = ", ".join(d.path for d in change.diffs) or str(change.action)
            if change.replacement is not Replacement.FALSE:
                what += f" (replacement: {change.replacement})"
            rows.append(
                (change.logical_id, change.resource_type, what, change.logical_id in protected)
            )
        touched = {c.logical_id for c in plan.resources}
        for pool in (p for p in self.pools if p.stack == plan.name):
            group = f"{pool.logical}AutoScalingGroup"
            if f"{pool.logical}LaunchTemplate" in touched and group not in touched:
                # The group points at the template's LatestVersionNumber: a new version
                # is a rolling update of its instances, though its text is unchanged.
                what = "rolling update to the new template version"
                rows.append((group, _GROUP_TYPE, what, whole_stack or group in protected))
        return rows


def _env_pools(selected: Sequence[Pool], everything: Sequence[Pool]) -> tuple[str, ...]:
    for pool in selected:
        if pool.source.kind != "env":
            raise ConfigError(
                f"pool {pool.name!r}: its AMI comes from {pool.source.describe()}, "
                "not from an environment key",
                stack=pool.stack,
                key=pool.source.path,
                hint=f"write {pool.source.path.rsplit('.', 1)[-1]}: ${{ami_id}} in the config "
                "and set ami_id in the environment file; fleet release records AMIs there",
            )
    keys = tuple(dict.fromkeys(p.source.text for p in selected))
    chosen = {p.label for p in selected}
    for pool in everything:
        if pool.source.kind == "env" and pool.source.text in keys and pool.label not in chosen:
            with_it = [p.name for p in selected if p.source.text == pool.source.text]
            raise UsageError(
                f"--pools: {', '.join(with_it)} shares {pool.source.describe()} with pool "
                f"{pool.name!r} (stack {pool.stack}), which is not selected",
                hint=f"release them together (add --pools {pool.name}), or give each pool "
                "its own environment key to release it alone",
            )
    return keys


def check_release(
    project: Project, ami: str, names: Iterable[str] = ()
) -> tuple[list[Pool], tuple[str, ...]]:
    """The selected pools and the environment keys a release sets; every check that
    needs no AWS (AMI shape, pool names, where each AMI comes from) fails here."""
    validate_ami(ami)
    everything = find_pools(project)
    selected = select_pools(everything, names)
    return selected, _env_pools(selected, everything)


def _other_uses(project: Project, keys: Sequence[str], pools: Sequence[Pool]) -> list[str]:
    """Where else the config uses ``keys``: those stacks change at their next build."""
    pool_paths = {(p.stack, p.source.path) for p in pools}
    found: list[str] = []
    raw_stacks = _raw_stacks(project)
    stacks = project.loaded.config.stacks
    for index, raw in enumerate(raw_stacks):
        name = stacks[index].name if index < len(stacks) else f"stacks[{index}]"
        for path, text in _strings(raw, ()):
            for key in keys:
                if (name, path) in pool_paths:
                    continue
                if re.search(rf"\$(\{{{key}\}}|{key}\b)", text):
                    found.append(
                        f"environment key {key!r} is also used by stack {name!r} ({path}); "
                        "that stack changes at its next build, not in this release"
                    )
    return found


def _strings(node: Any, path: tuple[str, ...]) -> Iterable[tuple[str, str]]:
    if isinstance(node, str):
        yield ".".join(path), node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, (*path, f"[{i}]"))


@dataclass
class _Reads:
    """The deployed side of one plan: listings, templates and stack policies."""

    project: Project
    gateway: CloudFormationGateway

    def location(self, name: str) -> Location:
        return self.project.location(name)

    def access(self, names: Iterable[str]) -> AWSAccess:
        from stackyard.engine.access import EngineAWSAccess

        everything = [s.name for s in self.project.loaded.config.stacks]
        return EngineAWSAccess.for_project(self.gateway, self.project, everything)


def _plan_stacks(project: Project, gateway: CloudFormationGateway, names: Sequence[str]) -> Plan:
    """The planner's plan of just the pool stacks (with the release's environment);
    what they read from other stacks is read as deployed."""
    from stackyard.plan.planner import Planner, PlanOptions

    only = _only(project, names)
    planner = Planner(only, gateway, access=_Reads(only, gateway).access(names))
    plan = planner.plan(PlanOptions(stacks=tuple(names)))
    for stack in plan.stacks:
        if stack.action is StackAction.CREATE:
            raise StackyardError(
                f"pool stack {stack.fqn} is not deployed",
                stack=stack.name,
                hint="create it with build first; fleet release rolls pools that exist",
            )
    return plan


def plan_release(
    project: Project,
    gateway: CloudFormationGateway,
    ami: str,
    names: Iterable[str] = (),
    *,
    load: Callable[[Mapping[str, str]], Project],
) -> tuple[Release, Project]:
    """Validate a release and plan it: the ``Release`` and the project it builds.

    ``load(overrides)`` loads the same config and environment as ``project`` with
    ``overrides`` on top: the release's environment keys set to ``ami``. Nothing is
    written and nothing deployed here.
    """
    selected, keys = check_release(project, ami, names)
    overrides = dict.fromkeys(keys, ami)
    released = load(overrides)
    stacks = list(dict.fromkeys(p.stack for p in selected))
    plans = _plan_stacks(released, gateway, stacks).stacks
    release = Release(
        ami=ami,
        pools=tuple(selected),
        keys=keys,
        plans=plans,
        warnings=tuple(_other_uses(project, keys, selected)),
    )
    return release, released


def record_ami(environment_file: str, keys: Iterable[str], ami: str) -> list[tuple[str, str]]:
    """Set each of ``keys`` to ``ami`` in the environment file, in place; ``(key, before)``
    for each key that changed (``before`` is ``""`` for a key that was added).

    Only the key's own lines are rewritten (every one, as the last would win); comments,
    order, other lines and the file's mode stay as they are. The file is replaced
    atomically, so a reader never sees half of it.
    """
    path = Path(environment_file)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # In a YAML file `  # note` after a value is a comment; in a text file it is the value.
    comment = r"(?P<comment>\s+#.*?)?" if is_yaml_environment(environment_file) else "(?P<comment>)"
    indent = "" if is_yaml_environment(environment_file) else r"\s*"
    changed: list[tuple[str, str]] = []
    for key in keys:
        pattern = re.compile(
            rf"^(?P<lead>{indent}{re.escape(key)}\s*:[ \t]*)(?P<value>.*?){comment}(?P<end>\r?\n?)$"
        )
        befores: list[str] = []
        for i, line in enumerate(lines):
            match = pattern.match(line)
            if match:
                befores.append(match.group("value").strip().strip("'\""))
                tail = (match.group("comment") or "") + match.group("end")
                lines[i] = f"{match.group('lead')}{ami}{tail}"
        if not befores:
            if lines and not lines[-1].endswith("\n"):
                lines[-1] += "\n"
            lines.append(f"{key}: {ami}\n")
            changed.append((key, ""))
        elif befores[-1] != ami:
            changed.append((key, befores[-1]))
    if changed:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write("".join(lines))
            os.chmod(temp, path.stat().st_mode & 0o7777)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    return changed


@dataclass
class ReleaseOutcome:
    """How a roll went: one build result per step (one step when parallel)."""

    results: list[RunResult] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every step succeeded and every stack was rolled."""
        return not self.not_started and all(r.ok for r in self.results)

    @property
    def exit_code(self) -> int:
        """The worst exit code of the steps (0 when all went well)."""
        codes = [r.exit_code for r in self.results] or [0]
        if self.not_started and max(codes) == 0:
            return 1
        return 130 if 130 in codes and 1 not in codes else max(codes)


def _only(project: Project, names: Sequence[str]) -> Project:
    """``project`` whose graph holds just ``names``: what they read is used as deployed."""
    from stackyard.graph import Graph

    graph = project.graph
    keep = set(names)
    needs = {n: frozenset(d for d in graph.needs[n] if d in keep) for n in names}
    return replace(project, graph=Graph(needs, frozenset(), graph.notices))


def roll(
    project: Project,
    release: Release,
    gateway: CloudFormationGateway,
    *,
    parallel: bool = False,
    listener: Listener | None = None,
    interrupt: Interrupt | None = None,
    approvals: ApprovalPolicy | None = None,
    **build_args: Any,
) -> ReleaseOutcome:
    """Build the pool stacks that change: one at a time (stopping at the first failure or
    interrupt) or all at once. ``project`` is the one ``plan_release`` returned."""
    from stackyard.engine.run import RunOptions, build
    from stackyard.engine.scheduler import Interrupt

    interrupt = interrupt or Interrupt()
    names = [p.name for p in release.changing]
    steps = [names] if parallel else [[n] for n in names]
    outcome = ReleaseOutcome()
    for index, step in enumerate(steps):
        options = RunOptions(stacks=tuple(step), **build_args)
        result = build(
            _only(project, step),
            options,
            gateway,
            listener,
            interrupt=interrupt,
            approvals=approvals,
        )
        outcome.results.append(result)
        if not result.ok or interrupt.count:
            outcome.not_started = [n for later in steps[index + 1 :] for n in later]
            break
    return outcome


# --- status --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolStatus:
    """One pool: the AMI the config asks for and the one deployed."""

    pool: str
    stack: str
    config_ami: str
    deployed_ami: str | None  # the launch template version the group uses
    template_version: str | None
    instances: Mapping[str, int] = field(default_factory=dict)  # AMI -> running count
    state: str = "not deployed"  # in sync | release pending | not deployed | unknown
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "pool": self.pool,
            "stack": self.stack,
            "config_ami": self.config_ami,
            "deployed_ami": self.deployed_ami,
            "template_version": self.template_version,
            "instances": dict(self.instances),
            "state": self.state,
            "source": self.source,
        }


def _aws(
    clients: ClientFactory, location: Location, service: str, action: str, **kwargs: Any
) -> Any:
    """One EC2 or Auto Scaling read, its errors mapped to ``AWSError`` once, here."""
    import botocore.exceptions

    from stackyard.aws.errors import map_client_error

    method = getattr(
        clients.client(service, location), re.sub(r"(?<!^)([A-Z])", r"_\1", action).lower()
    )
    try:
        return method(**kwargs)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise map_client_error(exc, action) from exc


def _deployed_image(
    clients: ClientFactory, location: Location, outputs: Mapping[str, str], pool: Pool
) -> tuple[str | None, str | None, dict[str, int]]:
    """(AMI, version) of the launch template version the group launches, and the AMIs its
    instances run (by count)."""
    group = outputs.get(f"{pool.logical}AutoScalingGroupName")
    template_id = outputs.get(f"{pool.logical}LaunchTemplateId")
    version = "$Latest"
    instance_ids: list[str] = []
    if group:
        found = _aws(
            clients,
            location,
            "autoscaling",
            "DescribeAutoScalingGroups",
            AutoScalingGroupNames=[group],
        )
        for g in found.get("AutoScalingGroups", []):
            spec = g.get("LaunchTemplate") or {}
            template_id = spec.get("LaunchTemplateId") or template_id
            version = str(spec.get("Version") or version)
            instance_ids = [i["InstanceId"] for i in g.get("Instances", [])]
    if not template_id:
        return outputs.get(f"{pool.logical}ImageId"), None, {}
    answer = _aws(
        clients,
        location,
        "ec2",
        "DescribeLaunchTemplateVersions",
        LaunchTemplateId=template_id,
        Versions=[version],
    )
    versions = answer.get("LaunchTemplateVersions", [])
    if not versions:
        return None, None, {}
    image = versions[0].get("LaunchTemplateData", {}).get("ImageId")
    running: dict[str, int] = {}
    if instance_ids:
        found = _aws(clients, location, "ec2", "DescribeInstances", InstanceIds=instance_ids)
        for reservation in found.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                ami = str(instance.get("ImageId"))
                running[ami] = running.get(ami, 0) + 1
    return image, str(versions[0]["VersionNumber"]), running


def fleet_status(
    project: Project, gateway: CloudFormationGateway, names: Iterable[str] = ()
) -> list[PoolStatus]:
    """Per selected pool: the AMI in the config vs the one its group launches now."""
    from stackyard.lookups.resolve import resolve_value

    selected = select_pools(find_pools(project), names)
    reads = _Reads(project, gateway)
    resolve = project.resolve_context(aws=reads.access(p.stack for p in selected))
    out: list[PoolStatus] = []
    for pool in selected:
        location = reads.location(pool.stack)
        wanted = pool.image
        with contextlib.suppress(StackyardError):  # unresolvable: shown as written
            wanted = resolve_value(pool.image, project.registry, resolve)
        config_ami = str(wanted)
        deployed = gateway.cached(project.fqn(pool.stack), location)
        base = PoolStatus(
            pool.name, pool.stack, config_ami, None, None, source=pool.source.describe()
        )
        if deployed is None:
            out.append(base)
            continue
        image, version, running = _deployed_image(gateway.clients, location, deployed.outputs, pool)
        if image is None:
            state = "unknown"
        else:
            state = "in sync" if image == config_ami else "release pending"
        out.append(
            replace(
                base, deployed_ami=image, template_version=version, instances=running, state=state
            )
        )
    return out
