"""A loaded project: config, lookups, graph, and rendering of each stack's desired state.

This is the seam between "what should exist" and everything that acts on it:
the CLI's ``graph``/``render``/``validate``, the planner and the engine all
start from a ``Project``.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackyard.config.loader import LoadedConfig, load_config
from stackyard.config.model import Stack
from stackyard.config.stack_names import check_stack_names
from stackyard.context import Context
from stackyard.desired import DesiredStack, parameter_text
from stackyard.errors import (
    BlueprintError,
    ConfigError,
    LookupError_,
    StackyardError,
    UsageError,
)
from stackyard.graph import Graph, build_graph
from stackyard.input_limits import InputLimitError, read_utf8
from stackyard.lookups.context import AWSAccess, ResolveContext
from stackyard.lookups.registry import LookupRegistry
from stackyard.lookups.resolve import dependencies_of, resolve_value, validate_value
from stackyard.lookups.secret import Secret
from stackyard.preflight import preflight
from stackyard.template_secrets import add_parameter_digests, keep_secrets_out, secrets_in

if TYPE_CHECKING:
    from stackyard.aws.session import Location
    from stackyard.blueprints.base import Blueprint

# stacker passes these to every stack; IAM resources need them and transforms need AUTO_EXPAND.
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")


@dataclass
class Project:
    """A validated config with its lookups registry, graph and run context."""

    loaded: LoadedConfig
    registry: LookupRegistry
    graph: Graph
    context: Context
    region: str | None = None
    profile: str | None = None
    #: Pre-flight warnings from the stacks rendered so far ("stack 'x': file:line, ...").
    warnings: list[str] = field(default_factory=list)
    #: The blueprint each rendered stack came from, to say where a template path lives.
    blueprints: dict[str, Blueprint] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        config_path: str,
        *,
        environment_file: str | None = None,
        overrides: dict[str, str] | None = None,
        region: str | None = None,
        profile: str | None = None,
    ) -> Project:
        """Load and check a config: keys, lookups in variables and hook args, and the graph."""
        loaded = load_config(config_path, environment_file=environment_file, overrides=overrides)
        config = loaded.config
        _add_sys_path(loaded)
        registry = LookupRegistry.with_builtins()
        for name, import_path in sorted(config.lookups.items()):
            try:
                registry.register_path(name, import_path)
            except StackyardError as exc:
                raise _located(exc, loaded, ("lookups", name)) from None
        outputs: dict[str, set[str]] = {}
        for index, stack in enumerate(config.stacks):
            for key, value in stack.variables.items():
                path = ("stacks", index, "variables", key)
                try:
                    validate_value(value, registry)
                    outputs.setdefault(stack.name, set()).update(dependencies_of(value, registry))
                except StackyardError as exc:
                    raise _located(exc, loaded, path, stack=stack.name) from None
        for section in ("pre_build", "post_build", "pre_destroy", "post_destroy"):
            for index, hook in enumerate(getattr(config, section)):
                try:
                    validate_value(hook.args, registry)
                except StackyardError as exc:
                    raise _located(exc, loaded, (section, index, "args")) from None
        graph = build_graph(loaded, outputs)
        context = Context(
            namespace=config.namespace,
            namespace_delimiter=config.namespace_delimiter,
            environment=dict(loaded.environment),
            mappings=dict(config.mappings),
            tags=dict(config.tags or {}),
            bucket_name=config.bucket,
            bucket_region=config.stacker_bucket_region,
            config_path=loaded.source.file,
        )
        project = cls(loaded, registry, graph, context, region, profile)
        check_stack_names(loaded, project.fqn)
        _check_regions(loaded, region)
        return project

    @property
    def notices(self) -> list[str]:
        """Things the user should know that are not errors."""
        return [*self.loaded.notices, *self.graph.notices]

    def stack(self, name: str) -> Stack:
        """The config of the stack called ``name``."""
        return self.loaded.config.stack(name)

    @cached_property
    def _stack_fqns(self) -> dict[str, str]:
        # Made once: every stack's lookups read it, and a project of 1,000 stacks renders
        # 1,000 times.
        return {s.name: self.fqn(s.name) for s in self.loaded.config.stacks}

    @cached_property
    def _stack_regions(self) -> dict[str, str]:
        return {s.name: s.region for s in self.loaded.config.stacks if s.region}

    def fqn(self, name: str) -> str:
        """The CloudFormation name of a config stack."""
        stack = self.stack(name)
        return self.context.get_fqn(stack.stack_name or stack.name)

    def selected(self, names: Iterable[str]) -> Graph:
        """The graph of the named stacks (all when none) and what they need."""
        names = list(names)
        return self.graph.select(names) if names else self.graph

    def template_file(self, name: str) -> Path | None:
        """The raw template file of a ``template_path`` stack, found as when rendering."""
        from stackyard.blueprints.loader import resolve_template_path

        stack = self.stack(name)
        if not stack.template_path:
            return None
        return resolve_template_path(
            stack.template_path,
            base_dir=self.loaded.base_dir,
            sys_path=sys_path_entries(self.loaded),
        )

    def location(self, name: str) -> Location:
        """Where a stack lives: its own region and profile, else the run's. The one place
        that decides it."""
        from stackyard.aws.session import Location

        stack = self.stack(name)
        return Location(stack.region or self.region, stack.profile or self.profile)

    def resolve_context(
        self,
        aws: AWSAccess | None = None,
        pending: Iterable[str] = (),
        changing_outputs: Mapping[str, frozenset[str]] | None = None,
    ) -> ResolveContext:
        """What lookups see; without ``aws``, AWS-backed lookups resolve to Unknown."""
        return ResolveContext(
            context=self.context,
            config_dir=self.loaded.base_dir,
            aws=aws,
            region=self.region,
            stack_fqns=self._stack_fqns,
            stack_regions=self._stack_regions,
            pending_stacks=frozenset(pending),
            changing_outputs=dict(changing_outputs or {}),
        )

    def render(self, name: str, resolve: ResolveContext) -> DesiredStack:
        """Resolve a stack's variables and render its blueprint into its desired state."""
        from stackyard.blueprints.loader import load_blueprint

        stack = self.stack(name)
        file, line = self.loaded.where(name)
        variables: dict[str, Any] = {}
        for key, value in stack.variables.items():
            try:
                variables[key] = resolve_value(value, self.registry, resolve)
            except StackyardError as exc:
                raise _located(
                    exc, self.loaded, self._path(name, "variables", key), stack=name
                ) from None
        source_key = "class_path" if stack.class_path else "template_path"
        try:
            blueprint = load_blueprint(
                stack_name=name,
                class_path=stack.class_path,
                template_path=stack.template_path,
                context=self.context,
                description=stack.description,
                mappings=dict(self.loaded.config.mappings),
                sys_path=sys_path_entries(self.loaded) or None,
                base_dir=self.loaded.base_dir,
            )
        except StackyardError as exc:
            # A blueprint that does not import, or a template that is not there, is
            # a mistake in the config: point at the config line that names it.
            if not (exc.file and exc.line):
                exc.file, exc.line = self.loaded.where(name, source_key)
                exc.key = source_key
            exc.stack = exc.stack or name
            raise
        jinja = getattr(blueprint, "is_jinja", False)
        if not jinja:
            self._refuse_unknown_variables(name, blueprint)
        try:
            blueprint.resolve_variables(variables)
            _, template_body = blueprint.render_template()
            if jinja:
                self._refuse_unknown_variables(name, blueprint)
            # CloudFormation takes list parameters as comma-joined text.
            parameters = {
                key: _parameter_text(value)
                for key, value in blueprint.get_parameter_values().items()
            }
        except StackyardError as exc:
            # Errors raised inside a blueprint keep the blueprint's own file and line.
            exc.stack = exc.stack or name
            if exc.file is None:
                exc.file, exc.line = file, line
            raise
        template_body = keep_secrets_out(
            template_body,
            secrets_in(variables),
            [key for key, value in parameters.items() if secrets_in(value)],
            stack=name,
        )
        self.blueprints[name] = blueprint
        parsed: dict[str, Any] = json.loads(template_body)
        self.warnings.extend(preflight(name, blueprint, parsed, stack.region or self.region))
        # The template's own Parameters section is the truth for Python and raw templates alike.
        definitions: dict[str, Any] = parsed.get("Parameters", {})
        no_echo = frozenset(
            p for p, d in definitions.items() if str(d.get("NoEcho", "")).lower() == "true"
        )
        # A raw template's parameter with no value and no Default keeps the deployed
        # stack's value (stacker sends UsePreviousValue); only creating the stack needs one,
        # which the planner checks against what is deployed.
        kept = frozenset(
            p
            for p, d in definitions.items()
            if p not in parameters and isinstance(d, Mapping) and "Default" not in d
        )
        self._refuse_bad_parameters(
            name, {p: d for p, d in definitions.items() if p not in kept}, parameters, no_echo
        )
        if kept and resolve.aws is None:
            listed = ", ".join(sorted(kept))
            self.warnings.append(
                f"stack {name!r}: {listed} {'have' if len(kept) > 1 else 'has'} no value and "
                "no Default; an existing stack keeps its deployed value, a new one needs a value "
                "under `variables:`"
            )
        template_body = add_parameter_digests(
            template_body, parameters, no_echo, stack=self.fqn(name)
        )
        location = self.location(name)
        return DesiredStack(
            name=name,
            fqn=self.fqn(name),
            region=location.region,
            profile=location.profile,
            template_body=template_body,
            parameters=parameters,
            declared_parameters=frozenset(definitions),
            no_echo=no_echo,
            tags={**self.context.tags, **stack.tags},
            description=stack.description,
            stack_policy=self._stack_policy(stack),
            termination_protection=bool(stack.termination_protection),
            notification_arns=tuple(stack.notification_arns),
            service_role=self.loaded.config.service_role,
            locked=stack.locked,
            protected=stack.protected
            if isinstance(stack.protected, bool)
            else tuple(stack.protected),
            in_progress_behavior=stack.in_progress_behavior,
            requires_change_set=bool(getattr(blueprint, "requires_change_set", False)),
            kept_parameters=kept,
            capabilities=CAPABILITIES,
        )

    def _refuse_unknown_variables(self, name: str, blueprint: Blueprint) -> None:
        """A variable the blueprint does not take is a typo until shown otherwise."""
        from stackyard.blueprints.declared import unknown_variables

        stack = self.stack(name)
        unknown = unknown_variables(blueprint, stack.variables)
        if not unknown:
            return
        first = unknown[0]
        owner = (
            f"template {stack.template_path}"
            if stack.template_path
            else f"blueprint {stack.class_path}"
        )
        more = f" (and {len(unknown) - 1} more: {', '.join(u.name for u in unknown[1:])})"
        raise self.loaded.source.error(
            f"unknown variable {first.name!r}: {owner} does not take it"
            + (more if len(unknown) > 1 else ""),
            self._path(name, "variables", first.name),
            stack=name,
            hint=first.hint,
        )

    def _refuse_bad_parameters(
        self,
        name: str,
        definitions: Mapping[str, Any],
        parameters: Mapping[str, Any],
        no_echo: frozenset[str],
    ) -> None:
        """A value CloudFormation would refuse is a config error, found before AWS."""
        from stackyard.parameter_check import check_parameters

        problems = check_parameters(definitions, parameters, hidden=no_echo)
        if not problems:
            return
        first = problems[0]
        given = first.parameter in self.stack(name).variables
        path = self._path(name, "variables", first.parameter) if given else self._path(name)
        message = first.message
        for extra in problems[1:]:
            message += f"; {extra.message}"
        raise self.loaded.source.error(message, path, stack=name, hint=first.hint)

    def _path(self, name: str, *rest: str) -> tuple[str | int, ...]:
        for index, stack in enumerate(self.loaded.config.stacks):
            if stack.name == name:
                return ("stacks", index, *rest)
        return ()

    def _stack_policy(self, stack: Stack) -> str | None:
        if not stack.stack_policy_path:
            return None
        path = project_file(self.loaded, stack.stack_policy_path)
        file, line = self.loaded.where(stack.name, "stack_policy_path")
        try:
            text = read_utf8(path)
            json.loads(text)
        except InputLimitError as exc:
            raise ConfigError(
                f"stack policy: {exc.message}",
                file=str(path),
                line=exc.line,
                stack=stack.name,
                hint=exc.hint,
            ) from None
        except IsADirectoryError:
            raise ConfigError(
                "stack policy path is a directory", file=file, line=line, stack=stack.name
            ) from None
        except FileNotFoundError:
            raise ConfigError(
                f"stack policy file not found: {stack.stack_policy_path}",
                file=file,
                line=line,
                stack=stack.name,
                hint="the path is taken from the working directory, else from the config "
                "file's folder",
            ) from None
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"stack policy is not valid JSON: {exc.msg} at line {exc.lineno}",
                file=str(path),
                line=exc.lineno,
                stack=stack.name,
            ) from None
        except RecursionError:
            raise ConfigError(
                "stack policy nests too deeply", file=str(path), stack=stack.name
            ) from None
        return text


