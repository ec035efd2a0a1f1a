"""Each peer deploys and destroys a two-stack chain on a stackyard local endpoint.

    python -m bench.peers            # once: install the peers' virtualenvs
    python -m bench.peers_smoke      # all peers; or name some: python -m bench.peers_smoke sceptre

The chain: stack ``first`` makes an SQS queue and outputs its ARN; stack ``second`` takes that
output as a parameter and stores it in an SSM parameter. Each peer gets the chain in its own
project format (a stacker config, a sceptre project, a runway CFNgin module) under
``bench/.work/<peer>`` and runs its own deploy and destroy commands against one in-process
``LocalEndpoint``, reached only through ``AWS_ENDPOINT_URL`` with dummy credentials. The script
then checks, with boto3, that both stacks were created, that the output reached the second
stack, and that destroy removed both. It prints PASS or FAIL per peer and the calls each made.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.peers import PEERS, peer_bin

REGION = "us-east-1"
WORK = Path(__file__).resolve().parent / ".work"

FIRST_TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  QueueArn:
    Value:
      Fn::GetAtt: [Queue, Arn]
"""

SECOND_TEMPLATE = """\
Parameters:
  QueueArn:
    Type: String
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value:
        Ref: QueueArn
Outputs:
  ParamName:
    Value:
      Ref: Param
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


@dataclass(frozen=True)
class Project:
    """A peer's project: where it lives, its deploy and destroy commands, its stack names."""

    directory: Path
    deploy: list[str]
    destroy: list[str]
    stacks: tuple[str, str]


def stacker_project(root: Path) -> Project:
    """A stacker 1.7 config with raw templates and an ``output`` lookup."""
    _write(
        root,
        {
            "templates/first.yaml": FIRST_TEMPLATE,
            "templates/second.yaml": SECOND_TEMPLATE,
            "stacker.yaml": """\
                namespace: stacker-smoke
                stacker_bucket: ""
                stacks:
                  - name: first
                    template_path: templates/first.yaml
                  - name: second
                    template_path: templates/second.yaml
                    variables:
                      QueueArn: ${output first::QueueArn}
                """,
        },
    )
    stacker = str(peer_bin(PEERS["stacker"]) / "stacker")
    return Project(
        root,
        [stacker, "build", "--region", REGION, "stacker.yaml"],
        [stacker, "destroy", "--region", REGION, "--force", "stacker.yaml"],
        ("stacker-smoke-first", "stacker-smoke-second"),
    )


def sceptre_project(root: Path) -> Project:
    """A sceptre 4 project: one stack group ``dev`` and a ``!stack_output`` resolver."""
    _write(
        root,
        {
            "templates/first.yaml": FIRST_TEMPLATE,
            "templates/second.yaml": SECOND_TEMPLATE,
            "config/config.yaml": f"""\
                project_code: sceptre-smoke
                region: {REGION}
                """,
            "config/dev/first.yaml": """\
                template:
                  path: first.yaml
                """,
            "config/dev/second.yaml": """\
                template:
                  path: second.yaml
                parameters:
                  QueueArn: !stack_output dev/first.yaml::QueueArn
                """,
        },
    )
    sceptre = str(peer_bin(PEERS["sceptre"]) / "sceptre")
    return Project(
        root,
        [sceptre, "--dir", str(root), "launch", "--yes", "dev"],
        [sceptre, "--dir", str(root), "delete", "--yes", "dev"],
        ("sceptre-smoke-dev-first", "sceptre-smoke-dev-second"),
    )


def runway_project(root: Path) -> Project:
    """A runway 2.8 deployment with one CFNgin module and a ``${output stack.Output}`` lookup."""
    _write(
        root,
        {
            "runway.yml": f"""\
                deployments:
                  - modules:
                      - path: smoke.cfn
                    regions:
                      - {REGION}
                """,
            "smoke.cfn/templates/first.yaml": FIRST_TEMPLATE,
            "smoke.cfn/templates/second.yaml": SECOND_TEMPLATE,
            # Without parameters or an environment file, runway skips the module.
            "smoke.cfn/dev.env": "namespace: runway-smoke\n",
            "smoke.cfn/cfngin.yml": """\
                namespace: ${namespace}
                cfngin_bucket: ""
                stacks:
                  - name: first
                    template_path: templates/first.yaml
                  - name: second
                    template_path: templates/second.yaml
                    variables:
                      QueueArn: ${output first.QueueArn}
                """,
        },
    )
    runway = str(peer_bin(PEERS["runway"]) / "runway")
    return Project(
        root,
        [runway, "deploy", "--ci", "--deploy-environment", "dev"],
        [runway, "destroy", "--ci", "--deploy-environment", "dev"],
        ("runway-smoke-first", "runway-smoke-second"),
    )


