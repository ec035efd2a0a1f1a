"""Where the local ECS meets moto: small wrappers around moto's ECS and EC2 methods.

- CreateService / UpdateService / DeleteService hand the service to the runner (a new
  deployment when the task definition changes or ``forceNewDeployment`` is set; a new desired
  count on the PRIMARY deployment otherwise), and keep the placement, deployment and load
  balancer settings moto's responses drop;
- ListTasks filters by ``serviceName`` and, as ECS does, shows only tasks whose desired status
  is RUNNING unless asked for another;
- ListAttributes filters by attribute name without a value;
- RunTask on EC2 places tasks by the placement rules and reports what fits nowhere in
  ``failures`` (:mod:`stackyard.local.ecs.standalone`);
- RegisterContainerInstance sizes the instance from its type;
- network interfaces answer ``private_dns_name``, which moto's awsvpc tasks read;
- an EC2 instance whose user data configures the ECS agent (``ECS_CLUSTER=``,
  ``ECS_INSTANCE_ATTRIBUTES=``) joins that cluster with those attributes, as the agent would;
  when it terminates, its container instance goes INACTIVE and services replace its tasks
  (:mod:`stackyard.local.ecs.instances`).

Installed once per process, before the first request; each wrapper calls moto's original.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from stackyard.local.ecs import instances, service_runner
from stackyard.local.ecs.runtime import runtime

__all__ = ["install"]

_installed = False

# Service settings that moto's CreateService response drops: request key -> model attribute.
_CREATE_SETTINGS = {
    "placementConstraints": "placement_constraints",
    "placementStrategy": "placement_strategy",
    "deploymentConfiguration": "deployment_configuration",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "enableExecuteCommand": "enable_execute_command",
}


def _wrap(owner: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(owner, name)
    wrapper = make(original)
    functools.update_wrapper(wrapper, original)
    setattr(owner, name, wrapper)


def install() -> None:
    """Install the wrappers (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.ec2.models import EC2Backend
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse

    _wrap(EC2ContainerServiceBackend, "create_service", _create_service)
    _wrap(EC2ContainerServiceBackend, "update_service", _update_service)
    _wrap(EC2ContainerServiceBackend, "delete_service", _delete_service)
    _wrap(EC2ContainerServiceBackend, "list_tasks", _list_tasks)
    _wrap(EC2ContainerServiceBackend, "register_container_instance", _register_container_instance)
    EC2ContainerServiceBackend.list_attributes = _list_attributes  # type: ignore[method-assign]
    _wrap(EC2ContainerServiceResponse, "create_service", _create_service_response)
    _wrap(EC2ContainerServiceResponse, "run_task", _run_task_response)
    _wrap(EC2Backend, "run_instances", _run_instances)
    _wrap(EC2Backend, "terminate_instances", _terminate_instances)
    _give_network_interfaces_dns_names()


def _create_service(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        balancers = kwargs.get("load_balancers", args[4] if len(args) > 4 else None)
        _check_load_balancers(self, balancers or [])
        service = original(self, *args, **kwargs)
        controller = (service.deployment_controller or {}).get("type", "ECS")
        if controller == "ECS":  # CODE_DEPLOY and EXTERNAL services run task sets instead
            service_runner.adopt(self, service, time.time())
            runtime.services_seen = True
        return service

    return create_service


def _check_load_balancers(backend: Any, balancers: list[dict[str, Any]]) -> None:
    from moto.ecs.exceptions import InvalidParameterException

    from stackyard.local.elbv2.targets import check_attached

    arns = [str(b["targetGroupArn"]) for b in balancers if b.get("targetGroupArn")]
    refusal = check_attached(backend.account_id, backend.region_name, arns)
    if refusal is not None:
        raise InvalidParameterException(refusal)


def _update_service(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        force = bool(service_properties.get("force_new_deployment"))
        service = original(self, service_properties)
        state = service_runner.state_of(service)
        if state is None:
            return service
        now = time.time()
        primary = state.primary
        wanted = self.describe_task_definition(service.task_definition).arn
        desired = int(service.desired_count or 0)
        if primary is None or wanted != primary.task_definition or force:
            state.start(wanted, desired, now)
        elif primary.desired != desired:
            primary.desired = desired
            primary.updated = now
            state.steady = False
        service.deployment_configuration = service_runner.configuration(service)
        service_runner.refresh(self, service)
        return service

    return update_service


def _delete_service(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_service(self: Any, cluster_name: str, service_name: str, force: bool) -> Any:
        service = original(self, cluster_name, service_name, force)
        service_runner.retire(self, service, time.time())
        return service

    return delete_service


def _list_tasks(original: Callable[..., Any]) -> Callable[..., Any]:
    def list_tasks(
        self: Any,
        cluster_str: str | None = None,
        container_instance: str | None = None,
        family: str | None = None,
        started_by: str | None = None,
        service_name: str | None = None,
        desiredStatus: str | None = None,
    ) -> list[Any]:
        found = original(
            self,
            cluster_str,
            container_instance,
            family,
            started_by,
            None,
            desiredStatus or "RUNNING",
        )
        if service_name:
            name = service_name.rsplit("/", 1)[-1]
            found = [t for t in found if t.group == f"service:{name}"]
        return list(found)

    return list_tasks


def _list_attributes(
    self: Any,
    target_type: str,
    cluster_name: str | None = None,
    attr_name: str | None = None,
    attr_value: str | None = None,
) -> Any:
    from moto.ecs.exceptions import InvalidParameterException

    if target_type != "container-instance":
        raise InvalidParameterException("targetType must be container-instance")
    cluster = cluster_name.rsplit("/", 1)[-1] if cluster_name else None
    found = []
    for name, registered in self.container_instances.items():
        if cluster is not None and name != cluster:
            continue
        for instance in registered.values():
            for key, value in instance.attributes.items():
                if attr_name and key != attr_name:
                    continue
                if attr_value is not None and value != attr_value:
                    continue
                found.append((name, instance.container_instance_arn, key, value))
    return found


def _register_container_instance(original: Callable[..., Any]) -> Callable[..., Any]:
    def register_container_instance(self: Any, cluster_str: str, ec2_instance_id: str) -> Any:
        instance = original(self, cluster_str, ec2_instance_id)
        sized = instances.instance_resources(
            str(instance.attributes.get("ecs.instance-type") or "")
        )
        if sized is not None:
            for table in (instance.registered_resources, instance.remaining_resources):
                for resource in table:
                    if resource.get("name") == "CPU":
                        resource["integerValue"] = sized[0]
                    elif resource.get("name") == "MEMORY":
                        resource["integerValue"] = sized[1]
        instance.attributes.setdefault("ecs.cpu-architecture", "x86_64")
        return instance

    return register_container_instance


def _create_service_response(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_service(self: Any) -> Any:
        result = original(self)
        cluster = self._get_param("cluster", "default")
        name = self._get_param("serviceName")
        service = self.ecs_backend._get_service(cluster, name)
        for key, attribute in _CREATE_SETTINGS.items():
            value = self._get_param(key)
            if value is not None:
                setattr(service, attribute, value)
        service.deployment_configuration = service_runner.configuration(service)
        return result

    return create_service


def _run_task_response(original: Callable[..., Any]) -> Callable[..., Any]:
    def run_task(self: Any) -> Any:
        launch_type = self._get_param("launchType")
        cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
        by_provider = self._get_param("capacityProviderStrategy") or (
            not launch_type and cluster.default_capacity_provider_strategy
        )
        if launch_type not in (None, "EC2") or by_provider:
            return original(self)
        if not self.ecs_backend.container_instances.get(cluster.name):
            from moto.ecs.exceptions import InvalidParameterException

            raise InvalidParameterException("No Container Instances were found in your cluster.")
        from moto.core.responses import ActionResult

        from stackyard.local.ecs.standalone import run_task as place_and_run

        tasks, failures = place_and_run(
            self.ecs_backend,
            cluster.name,
            self._get_param("taskDefinition"),
            self._get_int_param("count", 1),
            constraints=self._get_param("placementConstraints") or [],
            strategies=self._get_param("placementStrategy") or [],
            group=self._get_param("group"),
            started_by=self._get_param("startedBy") or "",
            overrides=self._get_param("overrides"),
            tags=self._get_param("tags"),
        )
        return ActionResult({"tasks": tasks, "failures": failures})

    return run_task


def _give_network_interfaces_dns_names() -> None:
    """moto's awsvpc tasks read ``private_dns_name`` of the interface they create, which its
    network interfaces lack; answer with EC2's private DNS name for the address."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if hasattr(NetworkInterface, "private_dns_name"):
        return

    def private_dns_name(self: Any) -> str:
        given = self.__dict__.get("_stackyard_private_dns_name")
        if given is not None:
            return str(given)
        address = str(self.private_ip_address or "").replace(".", "-")
        region = str(getattr(self.ec2_backend, "region_name", "us-east-1"))
        domain = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
        return f"ip-{address}.{domain}"

    def set_private_dns_name(self: Any, value: str) -> None:
        self.__dict__["_stackyard_private_dns_name"] = value

    NetworkInterface.private_dns_name = property(private_dns_name, set_private_dns_name)  # type: ignore[assignment]


# EC2 instances joining and leaving clusters ---------------------------------------------------


def _run_instances(original: Callable[..., Any]) -> Callable[..., Any]:
    def run_instances(self: Any, *args: Any, **kwargs: Any) -> Any:
        reservation = original(self, *args, **kwargs)
        instances.join_clusters(self.account_id, self.region_name, list(reservation.instances))
        return reservation

    return run_instances


def _terminate_instances(original: Callable[..., Any]) -> Callable[..., Any]:
    def terminate_instances(self: Any, instance_ids: list[str]) -> Any:
        terminated = original(self, instance_ids)
        gone = {instance.id for instance, _ in terminated}
        instances.leave_clusters(self.account_id, self.region_name, gone)
        return terminated

    return terminate_instances
