"""``${output STACK::OUTPUT}``: an output of a stack in this config (namespace applied)."""

from __future__ import annotations

import difflib

from stackyard.lookups.base import Lookup
from stackyard.lookups.context import ResolveContext
from stackyard.unknown import Unknown

FORM = "STACK::OUTPUT"


def parse_stack_output(lookup: Lookup, arg: str) -> tuple[str, str]:
    """Split ``STACK::OUTPUT``; both parts must be present and ``::`` appear once."""
    parts = arg.strip().split("::")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise lookup.error(arg, f"expected {FORM}", hint=f"write ${{{lookup.name} {FORM}}}")
    return parts[0].strip(), parts[1].strip()


def pick_output(lookup: Lookup, arg: str, outputs: dict[str, str], fqn: str, name: str) -> str:
    """``outputs[name]``, or an error that suggests the closest output names."""
    try:
        return outputs[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(outputs), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else None
        if hint is None and outputs:
            hint = f"stack {fqn} has outputs: {', '.join(sorted(outputs))}"
        raise lookup.error(arg, f"stack {fqn} has no output {name!r}", hint=hint) from None


class OutputLookup(Lookup):
    """An output of another stack in this config; orders that stack first."""

    name = "output"
    needs_aws = True
    description = "Output of a stack in this config: STACK::OUTPUT (adds a dependency)"

    def validate(self, arg: str) -> None:
        parse_stack_output(self, arg)

    def dependencies(self, arg: str) -> set[str]:
        # ``arg`` may be only the text before a nested lookup: take what precedes ``::``.
        stack = arg.split("::", 1)[0].strip() if "::" in arg else ""
        return {stack} if stack else set()

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        stack, output = parse_stack_output(self, arg)
        if ctx.output_pending(stack, output) or ctx.aws is None:
            return Unknown(f"{self.name} {arg.strip()}")
        fqn = ctx.stack_fqn(stack)
        outputs = ctx.aws.stack_outputs(fqn, ctx.stack_regions.get(stack, ctx.region))
        return pick_output(self, arg, outputs, fqn, output)
