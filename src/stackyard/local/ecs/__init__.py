"""ECS beyond moto: services that run their tasks, placed by ECS's rules, rolled out by
deployments with circuit breakers and alarms, registered in their load balancers' target
groups, and instances that join clusters from their user data.

- ``query``: the cluster query language of ``memberOf`` constraints;
- ``placement``: choosing an instance for a task (resources, constraints, strategies);
- ``deployments``: deployment records, the rolling-update arithmetic, and failing (circuit
  breaker, alarms) and rolling back;
- ``tasks``: launching and stopping tasks in moto's backend;
- ``task_lifecycle``: a service task from PENDING to its health check, and its stop;
- ``images``: which images are unhealthy (a name marker, or the health route);
- ``events``: service events;
- ``service_runner``: one step of a service's life (the rolling update);
- ``standalone``: RunTask by the placement rules;
- ``instances``: EC2 instances joining and leaving clusters from their user data;
- ``runtime``: the background clock that steps every service under the endpoints' locks;
- ``hooks``: the wrappers around moto's ECS and EC2 methods.
"""

from __future__ import annotations

__all__ = ["install"]


def install() -> None:
    """Install the ECS and ELBv2 wrappers around moto (once per process)."""
    from stackyard.local.ecs import hooks
    from stackyard.local.elbv2 import hooks as elbv2_hooks

    hooks.install()
    elbv2_hooks.install()
