"""Blueprints written for stacker 1.7 render under stackyard with only their imports changed.

The blueprints in ``fixtures/yardfixtures`` are written as stacker users wrote
them. Their rendered templates are snapshots in ``fixtures/expected``; after an
intended change, regenerate them with::

    STACKYARD_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/blueprints
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from stackyard.errors import VariableError
from stackyard.unknown import Unknown

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = FIXTURES / "expected"
UPDATE = os.environ.get("STACKYARD_UPDATE_SNAPSHOTS") == "1"

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "vpc": (
        "yardfixtures.vpc.VPC",
        {
            "PrivateSubnets": ["10.0.1.0/24", "10.0.2.0/24"],
            "AvailabilityZones": ["eu-west-1a", "eu-west-1b"],
            "Tags": {"Team": "core"},
        },
    ),
    "buckets": (
        "yardfixtures.buckets.Buckets",
        {
            "Buckets": {"Logs": {"BucketName": "acme-logs"}, "Data": {}},
            "SingleBucket": {"Single": {"BucketName": "acme-single"}},
            "Versioning": {"Status": "Enabled"},
            "Topics": {"Alerts": {"TopicName": "alerts"}},
        },
    ),
    "instance": (
        "yardfixtures.instance.Instance",
        {
            "ImageId": "ami-12345678",
            "DbPassword": "correct-horse",
            "Environment": "staging",
            "InstanceType": "t3.small",
        },
    ),
}


def check_snapshot(name: str, rendered: str) -> None:
    path = EXPECTED / f"{name}.json"
    if UPDATE:
        EXPECTED.mkdir(exist_ok=True)
        path.write_text(rendered + "\n")
    assert rendered + "\n" == path.read_text(), f"{name} changed; see module docstring"


@pytest.mark.parametrize("name", sorted(CASES))
def test_stacker_blueprint_renders_to_its_snapshot(load: Any, name: str) -> None:
    class_path, variables = CASES[name]
    bp = load(class_path)
    bp.resolve_variables(variables)
    check_snapshot(name, bp.rendered)


@pytest.mark.parametrize("module", ["vpc.py", "buckets.py", "instance.py", "broken.py"])
def test_fixtures_mention_stackyard_only_in_imports(module: str) -> None:
    source = (FIXTURES / "yardfixtures" / module).read_text()
    stacker_version = source.replace("stackyard.blueprints", "stacker.blueprints")
    assert "stackyard" not in stacker_version
    for line in source.splitlines():
        if "stackyard" in line:
            assert re.match(r"from stackyard\.blueprints\.(base|variables\.types) import ", line)


def test_instance_parameters_and_secret(load: Any) -> None:
    bp = load("yardfixtures.instance.Instance")
    bp.resolve_variables(CASES["instance"][1])
    params = bp.get_template_parameters()
    assert params["DbPassword"]["NoEcho"] is True
    assert "correct-horse" not in bp.rendered
    assert bp.get_parameter_values() == {
        "ImageId": "ami-12345678",
        "KeyName": "",
        "DbPassword": "correct-horse",
        "VolumeSize": "20",
    }
    assert set(bp.get_required_parameter_definitions()) == {"ImageId", "DbPassword"}


def test_instance_validator_and_allowed_values(load: Any) -> None:
    bp = load("yardfixtures.instance.Instance")
    with pytest.raises(VariableError, match="failed validator validate_port: port 0 is not"):
        bp.resolve_variables({**CASES["instance"][1], "Port": 0})
    with pytest.raises(VariableError, match=r"not allowed: 'x1\.huge'"):
        bp.resolve_variables({**CASES["instance"][1], "InstanceType": "x1.huge"})


def test_vpc_wrong_type_from_config(load: Any) -> None:
    bp = load("yardfixtures.vpc.VPC")
    with pytest.raises(VariableError) as info:
        bp.resolve_variables({**CASES["vpc"][1], "SubnetCount": "2"})
    assert "blueprint VPC: variable 'SubnetCount' has the wrong type" in info.value.message
    assert "expected int, got str '2'" in info.value.message


def test_unknown_values_render_without_aws(load: Any) -> None:
    bp = load("yardfixtures.vpc.VPC")
    bp.resolve_variables({**CASES["vpc"][1], "AvailabilityZones": Unknown("output network::Zones")})
    assert bp.get_parameter_values()["AvailabilityZones"] == Unknown("output network::Zones")
    buckets = load("yardfixtures.buckets.Buckets")
    variables = dict(CASES["buckets"][1])
    variables["Buckets"] = {"Logs": {"BucketName": Unknown("xref logs::Name")}}
    buckets.resolve_variables(variables)
    body = json.loads(buckets.rendered)
    assert body["Resources"]["Logs"]["Properties"]["BucketName"] == (
        "(known after apply: xref logs::Name)"
    )


def test_troposphere_type_error_names_variable_and_expected_shape(load: Any) -> None:
    bp = load("yardfixtures.buckets.Buckets")
    variables = {**CASES["buckets"][1], "SingleBucket": {"A": {}, "B": {}}}
    with pytest.raises(VariableError) as info:
        bp.resolve_variables(variables)
    err = info.value
    assert err.key == "SingleBucket"
    assert "cannot be built as AWS::S3::Bucket: only one resource" in err.message
    assert "exactly one entry" in (err.hint or "")
