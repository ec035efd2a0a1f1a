"""Drift differences never show a secret: SecureString values and secret-named paths."""

from __future__ import annotations

import json

from stackyard.aws.drift import _resource


def test_secret_values_in_drift_differences_are_masked() -> None:
    secure = _resource(
        {
            "LogicalResourceId": "Key",
            "ResourceType": "AWS::SSM::Parameter",
            "StackResourceDriftStatus": "MODIFIED",
            "ExpectedProperties": json.dumps({"Type": "SecureString", "Value": "s3cr3t"}),
            "PropertyDifferences": [
                {"PropertyPath": "/Value", "ExpectedValue": "s3cr3t", "ActualValue": "n3w"}
            ],
        }
    )
    assert [(d.expected, d.actual) for d in secure.differences] == [("****", "****")]
    db = _resource(
        {
            "LogicalResourceId": "Db",
            "ResourceType": "AWS::RDS::DBInstance",
            "PropertyDifferences": [
                {"PropertyPath": "/MasterUserPassword", "ExpectedValue": "pw", "ActualValue": "x"},
                {"PropertyPath": "/DBInstanceClass", "ExpectedValue": "a", "ActualValue": "b"},
            ],
        }
    )
    assert [(d.expected, d.actual) for d in db.differences] == [("****", "****"), ("a", "b")]