PROJECTS: dict[str, Callable[[Path], Project]] = {
    "stacker": stacker_project,
    "sceptre": sceptre_project,
    "runway": runway_project,
}


def peer_env(url: str, peer: str, poll_seconds: int | None = None) -> dict[str, str]:
    """The environment a peer runs in: the local endpoint, dummy credentials, its app id.

    ``poll_seconds`` sets stacker's and runway's stack status poll interval (their own
    ``STACKER_STACK_POLL_TIME`` / ``CFNGIN_STACK_POLL_TIME``, 30 s by default).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_SDK_UA_APP_ID=peer,  # call accounting counts this peer's calls under its name
        CI="1",
        DEPLOY_ENVIRONMENT="dev",
    )
    if poll_seconds is not None:
        env["STACKER_STACK_POLL_TIME"] = env["CFNGIN_STACK_POLL_TIME"] = str(poll_seconds)
    env["PATH"] = f"{peer_bin(PEERS[peer])}{os.pathsep}{env.get('PATH', '')}"
    return env


def _stack_status(cfn: Any, name: str) -> str:
    try:
        return str(cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
    except Exception as exc:  # botocore's ClientError: the stack does not exist
        if "does not exist" in str(exc):
            return "GONE"
        raise


def run_peer(
    peer: str, url: str, log_dir: Path, poll_seconds: int | None = None
) -> tuple[bool, str]:
    """Deploy, check, destroy, check; (passed, one-line reason)."""
    import boto3

    command = peer_bin(PEERS[peer]) / PEERS[peer].command
    if not command.exists():
        return False, f"not installed ({command}); run python -m bench.peers"
    root = WORK / peer
    shutil.rmtree(root, ignore_errors=True)
    project = PROJECTS[peer](root)
    env = peer_env(url, peer, poll_seconds)
    cfn = boto3.client(
        "cloudformation",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ssm = boto3.client(
        "ssm",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    log = log_dir / f"{peer}.log"
    with open(log, "w") as out:
        for step, argv in (("deploy", project.deploy), ("destroy", project.destroy)):
            out.write(f"$ {' '.join(argv)}\n")
            out.flush()
            started = time.monotonic()
            result = subprocess.run(
                argv,
                cwd=project.directory,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=600,
                check=False,
            )
            out.write(f"[{step}: exit {result.returncode} in {time.monotonic() - started:.1f}s]\n")
            out.flush()
            if result.returncode != 0:
                return False, f"{step} exited {result.returncode} (see {log})"
            statuses = [_stack_status(cfn, name) for name in project.stacks]
            if step == "deploy":
                if statuses != ["CREATE_COMPLETE", "CREATE_COMPLETE"]:
                    return False, f"after deploy the stacks are {statuses}"
                first = cfn.describe_stacks(StackName=project.stacks[0])["Stacks"][0]
                queue_arn = {o["OutputKey"]: o["OutputValue"] for o in first["Outputs"]}["QueueArn"]
                second = cfn.describe_stacks(StackName=project.stacks[1])["Stacks"][0]
                name = {o["OutputKey"]: o["OutputValue"] for o in second["Outputs"]}["ParamName"]
                value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
                if value != queue_arn:
                    return False, f"the output did not reach stack two ({value!r})"
            elif statuses != ["GONE", "GONE"]:
                return False, f"after destroy the stacks are {statuses}"
    return True, "deployed the chain (output passed along) and destroyed it"


def main(argv: list[str] | None = None) -> int:
    """Run the smoke for the named peers (all by default); exit 1 if any fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=[])
    parser.add_argument("--latency", default="resource=0.05s", help="the endpoint's latency spec")
    parser.add_argument(
        "--poll",
        type=int,
        default=2,
        help="stacker's and runway's stack poll interval in seconds (their default, 30, is for "
        "benchmarks; a smoke run does not need to wait that long); 0 keeps their default",
    )
    args = parser.parse_args(argv)
    names = args.names or list(PROJECTS)
    unknown = sorted(set(names) - set(PROJECTS))
    if unknown:
        parser.error(f"unknown peers: {', '.join(unknown)}")

    from stackyard.local.middleware import CallAccounting
    from stackyard.local.runner import LocalEndpoint

    calls = CallAccounting()
    WORK.mkdir(parents=True, exist_ok=True)
    failures = 0
    with LocalEndpoint(latency=args.latency, wrap=[calls]) as endpoint:
        print(f"local endpoint: {endpoint.url}")
        for peer in names:
            started = time.monotonic()
            passed, reason = run_peer(peer, endpoint.url, WORK, args.poll or None)
            elapsed = time.monotonic() - started
            made = calls.snapshot()["clients"].get(peer, {})
            verdict = "PASS" if passed else "FAIL"
            print(f"{verdict}  {peer:8s} {elapsed:6.1f}s  {sum(made.values()):4d} calls  {reason}")
            failures += not passed
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
