"""examples/ops renders every stack for stage and prod through Project, lint-clean and wired."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from stackyard.lint import lint_template
from stackyard.project import Project

OPS = Path(__file__).resolve().parents[3] / "examples" / "ops"
STACKS = {
    "network",
    "secrets-key",
    "task-roles",
    "emr-roles",
    "gateway",
    "waf",
    "cluster",
    "pool-web",
    "pool-worker",
    "database",
    "public-zone",
    "private-zone",
}


@functools.cache
def render_env(env: str) -> tuple[Project, dict[str, Any]]:
    """Every stack of examples/ops rendered for ``env``; no AWS, so output lookups are Unknown."""
    project = Project.load(str(OPS / "stackyard.yaml"), environment_file=str(OPS / f"{env}.env"))
    resolve = project.resolve_context()
    return project, {name: project.render(name, resolve) for name in project.graph.stacks}


@pytest.fixture(params=["stage", "prod"])
def rendered(request: pytest.FixtureRequest) -> tuple[Project, dict[str, Any]]:
    return render_env(request.param)


def test_every_stack_renders(rendered) -> None:
    _, desired = rendered
    assert set(desired) == STACKS
    assert all(json.loads(stack.template_body)["Resources"] for stack in desired.values())


def test_every_stack_passes_cfn_lint() -> None:
    # Linted for stage; prod differs by branches the blueprint tests lint already
    # (HTTPS listener, IPv6 IP set, per-zone NAT), and cfn-lint is the slow part.
    _, desired = render_env("stage")
    for name, stack in desired.items():
        errors = [str(f) for f in lint_template(stack.template_body, "us-east-1") if f.is_error]
        assert errors == [], f"{name}: {errors}"


def test_database_and_zones_are_protected(rendered) -> None:
    _, desired = rendered
    assert {n for n, s in desired.items() if s.protected is True} == {
        "database",
        "public-zone",
        "private-zone",
    }


def test_output_lookups_order_the_graph(rendered) -> None:
    project, _ = rendered
    order = project.graph.stacks
    before = [
        ("network", "gateway"),
        ("gateway", "waf"),
        ("gateway", "cluster"),
        ("cluster", "pool-web"),
        ("cluster", "pool-worker"),
        ("cluster", "database"),
        ("secrets-key", "task-roles"),
        ("secrets-key", "emr-roles"),
        ("gateway", "public-zone"),
        ("database", "private-zone"),
    ]
    for first, then in before:
        assert order.index(first) < order.index(then), (first, then)


def test_each_pool_stack_registers_its_profile(rendered) -> None:
    _, desired = rendered
    for pool in ("web", "worker"):
        body = desired[f"pool-{pool}"].template_body
        assert f'ECS_INSTANCE_ATTRIBUTES={{\\"profile\\":\\"{pool}\\"}}' in body
        assert desired[f"pool-{pool}"].parameters["ClusterName"].startswith("(known after apply")


def test_secret_paths_and_password_stay_in_the_namespace(rendered) -> None:
    project, desired = rendered
    namespace = project.context.namespace
    db = json.loads(desired["database"].template_body)["Resources"]["Instance"]["Properties"]
    assert (
        db["MasterUserPassword"]
        == f"{{{{resolve:ssm-secure:/{namespace}/database/master-password}}}}"
    )
    roles = desired["task-roles"].template_body
    assert f"parameter/{namespace}/web/*" in roles and f"parameter/{namespace}/shared/*" in roles


@pytest.mark.parametrize(
    ("override", "stack", "message"),
    [
        ({"ami_id": "ami-123"}, "pool-web", "is not an AMI ID"),
        ({"blocked_cidrs": "[10.0.0.300/24]"}, "waf", "is not a valid CIDR"),
        ({"vpc_cidr": "10.20.0.0/33"}, "network", "is not a valid IPv4 CIDR"),
    ],
)
def test_bad_input_is_a_clear_message_naming_stack_and_key(override, stack, message) -> None:
    from stackyard.errors import VariableError

    project = Project.load(
        str(OPS / "stackyard.yaml"), environment_file=str(OPS / "stage.env"), overrides=override
    )
    with pytest.raises(VariableError) as err:
        project.render(stack, project.resolve_context())
    assert err.value.stack == stack
    assert message in str(err.value)