def _parameter_text(value: Any) -> Any:
    """List parameters are comma-joined text; a list holding a secret stays a secret."""
    if not isinstance(value, list):
        return value
    joined = parameter_text(value)
    return Secret(joined) if secrets_in(value) else joined


def _check_regions(loaded: LoadedConfig, region: str | None) -> None:
    """``-r`` and each stack's ``region`` must name a region (no endpoint for ``mars-1``)."""
    from stackyard.regions import region_problem

    if region and (problem := region_problem(region)):
        raise UsageError(f"-r/--region: {problem[0]}", hint=problem[1])
    for index, stack in enumerate(loaded.config.stacks):
        if stack.region and (problem := region_problem(stack.region)):
            raise loaded.source.error(
                problem[0], ("stacks", index, "region"), stack=stack.name, hint=problem[1]
            )


def sys_path_entries(loaded: LoadedConfig) -> list[str]:
    """The folders the config's ``sys_path`` names, absolute, in the order they are searched.

    stacker appends ``sys_path`` to ``sys.path`` as given, so a relative one is relative to
    the working directory; that comes first. The same path taken from the config file's
    folder follows when it is another folder that exists, so a project run from elsewhere
    still imports its blueprints (a config stacker runs finds them in the first).
    """
    given = loaded.config.sys_path
    if not given:
        return []
    entries = [os.path.abspath(given)]
    beside = os.path.abspath(loaded.base_dir / given)
    if beside not in entries and os.path.isdir(beside):
        entries.append(beside)
    return entries


