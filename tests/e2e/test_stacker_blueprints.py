"""The stacker_blueprints library (1.0.8, from PyPI) imports unchanged and renders.

The library is installed by this test's own setup (``pip install --no-deps --target``; its
dependencies, troposphere and awacs, are stackyard's own) and put on the config's
``sys_path``. Nothing in it is edited: its modules import ``stacker.blueprints.base``,
``stacker.blueprints.variables.types``, ``stacker.util`` and ``stacker.exceptions``.

Its ``route53.DNSRecords`` is Python 2 code (``dict.iteritems``) and fails under stacker
1.7.2 on Python 3 as it fails here; route53 resources are rendered through the VPC's
internal hosted zone and the RDS blueprint's DNS record instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

VERSION = "1.0.8"

ENVIRONMENT = """\
namespace: blueprints
db_password: Example-Passw0rd
"""

CONFIG = """\
sys_path: {library}
mappings:
  AmiMap:
    us-east-1:
      NAT: ami-ad227cc4
vpc_variables: &vpc_variables
  VpcId: ${{output vpc::VpcId}}
stacks:
  vpc:
    class_path: stacker_blueprints.vpc.VPC
    variables:
      AZCount: 2
      PublicSubnets: [10.128.0.0/24, 10.128.1.0/24]
      PrivateSubnets: [10.128.8.0/22, 10.128.12.0/22]
      CidrBlock: 10.128.0.0/16
      InternalDomain: internal
  db:
    class_path: stacker_blueprints.rds.postgres.MasterInstance
    variables:
      << : *vpc_variables
      Subnets: ${{output vpc::PrivateSubnets}}
      InstanceType: db.m5.large
      AllocatedStorage: 10
      MasterUser: dbuser
      MasterUserPassword: ${{db_password}}
      DatabaseName: app
      DBFamily: postgres9.6
      EngineVersion: "9.6.8"
      EngineMajorVersion: "9.6"
      InternalZoneId: ${{output vpc::InternalZoneId}}
      InternalZoneName: ${{output vpc::InternalZoneName}}
      InternalHostname: db
  cluster:
    class_path: stacker_blueprints.ecs.Cluster
    variables:
  roles:
    class_path: stacker_blueprints.iam_roles.Roles
    variables:
      Ec2Roles: [app]
      LambdaRoles: [worker]
"""

DNS = """\
  dns:
    class_path: stacker_blueprints.route53.DNSRecords
    variables:
      HostedZoneName: example.com
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """stacker-blueprints installed into a folder of its own (skipped when PyPI is out of
    reach)."""
    target = tmp_path_factory.mktemp("stacker-blueprints")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(target),
            f"stacker-blueprints=={VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        unreachable = (
            "Could not find a version",
            "No matching distribution",
            "connection",
            "Connection",
            "Temporary failure",
            "Network is unreachable",
        )
        if any(text in done.stderr for text in unreachable):
            pytest.skip(f"PyPI is out of reach: {done.stderr.strip().splitlines()[-1]}")
        pytest.fail(f"pip install stacker-blueprints failed: {done.stderr}")
    assert (target / "stacker_blueprints" / "vpc.py").is_file()
    return target


def project(root: Path, library: Path, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "stage.env").write_text(ENVIRONMENT)
    (root / "stacker.yaml").write_text(textwrap.dedent(CONFIG.format(library=library)) + extra)
    return root


def test_the_library_has_no_stackyard_in_it(library: Path) -> None:
    sources = "\n".join(p.read_text() for p in library.rglob("stacker_blueprints/**/*.py"))
    assert "from stacker.blueprints.base import Blueprint" in sources
    assert "stackyard" not in sources


def test_vpc_rds_route53_ecs_and_iam_blueprints_render(
    tmp_path: Path, library: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    root = project(tmp_path / "project", library)
    out = tmp_path / "out"
    done = run_cli("render", "--out", str(out), "stage.env", "stacker.yaml", cwd=root)
    assert done.returncode == 0, done.stderr

    def types(fqn: str) -> set[str]:
        template = json.loads((out / f"{fqn}.json").read_text())
        return {r["Type"] for r in template["Resources"].values()}

    vpc = types("blueprints-vpc")
    assert {"AWS::EC2::VPC", "AWS::EC2::NatGateway", "AWS::Route53::HostedZone"} <= vpc
    db = types("blueprints-db")
    assert {"AWS::RDS::DBInstance", "AWS::Route53::RecordSet"} <= db
    assert types("blueprints-cluster") == {"AWS::ECS::Cluster"}
    assert types("blueprints-roles") == {"AWS::IAM::Role"}

    parameters = json.loads((out / "blueprints-db.parameters.json").read_text())
    assert parameters == {"MasterUserPassword": "****"}
    assert "Example-Passw0rd" not in (out / "blueprints-db.json").read_text()


def test_route53_dns_records_fails_as_it_fails_under_stacker(
    tmp_path: Path, library: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    root = project(tmp_path / "project", library, DNS)
    done = run_cli("render", "--stacks", "dns", "stage.env", "stacker.yaml", cwd=root)
    assert done.returncode == 2
    assert "route53.py" in done.stderr and "iteritems" in done.stderr
