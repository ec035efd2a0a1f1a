"""Running one stack operation (create, update, delete, rollback) on a worker thread.

Resources go in dependency order, independent ones in parallel; each resource operation takes
the time the latency spec gives it. The global lock is held only around moto calls and state
changes, never while sleeping.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Protocol

from stackyard.local.cloudformation.errors import ApiError, ResourceFailure
from stackyard.local.cloudformation.intrinsics import Resolver
from stackyard.local.cloudformation.models import Resource, Snapshot, Stack, StackEvent, now
from stackyard.local.cloudformation.parameters import typed_parameters
from stackyard.local.cloudformation.policy import allows
from stackyard.local.cloudformation.provisioner import NestedHandler, Provisioner
from stackyard.local.cloudformation.replacement import property_recreation
from stackyard.local.latency import LatencySpec
from stackyard.template_refs import references

__all__ = ["Host", "StackRunner", "dependency_graph", "output_text"]

STACK_TYPE = "AWS::CloudFormation::Stack"


class Host(Protocol):
    """What a runner needs from the emulator."""

    lock: threading.RLock
    latency: LatencySpec
    stopping: threading.Event
    nested_stacks: NestedHandler | None

    def export_value(self, account_id: str, region: str, name: str) -> str | None: ...

    def importers(self, account_id: str, region: str, name: str) -> list[str]: ...

    def exporter(self, account_id: str, region: str, name: str) -> tuple[str, str] | None: ...

    def ssm_value(self, account_id: str, region: str, name: str) -> str: ...


def output_text(value: Any) -> str:
    """An output value as CloudFormation shows it (lists comma-joined)."""
    if isinstance(value, list):
        return ",".join(output_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def dependency_graph(resources: Mapping[str, Any], active: Iterable[str]) -> dict[str, set[str]]:
    """For each active resource, the active resources it depends on."""
    names = set(active)
    graph: dict[str, set[str]] = {}
    for logical_id in names:
        body = resources[logical_id]
        deps = references(body.get("Properties") or {}) | references(body.get("Metadata") or {})
        depends_on = body.get("DependsOn", [])
        deps |= set([depends_on] if isinstance(depends_on, str) else depends_on)
        graph[logical_id] = (deps & names) - {logical_id}
    return graph


class StackRunner:
    """Carries out one operation on one stack."""

    def __init__(self, host: Host, stack: Stack) -> None:
        self.host = host
        self.stack = stack
        self.lock = host.lock
        self.provisioner = Provisioner(
            stack.account_id, stack.region, stack.name, stack.stack_id, host.nested_stacks
        )
        self.provisioner.stack_tags = list(stack.tags)
        self.rng = random.Random()

    # helpers ----------------------------------------------------------------------------

    def resolver(self, template: Mapping[str, Any], params: Mapping[str, str]) -> Resolver:
        """A resolver over the stack's current resources (call with the lock held)."""
        stack = self.stack
        declared = template.get("Parameters") or {}
        typed, _ = typed_parameters(
            declared, params, lambda name: self.host.ssm_value(stack.account_id, stack.region, name)
        )

        def ref(name: str) -> Any:
            resource = stack.resources.get(name)
            if resource is None or resource.physical_id is None:
                raise ResourceFailure(f"Template error: resource {name} is not available")
            return resource.physical_id

        def get_att(name: str, attribute: str) -> Any:
            resource = stack.resources.get(name)
            if resource is None:
                raise ResourceFailure(
                    f"Template error: instance of Fn::GetAtt references undefined resource {name}"
                )
            return self.provisioner.get_att(resource, attribute)

        def import_value(name: str) -> Any:
            value = self.host.export_value(stack.account_id, stack.region, name)
            if value is None:
                raise ResourceFailure(f"No export named {name} found.")
            return value

        return Resolver(
            parameters=typed,
            pseudo={
                "AWS::AccountId": stack.account_id,
                "AWS::Region": stack.region,
                "AWS::StackId": stack.stack_id,
                "AWS::StackName": stack.name,
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::Partition": "aws",
                "AWS::NotificationARNs": list(stack.notification_arns),
            },
            mappings=template.get("Mappings") or {},
            condition_defs=template.get("Conditions") or {},
            ref=ref,
            get_att=get_att,
            import_value=import_value,
        )

    def active_resources(self, template: Mapping[str, Any], resolver: Resolver) -> list[str]:
        """Logical ids whose Condition (if any) holds, in template order."""
        return [
            logical_id
            for logical_id, body in (template.get("Resources") or {}).items()
            if "Condition" not in body or resolver.condition(body["Condition"])
        ]

    def stack_event(self, status: str, reason: str | None = None) -> None:
        """Set the stack's status and record a stack event (call with the lock held)."""
        self.stack.status = status
        self.stack.reason = reason
        self._append(self.stack.name, self.stack.stack_id, STACK_TYPE, status, reason, None)

    def resource_event(
        self, resource: Resource, status: str, reason: str | None = None, props: bool = False
    ) -> None:
        """Set a resource's status and record its event (call with the lock held)."""
        resource.status = status
        resource.reason = reason
        resource.updated = now()
        properties = json.dumps(resource.properties, default=str) if props else None
        self._append(
            resource.logical_id,
            resource.physical_id or "",
            resource.type,
            status,
            reason,
            properties,
        )

    def _append(
        self,
        logical_id: str,
        physical_id: str,
        rtype: str,
        status: str,
        reason: str | None,
        properties: str | None,
    ) -> None:
        event = StackEvent(
            stack_id=self.stack.stack_id,
            stack_name=self.stack.name,
            logical_id=logical_id,
            physical_id=physical_id,
            type=rtype,
            status=status,
            reason=reason,
            properties=properties,
            client_request_token=self.stack.client_request_token,
        )
        events = self.stack.events
        if events and event.timestamp <= events[-1].timestamp:
            import datetime as dt

            event.timestamp = events[-1].timestamp + dt.timedelta(microseconds=1000)
        events.append(event)

    def pause(self, resource_type: str) -> None:
        """Wait the latency of one operation on ``resource_type`` (never with the lock held)."""
        seconds = self.host.latency.seconds_for(resource_type, self.rng)
        if seconds > 0:
            self.host.stopping.wait(seconds)

    def settle(self, resource: Resource, failed_status: str) -> None:
        """Wait out a resource operation: its latency, or a child stack's own operation (a
        failed child fails the resource with ``failed_status``). Never with the lock held."""
        nested = self.provisioner.nested
        if nested is None or not self.provisioner.is_nested(resource):
            self.pause(resource.type)
            return
        try:
            nested.wait(resource)
        except ResourceFailure as exc:
            with self.lock:
                self.resource_event(resource, failed_status, _reason(exc))
            raise

    def run_graph(
        self, order: list[str], deps: Mapping[str, set[str]], action: Callable[[str], None]
    ) -> list[tuple[str, str]]:
        """Run ``action`` per node once its deps are done; stop starting new ones on failure."""
        failures: list[tuple[str, str]] = []
        done: set[str] = set()
        pending = list(order)
        running: dict[Future[None], str] = {}
        with ThreadPoolExecutor(max_workers=max(1, min(16, len(order)))) as pool:
            while pending or running:
                if not failures:
                    for node in list(pending):
                        if deps.get(node, set()) <= done:
                            pending.remove(node)
                            running[pool.submit(action, node)] = node
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    node = running.pop(future)
                    error = future.exception()
                    if error is None:
                        done.add(node)
                    else:
                        failures.append((node, _reason(error)))
        return failures

    # create -----------------------------------------------------------------------------

    def create(self) -> None:
        """Create every resource; on failure roll back as OnFailure/DisableRollback say."""
        stack = self.stack
        with self.lock:
            self.stack_event("CREATE_IN_PROGRESS", "User Initiated")
            try:
                resolver = self.resolver(stack.template, stack.parameters)
                active = self.active_resources(stack.template, resolver)
                deps = dependency_graph(stack.template["Resources"], active)
            except (ApiError, ResourceFailure) as exc:
                self._fail_create([], _reason(exc))
                return
        failures = self.run_graph(active, deps, lambda n: self._create_one(n, resolver))
        if not failures:
            with self.lock:
                try:
                    outputs = self.compute_outputs(stack.template, resolver)
                    self._check_exports_free(outputs)
                    stack.outputs = outputs
                except (ApiError, ResourceFailure) as exc:
                    failures = [("Outputs", _reason(exc))]
        if failures:
            self._fail_create([name for name, _ in failures if name != "Outputs"], failures[0][1])
            return
        with self.lock:
            stack.imports = set(resolver.imported)
            self.stack_event("CREATE_COMPLETE")

    def _create_one(self, logical_id: str, resolver: Resolver) -> None:
        body = self.stack.template["Resources"][logical_id]
        with self.lock:
            resource = Resource(
                logical_id=logical_id,
                type=body["Type"],
                metadata=body.get("Metadata"),
                deletion_policy=body.get("DeletionPolicy"),
            )
            self.stack.resources[logical_id] = resource
            self.resource_event(resource, "CREATE_IN_PROGRESS")
            try:
                properties = resolver.resolve(body.get("Properties") or {})
                self.provisioner.create(resource, properties)
            except (ApiError, ResourceFailure) as exc:
                self.resource_event(resource, "CREATE_FAILED", _reason(exc))
                raise ResourceFailure(_reason(exc)) from exc
            self.resource_event(resource, "CREATE_IN_PROGRESS", "Resource creation Initiated", True)
        self.settle(resource, "CREATE_FAILED")
        with self.lock:
            self.resource_event(resource, "CREATE_COMPLETE")

    def _fail_create(self, failed: list[str], reason: str) -> None:
        stack = self.stack
        names = f"The following resource(s) failed to create: [{', '.join(failed)}]. "
        text = names if failed else reason
        if stack.disable_rollback or stack.on_failure == "DO_NOTHING":
            with self.lock:
                self.stack_event("CREATE_FAILED", text)
            return
        wording = "Delete" if stack.on_failure == "DELETE" else "Rollback"
        with self.lock:
            lead = text if text.endswith(" ") else f"{text.rstrip('.')}. "
            self.stack_event("ROLLBACK_IN_PROGRESS", f"{lead}{wording} requested by user.".strip())
            stack.outputs = []
        errors = self.delete_resources(list(stack.resources))
        with self.lock:
            if errors:
                self.stack_event("ROLLBACK_FAILED", errors[0][1])
            elif stack.on_failure == "DELETE":
                self.stack_event("DELETE_COMPLETE")
                stack.deletion_time = now()
            else:
                self.stack_event("ROLLBACK_COMPLETE")

    # delete -----------------------------------------------------------------------------

    def delete_resources(
        self, names: list[str], resources: Mapping[str, Resource] | None = None
    ) -> list[tuple[str, str]]:
        """Delete the named resources, dependents first."""
        pool = self.stack.resources if resources is None else resources
        live = [n for n in names if n in pool and pool[n].status not in _GONE]
        template_resources = {
            n: (self.stack.template.get("Resources") or {}).get(n, {}) for n in live
        }
        if self.stack.previous is not None:
            for n in live:
                if not template_resources[n]:
                    template_resources[n] = self.stack.previous.template["Resources"].get(n, {})
        forward = dependency_graph(template_resources, live)
        reverse = {n: {m for m in live if n in forward[m]} for n in live}
        return self.run_graph(
            live, reverse, lambda n: self._delete_one(pool[n], self._retained(n, pool[n]))
        )

    def _retained(self, key: str, resource: Resource) -> bool:
        """Whether deleting ``resource`` keeps it: its DeletionPolicy, or for the old copy of
        a replaced resource the UpdateReplacePolicy of the template being applied."""
        if key.endswith(_REPLACED):
            body = (self.stack.template.get("Resources") or {}).get(resource.logical_id) or {}
            return body.get("UpdateReplacePolicy") == "Retain"
        return resource.deletion_policy == "Retain"

    def _delete_one(self, resource: Resource, retain: bool) -> None:
        with self.lock:
            if retain:
                self.resource_event(resource, "DELETE_SKIPPED")
                return
            if resource.status == "CREATE_FAILED" and resource.physical_id is None:
                self.resource_event(resource, "DELETE_COMPLETE")
                return
            self.resource_event(resource, "DELETE_IN_PROGRESS")
        nested = self.provisioner.is_nested(resource)
        if not nested:
            self.pause(resource.type)
        with self.lock:
            try:
                self.provisioner.delete(resource)
            except ResourceFailure as exc:
                self.resource_event(resource, "DELETE_FAILED", _reason(exc))
                raise
            if not nested:
                self.resource_event(resource, "DELETE_COMPLETE")
                return
        self.settle(resource, "DELETE_FAILED")
        with self.lock:
            self.resource_event(resource, "DELETE_COMPLETE")

    def delete(self) -> None:
        """Delete the stack and its resources."""
        stack = self.stack
        with self.lock:
            self.stack_event("DELETE_IN_PROGRESS", "User Initiated")
        errors = self.delete_resources(list(stack.resources))
        with self.lock:
            if errors:
                names = ", ".join(n for n, _ in errors)
                self.stack_event(
                    "DELETE_FAILED", f"The following resource(s) failed to delete: [{names}]. "
                )
                return
            stack.outputs = []
            stack.imports = set()
            stack.deletion_time = now()
            self.stack_event("DELETE_COMPLETE")

    # outputs ----------------------------------------------------------------------------

    def compute_outputs(
        self, template: Mapping[str, Any], resolver: Resolver
    ) -> list[dict[str, Any]]:
        """The stack's Outputs for ``template`` (call with the lock held)."""
        outputs: list[dict[str, Any]] = []
        for key, body in (template.get("Outputs") or {}).items():
            if "Condition" in body and not resolver.condition(body["Condition"]):
                continue
            item: dict[str, Any] = {
                "OutputKey": key,
                "OutputValue": output_text(resolver.resolve(body.get("Value"))),
            }
            if body.get("Description") is not None:
                item["Description"] = str(resolver.resolve(body["Description"]))
            export = body.get("Export")
            if isinstance(export, dict) and "Name" in export:
                item["ExportName"] = str(resolver.resolve(export["Name"]))
            outputs.append(item)
        return outputs

    # update -----------------------------------------------------------------------------

    def update(self, change: Snapshot, policy: dict[str, Any] | None) -> None:
        """Move the stack to ``change`` (its new template etc.); roll back on failure."""
        stack = self.stack
        with self.lock:
            previous = stack.snapshot()
            stack.previous = previous
            stack.take_settings(change)
            self.provisioner.stack_tags = list(stack.tags)
            stack.last_updated = now()
            stack.cancel_requested = False
            self.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
            self.added: list[str] = []
            self.replaced: dict[str, Resource] = {}
            self.modified: dict[str, dict[str, Any]] = {}
            failures: list[tuple[str, str]] = []
            try:
                resolver = self.resolver(stack.template, stack.parameters)
                old_resolver = self.resolver(previous.template, previous.parameters)
                active = self.active_resources(stack.template, resolver)
                old_active = set(self.active_resources(previous.template, old_resolver))
                deps = dependency_graph(stack.template["Resources"], active)
            except (ApiError, ResourceFailure) as exc:
                failures = [("", _reason(exc))]
            if not failures:
                removed = [n for n in previous.resources if n not in active]
                for name in removed:
                    resource = previous.resources[name]
                    if policy is not None and not allows(
                        policy, "Update:Delete", name, resource.type
                    ):
                        failures.append((name, _denied("Update:Delete", name)))
        if not failures:
            failures = self.run_graph(
                active, deps, lambda n: self._update_one(n, resolver, old_active, policy)
            )
        if not failures and stack.cancel_requested:
            # a cancel that arrives while the last resources are in progress still rolls back
            failures = [("", "Stack update cancelled")]
        if not failures:
            with self.lock:
                try:
                    outputs = self.compute_outputs(stack.template, resolver)
                    self._check_exports_in_use(previous.outputs, outputs)
                    self._check_exports_free(outputs)
                    stack.outputs = outputs
                except (ApiError, ResourceFailure) as exc:
                    failures = [("", _reason(exc))]
        if failures:
            self._roll_back_update(previous, failures)
            return
        with self.lock:
            stack.imports = set(resolver.imported)
            self.stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        stale = {n: previous.resources[n] for n in removed}
        stale.update({f"{n}{_REPLACED}": r for n, r in self.replaced.items()})
        self.delete_resources(list(stale), stale)
        with self.lock:
            for name in removed:
                stack.resources.pop(name, None)
            stack.previous = None
            self.stack_event("UPDATE_COMPLETE")

    def _check_exports_free(self, outputs: list[dict[str, Any]]) -> None:
        """Refuse an export name another stack of the region already exports (call locked)."""
        for output in outputs:
            name = output.get("ExportName")
            if name is None:
                continue
            owner = self.host.exporter(self.stack.account_id, self.stack.region, name)
            if owner is not None and owner[0] != self.stack.stack_id:
                raise ResourceFailure(
                    f"Export with name {name} is already exported by stack {owner[1]}"
                )

    def _check_exports_in_use(
        self, before: list[dict[str, Any]], after: list[dict[str, Any]]
    ) -> None:
        new_values = {o["ExportName"]: o["OutputValue"] for o in after if "ExportName" in o}
        for output in before:
            name = output.get("ExportName")
            if name is None:
                continue
            users = self.host.importers(self.stack.account_id, self.stack.region, name)
            users = [u for u in users if u != self.stack.name]
            if not users:
                continue
            if name not in new_values:
                raise ResourceFailure(f"Cannot delete export {name} as it is in use by {users[0]}.")
            if new_values[name] != output["OutputValue"]:
                raise ResourceFailure(f"Cannot update export {name} as it is in use by {users[0]}.")

    def _update_one(
        self,
        logical_id: str,
        resolver: Resolver,
        old_active: set[str],
        policy: dict[str, Any] | None,
    ) -> None:
        stack = self.stack
        if self.stack.cancel_requested:
            raise ResourceFailure("Resource update cancelled")
        if logical_id not in old_active or logical_id not in stack.resources:
            self.added.append(logical_id)
            self._create_one(logical_id, resolver)
            return
        body = stack.template["Resources"][logical_id]
        with self.lock:
            current = stack.resources[logical_id]
            try:
                properties = resolver.resolve(body.get("Properties") or {})
            except (ApiError, ResourceFailure) as exc:
                self.resource_event(current, "UPDATE_FAILED", _reason(exc))
                raise ResourceFailure(_reason(exc)) from exc
            same_type = current.type == body["Type"]
            if same_type and properties == current.properties:
                current.metadata = body.get("Metadata")
                current.deletion_policy = body.get("DeletionPolicy")
                return
            changed = set(properties) | set(current.properties)
            replace = not same_type or any(
                property_recreation(body["Type"], name, current.properties, properties) == "Always"
                for name in changed
                if properties.get(name) != current.properties.get(name)
            )
            action = "Update:Replace" if replace else "Update:Modify"
            if policy is not None and not allows(policy, action, logical_id, current.type):
                self.resource_event(current, "UPDATE_FAILED", _denied(action, logical_id))
                raise ResourceFailure(_denied(action, logical_id))
            if replace:
                new_name = self.provisioner.custom_name(body["Type"], properties)
                old_name = self.provisioner.custom_name(current.type, current.properties)
                if new_name is not None and new_name == old_name:
                    reason = (
                        "CloudFormation cannot update a stack when a custom-named resource "
                        f"requires replacing. Rename {new_name} and update the stack again."
                    )
                    self.resource_event(current, "UPDATE_FAILED", reason)
                    raise ResourceFailure(reason)
                self.resource_event(current, "UPDATE_IN_PROGRESS")
                fresh = Resource(
                    logical_id=logical_id,
                    type=body["Type"],
                    metadata=body.get("Metadata"),
                    deletion_policy=body.get("DeletionPolicy"),
                )
                try:
                    self.provisioner.create(fresh, properties)
                except ResourceFailure as exc:
                    self.resource_event(current, "UPDATE_FAILED", _reason(exc))
                    raise
                self.replaced[logical_id] = current
                stack.resources[logical_id] = fresh
                self.resource_event(
                    fresh,
                    "UPDATE_IN_PROGRESS",
                    "Requested update requires the creation of a new physical resource; "
                    "hence creating one.",
                    True,
                )
                target = fresh
            else:
                self.resource_event(current, "UPDATE_IN_PROGRESS")
                self.modified[logical_id] = current.properties
                try:
                    self.provisioner.update(current, properties)
                except ResourceFailure as exc:
                    self.resource_event(current, "UPDATE_FAILED", _reason(exc))
                    raise
                current.metadata = body.get("Metadata")
                current.deletion_policy = body.get("DeletionPolicy")
                target = current
        self.settle(target, "UPDATE_FAILED")
        with self.lock:
            self.resource_event(target, "UPDATE_COMPLETE")

    def _roll_back_update(self, previous: Snapshot, failures: list[tuple[str, str]]) -> None:
        stack = self.stack
        failed = [n for n, _ in failures if n]
        if failed:
            reason = f"The following resource(s) failed to update: [{', '.join(failed)}]. "
        else:
            reason = failures[0][1]
        if stack.cancel_requested:
            reason = "Stack update cancelled"
        with self.lock:
            self.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", reason)
            stack.take_settings(previous)
            self.provisioner.stack_tags = list(stack.tags)
        errors: list[tuple[str, str]] = []
        for logical_id, old_properties in list(self.modified.items()):
            resource = stack.resources[logical_id]
            with self.lock:
                self.resource_event(resource, "UPDATE_IN_PROGRESS")
                try:
                    self.provisioner.update(resource, old_properties)
                except ResourceFailure as exc:
                    self.resource_event(resource, "UPDATE_FAILED", _reason(exc))
                    errors.append((logical_id, _reason(exc)))
                    continue
            try:
                self.settle(resource, "UPDATE_FAILED")
            except ResourceFailure as exc:
                errors.append((logical_id, _reason(exc)))
                continue
            with self.lock:
                self.resource_event(resource, "UPDATE_COMPLETE")
        with self.lock:
            stack.outputs = previous.outputs
            self.stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
            fresh = {f"{n} (new)": stack.resources[n] for n in self.replaced}
            fresh.update({n: stack.resources[n] for n in self.added if n in stack.resources})
        errors += self.delete_resources(list(fresh), fresh)
        with self.lock:
            restored = dict(previous.resources)
            stack.resources = restored
            for resource in restored.values():
                if resource.status.endswith(("_IN_PROGRESS", "_FAILED")):
                    resource.status = "UPDATE_COMPLETE"
            stack.previous = None
            if errors:
                self.stack_event("UPDATE_ROLLBACK_FAILED", errors[0][1])
            else:
                self.stack_event("UPDATE_ROLLBACK_COMPLETE")


_GONE = frozenset({"DELETE_COMPLETE", "DELETE_SKIPPED"})
_REPLACED = " (replaced)"


def _denied(action: str, logical_id: str) -> str:
    return f"Action denied by stack policy: {action} on LogicalResourceId/{logical_id}"


def _reason(error: BaseException) -> str:
    if isinstance(error, ApiError):
        return error.message
    return str(error) or type(error).__name__
