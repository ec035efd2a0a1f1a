"""``${ssmstore [REGION@]NAME}`` and ``${ssm [REGION@]NAME}``: an SSM parameter's value.

SecureString values come back decrypted and marked :class:`Secret`. As in
stacker, ``ssmstore`` without a region reads ``us-east-1``; ``ssm`` reads the
run's region. Both accept ``file://path`` holding the argument.
"""

from __future__ import annotations

from stackyard.lookups.base import Lookup, is_file_ref, read_value_from_path, split_region
from stackyard.lookups.context import ResolveContext
from stackyard.lookups.secret import Secret

FORM = "[REGION@]PARAMETER_NAME"


class SsmstoreLookup(Lookup):
    """An SSM Parameter Store value; SecureStrings are decrypted and marked secret."""

    name = "ssmstore"
    needs_aws = True
    description = "SSM parameter value: [REGION@]NAME (default region us-east-1, as stacker)"
    default_region: str | None = "us-east-1"

    def validate(self, arg: str) -> None:
        if is_file_ref(arg):
            return
        self._parse(arg)

    def _parse(self, arg: str) -> tuple[str | None, str]:
        region, name = split_region(arg.strip())
        if not name.strip() or any(ch.isspace() for ch in name.strip()):
            raise self.error(arg, f"expected {FORM}", hint=f"write ${{{self.name} {FORM}}}")
        return region, name.strip()

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        assert ctx.aws is not None
        region, name = self._parse(read_value_from_path(self, arg, ctx.config_dir))
        region = region or self.default_region or ctx.region
        value, kind = ctx.aws.ssm_parameter(name, region)
        if kind != "SecureString" or isinstance(value, Secret):
            return value
        return Secret(value)


class SsmLookup(SsmstoreLookup):
    """``ssmstore`` under its shorter name, reading the run's region by default."""

    name = "ssm"
    description = "SSM parameter value: [REGION@]NAME (default: the run's region)"
    default_region = None
