"""``${xref FQN::OUTPUT}``: an output of any stack, by its full name on AWS."""

from __future__ import annotations

from stackyard.lookups.base import Lookup
from stackyard.lookups.context import ResolveContext
from stackyard.lookups.output import parse_stack_output, pick_output


class XrefLookup(Lookup):
    """An output of a stack outside this config, named exactly as on AWS."""

    name = "xref"
    needs_aws = True
    description = "Output of any stack by fully qualified name: FQN::OUTPUT"

    def validate(self, arg: str) -> None:
        parse_stack_output(self, arg)

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        assert ctx.aws is not None
        fqn, output = parse_stack_output(self, arg)
        return pick_output(self, arg, ctx.aws.stack_outputs(fqn, ctx.region), fqn, output)
