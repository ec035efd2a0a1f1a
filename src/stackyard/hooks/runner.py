"""Run pre/post build and destroy hooks the way stacker does.

A hook is ``path`` (``package.module.function``), called as
``function(context=context, provider=provider, **args)``. ``args`` are resolved
through lookups first. A hook that raises or returns something falsy fails;
when it is ``required`` (the default) the command stops, else a warning is
shown and the run goes on. A hook that returns a mapping and has a
``data_key`` stores the mapping in ``context.hook_data`` for the ``hook_data``
lookup. ``enabled: false`` skips it.

stacker's own hook paths are mapped to stackyard's where stackyard has one,
so configs written for stacker keep working.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stackyard.config.model import Hook
from stackyard.context import Context
from stackyard.errors import StackyardError

__all__ = ["HOOK_ALIASES", "HookFailed", "HookProvider", "resolve_hook_path", "run_hooks"]

# stacker's built-in hooks, by the paths stacker configs name them with.
_STACKER_HOOKS = {
    "command.run_command",
    "route53.create_domain",
    "iam.create_ecs_service_role",
    "iam.ensure_server_cert_exists",
    "ecs.create_clusters",
    "keypair.ensure_keypair_exists",
    "aws_lambda.upload_lambda_functions",
}
HOOK_ALIASES = {
    "command": "stackyard.hooks.command.run_command",
    **{f"stacker.hooks.{hook}": f"stackyard.hooks.{hook}" for hook in sorted(_STACKER_HOOKS)},
}


@dataclass(eq=False)
class HookFailed(StackyardError):
    """A required hook raised or returned a falsy value."""


@dataclass(frozen=True)
class HookProvider:
    """What a hook gets as ``provider``: the region (and a client factory) of the run."""

    region: str | None
    clients: Any = None

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` in the run's region (and endpoint)."""
        from stackyard.aws.session import ClientFactory, Location

        factory = self.clients or ClientFactory()
        assert isinstance(factory, ClientFactory)
        return factory.client(service, Location(self.region))


def resolve_hook_path(path: str) -> Callable[..., Any]:
    """The function a hook's ``path`` names (stacker paths mapped to ours)."""
    target = HOOK_ALIASES.get(path, path)
    module_name, _, attr = target.rpartition(".")
    if not module_name:
        raise HookFailed(f"hook path {path!r} is not package.module.function", key="path")
    from stackyard.stacker_imports import install

    install()  # hooks written for stacker import `stacker.*` unchanged
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = None
        if path.startswith("stacker."):
            hint = "stackyard has no equivalent of this stacker hook yet; write it as a hook"
        raise HookFailed(f"cannot import hook {path!r}: {exc}", hint=hint) from exc
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise HookFailed(f"hook {path!r}: {module_name} has no function {attr!r}")
    return handler  # type: ignore[no-any-return]


def run_hooks(
    stage: str,
    hooks: Sequence[Hook],
    context: Context,
    provider: HookProvider,
    *,
    resolve_args: Callable[[Mapping[str, Any]], Mapping[str, Any]] = dict,
    note: Callable[[str], None] = lambda _: None,
) -> None:
    """Run the hooks of ``stage`` (``pre_build``...) in order; raise ``HookFailed`` if a
    required one fails."""
    for index, hook in enumerate(hooks):
        if not hook.enabled:
            note(f"{stage} hook {hook.path}: disabled, skipped")
            continue
        where = f"{stage}[{index}] {hook.path}"
        try:
            handler = resolve_hook_path(hook.path)
            args = dict(resolve_args(hook.args))
            result = handler(context=context, provider=provider, **args)
        except Exception as exc:
            message = (
                exc.message if isinstance(exc, StackyardError) else f"{type(exc).__name__}: {exc}"
            )
            if hook.required:
                raise HookFailed(f"hook {where} failed: {message}", key=stage) from exc
            note(f"warning: optional hook {where} failed: {message}")
            continue
        if not result:
            if hook.required:
                raise HookFailed(f"hook {where} failed (it returned {result!r})", key=stage)
            note(f"warning: optional hook {where} returned {result!r}")
            continue
        note(f"{stage} hook {hook.path}: done")
        if hook.data_key and isinstance(result, Mapping):
            context.set_hook_data(hook.data_key, dict(result))
