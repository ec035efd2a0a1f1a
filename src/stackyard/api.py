"""stackyard's public Python API: the CLI is a thin layer over these names.

    from stackyard.api import Project
    project = Project.load("stackyard.yaml", environment_file="stage.env")
    for name in project.graph.stacks:
        desired = project.render(name, project.resolve_context())

Everything not listed in ``__all__`` may change without notice.
"""

from stackyard.config import Config, LoadedConfig, Stack, load_config
from stackyard.context import Context
from stackyard.desired import DesiredStack
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
from stackyard.project import Project
from stackyard.unknown import Unknown, is_unknown

__all__ = [
    "AWSError",
    "BlueprintError",
    "Config",
    "ConfigError",
    "Context",
    "DesiredStack",
    "EnvironmentKeyError",
    "Graph",
    "GraphError",
    "LoadedConfig",
    "LookupError_",
    "Project",
    "Stack",
    "StackFailed",
    "StackyardError",
    "Unknown",
    "UsageError",
    "VariableError",
    "build_graph",
    "is_unknown",
    "load_config",
]
