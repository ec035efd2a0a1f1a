"""Turning the emulator's records into the dicts boto3 returns (serialized by :mod:`wire`)."""

from __future__ import annotations

import time
from typing import Any

from stackyard.local.cloudformation.models import ChangeSet, Resource, Stack, StackEvent
from stackyard.local.cloudformation.parameters import masked

__all__ = ["change_set", "event", "resource", "resource_summary", "stack", "stack_summary"]


def _parameters(template: dict[str, Any], values: dict[str, str]) -> list[dict[str, Any]]:
    declared = template.get("Parameters") or {}
    return [
        {"ParameterKey": key, "ParameterValue": value}
        for key, value in masked(declared, values).items()
    ]


def stack(item: Stack) -> dict[str, Any]:
    """A ``Stacks`` entry of DescribeStacks."""
    out: dict[str, Any] = {
        "StackId": item.stack_id,
        "StackName": item.name,
        "ChangeSetId": item.change_set_id,
        "Description": item.description,
        "Parameters": _parameters(item.template, item.parameters),
        "CreationTime": item.creation_time,
        "DeletionTime": item.deletion_time,
        "LastUpdatedTime": item.last_updated,
        "StackStatus": item.status,
        "StackStatusReason": item.reason,
        "DisableRollback": item.disable_rollback,
        "NotificationARNs": item.notification_arns,
        "TimeoutInMinutes": item.timeout,
        "Capabilities": item.capabilities,
        "Outputs": item.outputs,
        "RoleARN": item.role_arn,
        "Tags": item.tags,
        "EnableTerminationProtection": item.termination_protection,
        "DriftInformation": _stack_drift(item),
        "ParentId": item.parent_id,
        "RootId": item.root_id,
    }
    return out


def stack_summary(item: Stack) -> dict[str, Any]:
    """A ``StackSummaries`` entry of ListStacks."""
    return {
        "StackId": item.stack_id,
        "StackName": item.name,
        "TemplateDescription": item.description,
        "CreationTime": item.creation_time,
        "LastUpdatedTime": item.last_updated,
        "DeletionTime": item.deletion_time,
        "StackStatus": item.status,
        "StackStatusReason": item.reason,
        "DriftInformation": _stack_drift(item),
        "ParentId": item.parent_id,
        "RootId": item.root_id,
    }


def _stack_drift(item: Stack) -> dict[str, Any]:
    return {"StackDriftStatus": item.drift_status, "LastCheckTimestamp": item.drift_checked}


def _resource_drift(owner: Stack, logical_id: str) -> dict[str, Any]:
    for drift in owner.resource_drifts or []:
        if drift["LogicalResourceId"] == logical_id:
            return {
                "StackResourceDriftStatus": drift["StackResourceDriftStatus"],
                "LastCheckTimestamp": drift["Timestamp"],
            }
    return {"StackResourceDriftStatus": "NOT_CHECKED"}


def event(item: StackEvent) -> dict[str, Any]:
    """A ``StackEvents`` entry."""
    return {
        "StackId": item.stack_id,
        "EventId": item.event_id,
        "StackName": item.stack_name,
        "LogicalResourceId": item.logical_id,
        "PhysicalResourceId": item.physical_id,
        "ResourceType": item.type,
        "Timestamp": item.timestamp,
        "ResourceStatus": item.status,
        "ResourceStatusReason": item.reason,
        "ResourceProperties": item.properties,
        "ClientRequestToken": item.client_request_token,
    }


def resource(owner: Stack, item: Resource, detail: bool = False) -> dict[str, Any]:
    """A ``StackResources`` entry (or ``StackResourceDetail`` with ``detail``)."""
    out: dict[str, Any] = {
        "StackName": owner.name,
        "StackId": owner.stack_id,
        "LogicalResourceId": item.logical_id,
        "PhysicalResourceId": item.physical_id,
        "ResourceType": item.type,
        "ResourceStatus": item.status,
        "ResourceStatusReason": item.reason,
        "DriftInformation": _resource_drift(owner, item.logical_id),
    }
    if detail:
        import json

        out["LastUpdatedTimestamp"] = item.updated
        out["Metadata"] = json.dumps(item.metadata) if item.metadata is not None else None
    else:
        out["Timestamp"] = item.updated
    return out


def resource_summary(item: Resource) -> dict[str, Any]:
    """A ``StackResourceSummaries`` entry of ListStackResources."""
    return {
        "LogicalResourceId": item.logical_id,
        "PhysicalResourceId": item.physical_id,
        "ResourceType": item.type,
        "LastUpdatedTimestamp": item.updated,
        "ResourceStatus": item.status,
        "ResourceStatusReason": item.reason,
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
    }


def change_set(item: ChangeSet, summary: bool = False) -> dict[str, Any]:
    """DescribeChangeSet's answer, or a ``Summaries`` entry of ListChangeSets."""
    status, execution_status = item.visible(time.time())
    ready = status == item.status
    out: dict[str, Any] = {
        "ChangeSetId": item.change_set_id,
        "ChangeSetName": item.name,
        "StackId": item.stack_id,
        "StackName": item.stack_name,
        "ExecutionStatus": execution_status,
        "Status": status,
        "StatusReason": item.reason if ready else None,
        "CreationTime": item.creation_time,
        "Description": item.description,
    }
    if summary:
        return out
    out.update(
        {
            "Parameters": _parameters(item.template, item.parameters),
            "NotificationARNs": item.notification_arns,
            "Capabilities": item.capabilities,
            "Tags": item.tags,
            "Changes": item.changes if ready else [],
        }
    )
    return out
