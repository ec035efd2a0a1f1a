"""stackyard's public Python API: the CLI is a thin layer over these names.

    from stackyard.api import PlanOptions, Project, RunOptions, build, connect, plan
    project = Project.load("stackyard.yaml", environment_file="stage.env")
    gateway = connect()
    planned = plan(project, gateway, PlanOptions())     # read calls only
    result = build(project, gateway, RunOptions())       # plan -> approve -> execute

Apps on ECS: ``AppsService(AppsDatabase.open(), load_environments("apps.yaml"), gateway,
actor)`` holds every ``stackyard apps`` operation (create, deploy, scale, rollback, ps...);
a canary rollout is ``deploy(..., canary=CanaryPolicy(steps=(5, 25, 50), bake=300))``, then
``promote``; a reviewed deploy is ``plan_deploy`` (a ``DeployPlan``, saved with its
``to_json``), then ``apply_plan``.

``apply(saved_plan, gateway)`` executes a saved plan exactly; ``destroy`` plans the
deletion and deletes only when every approval is settled.

Everything not listed in ``__all__`` may change without notice.
"""

from stackyard.apps.db.database import Database as AppsDatabase
from stackyard.apps.deploy_plan import DeployHeld, DeployPlan
from stackyard.apps.environments import load_environments
from stackyard.apps.manifest import load_manifest
from stackyard.apps.rollout import CanaryPolicy
from stackyard.apps.service import AppsService
from stackyard.config import Config, LoadedConfig, Stack, load_config
from stackyard.context import Context
from stackyard.desired import DesiredStack
from stackyard.engine.approval import ApprovalPolicy
from stackyard.engine.run import RunOptions, RunResult
from stackyard.errors import (
    AWSError,
    BlueprintError,
    ConfigError,
    EnvironmentKeyError,
    GraphError,
    LookupError_,
    StackFailed,
    StackyardError,
    UsageError,
    VariableError,
)
from stackyard.graph import Graph, build_graph
from stackyard.plan.model import Plan, PlanInputs, StackAction, StackPlan
from stackyard.plan.planner import Planned, PlanOptions
from stackyard.project import Project
from stackyard.unknown import Unknown, is_unknown
from stackyard.workflow import PlanMoved, apply, build, connect, destroy, plan

__all__ = [
    "AWSError",
    "ApprovalPolicy",
    "AppsDatabase",
    "AppsService",
    "BlueprintError",
    "CanaryPolicy",
    "Config",
    "ConfigError",
    "Context",
    "DeployHeld",
    "DeployPlan",
    "DesiredStack",
    "EnvironmentKeyError",
    "Graph",
    "GraphError",
    "LoadedConfig",
    "LookupError_",
    "Plan",
    "PlanInputs",
    "PlanMoved",
    "PlanOptions",
    "Planned",
    "Project",
    "RunOptions",
    "RunResult",
    "Stack",
    "StackAction",
    "StackFailed",
    "StackPlan",
    "StackyardError",
    "Unknown",
    "UsageError",
    "VariableError",
    "apply",
    "build",
    "build_graph",
    "connect",
    "destroy",
    "is_unknown",
    "load_config",
    "load_environments",
    "load_manifest",
    "plan",
]
