"""``fleet release`` and ``fleet status`` on the local AWS with examples/ops (stage).

Each test copies the example to its own folder (the release writes the environment
file) and deploys the pool stacks and what they need under its own namespace, then
drives the CLI in-process, pointed at the session's local endpoint.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

OPS = Path(__file__).resolve().parents[3] / "examples" / "ops"
OLD = "ami-0a1b2c3d4e5f60718"
NEW = "ami-0123456789abcdef0"


@dataclass(frozen=True)
class Run:
    """How a CLI run ended: exit code, standard output, and the error message if any."""

    exit_code: int
    output: str
    error: str


@dataclass
class Ops:
    """One deployed copy of examples/ops: its folder, namespace and clients."""

    folder: Path
    namespace: str
    url: str

    @property
    def env(self) -> Path:
        return self.folder / "stage.env"

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def cli(self, *args: str) -> Run:
        """``stackyard ARGS -e namespace=NS stage.env stackyard.yaml``, in-process."""
        from stackyard.cli.main import cli
        from stackyard.errors import StackyardError

        argv = [*args, "-e", f"namespace={self.namespace}", str(self.env)]
        argv.append(str(self.folder / "stackyard.yaml"))
        result = CliRunner().invoke(cli, argv, env={"NO_COLOR": "1", "COLUMNS": "200"})
        error = result.exception
        if isinstance(error, StackyardError):  # main() turns these into message + code
            return Run(error.exit_code, result.output, str(error))
        if error is not None and not isinstance(error, SystemExit):
            raise error
        return Run(result.exit_code, result.output, "")

    def templates(self) -> dict[str, tuple[int, str]]:
        """Per pool: (latest version, its AMI), read through EC2."""
        ec2 = self.client("ec2")
        out: dict[str, tuple[int, str]] = {}
        for pool in ("web", "worker"):
            name = f"{self.namespace}-pool-{pool}-{pool}"
            versions = ec2.describe_launch_template_versions(
                LaunchTemplateName=name, Versions=["$Latest"]
            )["LaunchTemplateVersions"]
            out[pool] = (versions[0]["VersionNumber"], versions[0]["LaunchTemplateData"]["ImageId"])
        return out


def deploy(url: str, folder: Path) -> Ops:
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.aws.poller import PollPolicy
    from stackyard.aws.session import ClientFactory
    from stackyard.engine.run import RunOptions, build
    from stackyard.project import Project

    namespace = f"fl-{uuid.uuid4().hex[:8]}"
    project = Project.load(
        str(folder / "stackyard.yaml"),
        environment_file=str(folder / "stage.env"),
        overrides={"namespace": namespace},
        region="us-east-1",
    )
    gateway = CloudFormationGateway(ClientFactory(endpoint_url=url, max_attempts=10))
    poll = PollPolicy(min_interval=0.05, max_interval=0.5)
    result = build(project, RunOptions(stacks=("pool-web", "pool-worker"), poll=poll), gateway)
    assert result.ok, result.summary()
    return Ops(folder, namespace, url)


@pytest.fixture
def ops(local_endpoint: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ops:
    import stackyard.local.embedded

    @contextlib.contextmanager
    def endpoint(start_if_missing: bool = True, **_: Any) -> Iterator[str]:
        yield local_endpoint.url

    monkeypatch.setattr(stackyard.local.embedded, "local_endpoint_url", endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    folder = tmp_path / "ops"
    shutil.copytree(OPS, folder)
    return deploy(local_endpoint.url, folder)


def test_release_updates_every_pool_then_a_second_run_is_a_noop(ops: Ops) -> None:
    assert ops.templates() == {"web": (1, OLD), "worker": (1, OLD)}

    released = ops.cli("fleet", "release", "--local", "--yes", "--ami", NEW)
    assert released.exit_code == 0, released.output
    out = released.output
    assert "WebLaunchTemplate" in out and "WorkerAutoScalingGroup" in out
    assert "one at a time: pool-web then pool-worker" in out
    assert out.index("pool-web: complete") < out.index("pool-worker: checking")
    assert ops.templates() == {"web": (2, NEW), "worker": (2, NEW)}
    assert f"ami_id: {NEW}\n" in ops.env.read_text()  # the config records the release

    again = ops.cli("fleet", "release", "--local", "--yes", "--ami", NEW)
    assert again.exit_code == 0, again.output
    assert f"nothing to release: every selected pool runs {NEW}" in again.output
    assert ops.templates() == {"web": (2, NEW), "worker": (2, NEW)}

    # A plain build afterwards reads the recorded AMI: nothing rolls back.
    build = ops.cli("build", "--local", "--stacks", "pool-web", "--stacks", "pool-worker")
    assert build.exit_code == 0, build.output
    assert ops.templates() == {"web": (2, NEW), "worker": (2, NEW)}

    status = ops.cli("fleet", "status", "--local", "--json")
    assert status.exit_code == 0, status.output
    pools = {p["pool"]: p for p in json.loads(status.output)["pools"]}
    assert {(p["config_ami"], p["deployed_ami"], p["state"]) for p in pools.values()} == {
        (NEW, NEW, "in sync")
    }
    assert pools["web"]["template_version"] == "2"


def test_one_pool_with_its_own_key_rolls_alone_and_status_shows_the_other_pending(
    ops: Ops,
) -> None:
    config = ops.folder / "stackyard.yaml"
    text = config.read_text()
    worker = text.index("- name: pool-worker")
    config.write_text(text[:worker] + text[worker:].replace("${ami_id}", "${worker_ami_id}", 1))
    ops.env.write_text(ops.env.read_text() + f"worker_ami_id: {OLD}\n")

    released = ops.cli(
        "fleet", "release", "--local", "--yes", "--parallel", "--ami", NEW, "--pools", "worker"
    )
    assert released.exit_code == 0, released.output
    assert ops.templates() == {"web": (1, OLD), "worker": (2, NEW)}
    assert f"ami_id: {OLD}\n" in ops.env.read_text()
    assert f"worker_ami_id: {NEW}\n" in ops.env.read_text()

    # Someone sets the web key by hand without building: status says a release is pending.
    ops.env.write_text(ops.env.read_text().replace(f"ami_id: {OLD}", f"ami_id: {NEW}", 1))
    status = ops.cli("fleet", "status", "--local")
    assert status.exit_code == 0, status.output
    lines = {line.split()[0]: line for line in status.output.splitlines()[1:] if line.strip()}
    assert "release pending" in lines["web"] and f"{OLD} (v1)" in lines["web"]
    assert "in sync" in lines["worker"] and f"{NEW} (v2)" in lines["worker"]


def test_parallel_release_rolls_the_pools_at_once(ops: Ops) -> None:
    released = ops.cli("fleet", "release", "--local", "--yes", "--parallel", "--ami", NEW)
    assert released.exit_code == 0, released.output
    assert "Rolls 2 stack(s) all at once" in released.output
    assert "build: 2 complete" in released.output  # one build of both stacks
    assert ops.templates() == {"web": (2, NEW), "worker": (2, NEW)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--ami", "ami-123"), "'ami-123' is not an AMI ID"),
        (("--ami", NEW, "--pools", "wbe"), "did you mean 'web'?"),
        (("--ami", NEW, "--pools", "web"), "shares environment key 'ami_id' with pool 'worker'"),
    ],
)
def test_bad_input_is_refused_before_anything_changes(
    ops: Ops, args: tuple[str, ...], message: str
) -> None:
    before = ops.env.read_text()
    result = ops.cli("fleet", "release", "--local", "--yes", *args)
    assert result.exit_code == 2
    assert message in result.error
    assert ops.env.read_text() == before
    assert ops.templates() == {"web": (1, OLD), "worker": (1, OLD)}


def test_release_without_a_terminal_needs_yes(ops: Ops) -> None:
    result = ops.cli("fleet", "release", "--local", "--ami", NEW)
    assert result.exit_code == 2
    assert "refusing to roll pools without confirmation" in result.error
    assert "WebLaunchTemplate" in result.output  # the plan was shown
    assert ops.templates() == {"web": (1, OLD), "worker": (1, OLD)}
