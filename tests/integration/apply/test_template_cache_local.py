"""With the template cache, a no-op rebuild reads no template, and an out-of-band update
is still seen (it moves the stack's last-change time, so the cache misses)."""

from __future__ import annotations

import json
from pathlib import Path

from apply_helpers import Apply, phases

from stackyard.aws.cloudformation import CloudFormationGateway
from stackyard.aws.session import ClientFactory
from stackyard.aws.template_cache import TemplateCache


def test_cached_templates_then_out_of_band_change(apply: Apply, aws, tmp_path: Path) -> None:
    cache = tmp_path / "templates"

    def gateway() -> CloudFormationGateway:
        return CloudFormationGateway(
            ClientFactory(endpoint_url=apply.url, max_attempts=10), templates=TemplateCache(cache)
        )

    assert set(phases(apply.build(gateway=gateway())).values()) == {"complete"}
    quiet = gateway()
    assert set(phases(apply.build(gateway=quiet)).values()) == {"no change"}
    # Only the listing: one DescribeStacks a page (the endpoint is shared with other tests,
    # whose stacks may fill more than one page), and no GetTemplate.
    assert quiet.stats.snapshot() == {"DescribeStacks": sum(quiet.pages.values())}

    # Someone changes stack "a" behind stackyard's back.
    cfn = aws("cloudformation")
    fqn = f"{apply.namespace}-a"
    body = cfn.get_template(StackName=fqn)["TemplateBody"]
    template = body if isinstance(body, dict) else json.loads(body)
    template["Resources"]["Param"]["Properties"]["Description"] = "changed by hand"
    cfn.update_stack(
        StackName=fqn,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": p, "UsePreviousValue": True} for p in template["Parameters"]],
    )
    cfn.get_waiter("stack_update_complete").wait(
        StackName=fqn, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    result = apply.build(gateway=gateway())
    assert phases(result)["a"] == "complete"  # put back as the config says