def _add_sys_path(loaded: LoadedConfig) -> None:
    """Append ``sys_path`` to ``sys.path`` for the run, as stacker did.

    Blueprints may import their own helpers lazily and custom lookups and hooks
    are imported by path, so the entries stay for the whole process.
    """
    added = False
    for entry in sys_path_entries(loaded):
        if entry not in sys.path:
            sys.path.append(entry)
            added = True
    if added:
        importlib.invalidate_caches()


def project_file(loaded: LoadedConfig, path: str) -> Path:
    """A file the config names (``stack_policy_path``): from the working directory as
    stacker opened it, else from the config file's folder."""
    found = Path(path)
    if found.is_file():
        return found.absolute()
    return loaded.base_dir / path


def _inner_path(key: str | None) -> tuple[str | int, ...]:
    """``Tags.Name`` or ``Subnets[0]`` → ``("Tags", "Name")``, ``("Subnets", 0)``."""
    if not key:
        return ()
    parts: list[str | int] = []
    for piece in re.findall(r"[^.\[\]]+|\[\d+\]", key):
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    return tuple(parts)


def _located(
    exc: StackyardError,
    loaded: LoadedConfig,
    path: tuple[str | int, ...],
    stack: str | None = None,
) -> StackyardError:
    """Add the config file, line and key path to an error raised deep inside a value."""
    from stackyard.config.source import format_path

    full = (*path, *_inner_path(exc.key))
    exc.file = exc.file or loaded.source.file
    exc.line = exc.line or loaded.source.line(full)
    exc.key = format_path(full)
    exc.stack = exc.stack or stack
    if isinstance(exc, LookupError_ | BlueprintError | ConfigError):
        exc.exit_code = 2
    return exc
