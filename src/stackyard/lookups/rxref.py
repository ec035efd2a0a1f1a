"""``${rxref NAME::OUTPUT}``: an output of a stack outside this config, namespace applied."""

from __future__ import annotations

from stackyard.lookups.base import Lookup
from stackyard.lookups.context import ResolveContext
from stackyard.lookups.output import parse_stack_output, pick_output


class RxrefLookup(Lookup):
    """Like ``xref``, but the namespace is prefixed to the stack name; adds no dependency."""

    name = "rxref"
    needs_aws = True
    description = "Output of a stack by name relative to the namespace: NAME::OUTPUT"

    def validate(self, arg: str) -> None:
        parse_stack_output(self, arg)

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        assert ctx.aws is not None
        stack, output = parse_stack_output(self, arg)
        fqn = ctx.context.get_fqn(stack)
        return pick_output(self, arg, ctx.aws.stack_outputs(fqn, ctx.region), fqn, output)
