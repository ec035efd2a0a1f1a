"""stacker's ``ecs.create_clusters`` hook: ECS clusters by name (CreateCluster is idempotent)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["create_clusters"]


def create_clusters(
    *, context: Any = None, provider: Any, clusters: str | Sequence[str], **_: Any
) -> dict[str, dict[str, Any]]:
    """Create each cluster (a name or a list of names); ``{"clusters": {name: cluster}}``."""
    names = [clusters] if isinstance(clusters, str) else list(clusters)
    if not names:
        raise ValueError("create_clusters needs at least one cluster name")
    ecs = provider.client("ecs")
    made = {name: ecs.create_cluster(clusterName=name)["cluster"] for name in names}
    return {"clusters": made}
