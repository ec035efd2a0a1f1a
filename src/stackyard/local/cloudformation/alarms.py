"""CloudWatch metric alarms made by a stack live in moto's CloudWatch backend, so that
``DescribeAlarms`` and ``SetAlarmState`` see them, as they would on AWS.

moto has no CloudFormation model for ``AWS::CloudWatch::Alarm``; these functions create,
update and delete through its backend. The physical id is the alarm's name and the attribute
``Arn`` its ARN. An update keeps the alarm's state, as CloudWatch's PutMetricAlarm does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ALARM_TYPES", "create", "delete", "update"]

ALARM_TYPES = frozenset({"AWS::CloudWatch::Alarm"})


def _backend(account_id: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account_id][region]


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    return None if value is None else kind(value)


def _put(name: str, properties: Mapping[str, Any], backend: Any) -> Any:
    return backend.put_metric_alarm(
        name=name,
        namespace=str(properties.get("Namespace") or ""),
        metric_name=str(properties.get("MetricName") or ""),
        metric_data_queries=None,
        comparison_operator=str(properties.get("ComparisonOperator") or ""),
        evaluation_periods=int(properties.get("EvaluationPeriods") or 1),
        datapoints_to_alarm=_number(properties.get("DatapointsToAlarm"), int),
        period=int(properties.get("Period") or 60),
        threshold=float(properties.get("Threshold") or 0),
        statistic=properties.get("Statistic"),
        extended_statistic=properties.get("ExtendedStatistic"),
        description=str(properties.get("AlarmDescription") or ""),
        dimensions=[dict(d) for d in properties.get("Dimensions") or []],
        alarm_actions=list(properties.get("AlarmActions") or []),
        ok_actions=list(properties.get("OKActions") or []),
        insufficient_data_actions=list(properties.get("InsufficientDataActions") or []),
        unit=properties.get("Unit"),
        actions_enabled=properties.get("ActionsEnabled", True) in (True, "true", "True"),
        treat_missing_data=properties.get("TreatMissingData"),
        evaluate_low_sample_count_percentile=properties.get("EvaluateLowSampleCountPercentile"),
        threshold_metric_id=properties.get("ThresholdMetricId"),
    )


def create(
    resource_type: str, name: str, properties: Mapping[str, Any], region: str, account_id: str
) -> tuple[str, dict[str, Any]]:
    """Create the alarm in moto's CloudWatch; return its physical id and attributes."""
    alarm = _put(name, properties, _backend(account_id, region))
    return name, {"Arn": alarm.alarm_arn}


def update(
    resource_type: str,
    physical_id: str,
    properties: Mapping[str, Any],
    region: str,
    account_id: str,
) -> None:
    """Apply new properties to the alarm, keeping its state."""
    backend = _backend(account_id, region)
    old = backend.alarms.get(physical_id)
    alarm = _put(physical_id, properties, backend)
    if old is not None:
        alarm.state_value, alarm.state_reason = old.state_value, old.state_reason
        alarm.state_reason_data = old.state_reason_data
        alarm.state_updated_timestamp = old.state_updated_timestamp


def delete(resource_type: str, physical_id: str, region: str, account_id: str) -> None:
    """Delete the alarm (one already gone counts as deleted)."""
    _backend(account_id, region).delete_alarms([physical_id])
