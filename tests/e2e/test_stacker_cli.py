"""stacker 1.7's whole command line, through the installed ``stackyard`` against the local AWS.

Every option of stacker 1.7.2's ``build``, ``destroy``, ``diff``, ``info`` and ``graph`` is
accepted (the option lists are read from the real stacker, installed in its own virtualenv
as the benchmark installs it), and each behaves as stacker's did. Where the output needs no
AWS (``graph``, ``build --outline``, ``build --dump``) the real stacker runs on the same
project and the results are compared. One ``stackyard local up`` serves the module; each
test has its own namespace.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pty
import re
import select
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACKYARD = Path(sys.executable).with_name("stackyard")
COMMANDS = ("build", "destroy", "diff", "info", "graph")

PARAM = {
    "Parameters": {"Value": {"Type": "String"}},
    "Resources": {
        "Param": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "Value"}},
        }
    },
    "Outputs": {"Value": {"Value": {"Ref": "Value"}}},
}
QUEUE = {
    "Parameters": {"Name": {"Type": "String"}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}}}
    },
    "Outputs": {"Name": {"Value": {"Ref": "Name"}}},
}
BUCKET = {
    "Parameters": {"BucketName": {"Type": "String"}},
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "BucketName"}}}
    },
}
# `top` needs `base` (requires) and `queue` (an output); `lonely` needs nothing.
PROJECT = """\
namespace: ${namespace}
stacker_bucket: ""
pre_build:
  - path: stacker.hooks.command.run_command
    args: {command: [touch, pre-build-ran]}
stacks:
  - name: base
    template_path: param.json
    variables: {Value: "${value}"}
  - name: queue
    template_path: queue.json
    variables: {Name: "${namespace}-${queue}"}
  - name: top
    template_path: param.json
    requires: [base]
    variables: {Value: "${output queue::Name}"}
  - name: lonely
    template_path: param.json
    variables: {Value: lonely}
"""


@dataclass
class Env:
    """The local AWS, a project folder, and the real stacker; ``run`` runs stackyard there."""

    folder: Path
    environ: dict[str, str]
    url: str
    stacker: Path

    def run(
        self, *args: str, stdin: str | None = "", **env: str | None
    ) -> subprocess.CompletedProcess[str]:
        """stackyard ARGS in the project folder; ``env`` adds variables (None removes one)."""
        environ = {**self.environ, **env}
        return subprocess.run(
            [str(STACKYARD), *args],
            cwd=self.folder,
            env={k: v for k, v in environ.items() if v is not None},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def run_stacker(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The real stacker 1.7.2 on the same folder (and, through AWS_ENDPOINT_URL, the same
        local AWS)."""
        return subprocess.run(
            [str(self.stacker), *args],
            cwd=self.folder,
            env={**self.environ, "AWS_ENDPOINT_URL": self.url},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def project(self, text: str = PROJECT, **values: str) -> list[str]:
        """A config and an environment file of its own; the arguments that name them."""
        ns = f"s{uuid.uuid4().hex[:8]}"
        config = self.folder / f"{ns}.yaml"
        config.write_text(textwrap.dedent(text))
        env = self.folder / f"{ns}.env"
        settings = {"namespace": ns, "value": "one", "queue": "q1", **values}
        env.write_text("".join(f"{k}: {v}\n" for k, v in settings.items()))
        return [env.name, config.name]

    def cfn(self, region: str = "us-east-1") -> Any:
        import boto3

        return boto3.client(
            "cloudformation",
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stacks(self, files: list[str], region: str = "us-east-1") -> dict[str, dict[str, Any]]:
        """This project's live stacks, by name in the config, with their parameters."""
        ns = files[0].removesuffix(".env")
        out: dict[str, dict[str, Any]] = {}
        for stack in self.cfn(region).describe_stacks()["Stacks"]:
            if stack["StackName"].startswith(f"{ns}-"):
                params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
                out[stack["StackName"].removeprefix(f"{ns}-")] = params
        return out


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    peers = ROOT / "bench" / ".peers"
    peers.mkdir(parents=True, exist_ok=True)
    # Test workers (and other modules) may install at once: one at a time, the rest reuse it.
    with (peers / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = subprocess.run(
            [sys.executable, "-m", "bench.peers", "stacker"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    if installed.returncode != 0:
        pytest.fail(f"installing stacker 1.7.2 failed:\n{installed.stdout}{installed.stderr}")
    stacker = ROOT / "bench" / ".peers" / "stacker" / "bin" / "stacker"
    root = tmp_path_factory.mktemp("stacker-cli")
    folder = root / "project"
    folder.mkdir()
    for name, body in (("param.json", PARAM), ("queue.json", QUEUE), ("bucket.json", BUCKET)):
        # Indented as stackyard renders raw templates, so stacker's verbatim copy is the same.
        (folder / name).write_text(json.dumps(body, indent=4))
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "NO_COLOR": "1",
        "COLUMNS": "160",
        "STACKYARD_HOME": str(root / "home"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(root / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(root / "aws-credentials"),
    }
    (root / "aws-config").write_text(
        "[profile stage]\nregion = ap-southeast-2\n"
        "aws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    (root / "aws-credentials").write_text("")
    up = subprocess.run(
        [str(STACKYARD), "local", "up", "--port", "0", "--latency", "resource=0.2s"],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if up.returncode != 0:
        pytest.fail(f"stackyard local up failed: {up.stderr}")
    url = re.search(r"http://127\.0\.0\.1:\d+", up.stdout)
    assert url is not None, up.stdout
    try:
        yield Env(folder, environ, url.group(0), stacker)
    finally:
        subprocess.run([str(STACKYARD), "local", "down"], cwd=folder, env=environ, timeout=60)


def _ok(result: subprocess.CompletedProcess[str], code: int = 0) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    return result.stdout


# --- every option is accepted ---------------------------------------------------------------

_OPTIONS = """\
import argparse, json
from stacker.commands.stacker import build, destroy, diff, graph, info
out = {}
for module, cls in ((build, "Build"), (destroy, "Destroy"), (diff, "Diff"), (info, "Info"),
                    (graph, "Graph")):
    command = getattr(module, cls)()
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    out[command.name] = {
        "options": [
            {"strings": a.option_strings, "dest": a.dest, "value": a.nargs != 0}
            for a in parser._actions if a.option_strings and a.dest != "help"
        ],
        "positional": [a.dest for a in parser._actions if not a.option_strings],
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def stacker_options(env: Env) -> dict[str, dict[str, Any]]:
    """Each command's options as stacker 1.7.2's own parser has them."""
    python = env.stacker.with_name("python")
    found = subprocess.run(
        [str(python), "-c", _OPTIONS], capture_output=True, text=True, timeout=120, check=True
    )
    options: dict[str, dict[str, Any]] = json.loads(found.stdout)
    return options


@pytest.mark.parametrize("command", COMMANDS)
def test_every_stacker_option_is_in_the_help(
    env: Env, stacker_options: dict[str, dict[str, Any]], command: str
) -> None:
    assert stacker_options[command]["positional"] == ["environment", "config"]
    options = stacker_options[command]["options"]
    assert len(options) >= 8  # the list really was read
    shown = _ok(env.run(command, "--help"))
    for option in (s for o in options for s in o["strings"]):
        assert re.search(rf"(^|[\s,]){re.escape(option)}([\s,=]|$)", shown, re.M), (
            f"stackyard {command} does not take stacker's {option}"
        )
    assert "[ENVIRONMENT_FILE] CONFIG" in shown


# A value for each of stacker's options that takes one, by its argparse dest.
_VALUES = {
    "cli_envs": "value=one",
    "region": "us-east-1",
    "profile": "stage",
    "force": "lonely",
    "targets": "lonely",
    "stacks": "lonely",
    "max_parallel": "1",
    "format": "json",
}
_SMALL = """\
namespace: ${namespace}
stacker_bucket: ""
stacks:
  - {name: base, template_path: param.json, variables: {Value: "${value}"}}
  - {name: lonely, template_path: param.json, requires: [base], variables: {Value: x}}
"""


@pytest.mark.parametrize("command", COMMANDS)
def test_each_stacker_option_runs_against_the_local_aws(
    env: Env, stacker_options: dict[str, dict[str, Any]], command: str
) -> None:
    """Every spelling of every option stacker's parser has, once each, on a real run (what
    each one does is checked by the tests below)."""
    files = env.project(_SMALL)
    if command == "destroy":
        _ok(env.run("build", "--local", *files))
    ran = 0
    for option in stacker_options[command]["options"]:
        for spelling in option["strings"]:
            args: list[str] = [spelling]
            if option["value"]:
                value = (
                    str(env.folder / f"dump-{uuid.uuid4().hex[:6]}")
                    if option["dest"] == "dump"
                    else _VALUES[option["dest"]]
                )
                args.append(value)
            where = [] if command == "graph" else ["--local"]
            # destroy asks first, on a pipe only with -i (answered y here).
            sure = ["--yes"] if command == "destroy" and option["dest"] != "interactive" else []
            result = env.run(command, *where, *args, *sure, *files, stdin="y\n" * 4)
            assert result.returncode == 0, (spelling, result.stdout + result.stderr)
            ran += 1
        if command == "destroy":
            _ok(env.run("build", "--local", *files))  # something to delete for the next one
    assert ran == sum(len(o["strings"]) for o in stacker_options[command]["options"])


# --- graph --------------------------------------------------------------------------------


def test_graph_json_and_dot_have_stackers_shapes(env: Env) -> None:
    files = env.project()
    common = ["-e", "value=two", "-r", "eu-west-1", "-p", "stage", "-v"]
    stacker_only = ["-i", "--replacements-only", "--recreate-failed"]
    for reduce in ([], ["--reduce"]):
        ours = json.loads(_ok(env.run("graph", "-f", "json", *reduce, *common, *files)))
        theirs_run = env.run_stacker("graph", "-f", "json", *reduce, *common, *stacker_only, *files)
        theirs = json.loads(_ok(theirs_run))
        assert {k: sorted(v["deps"]) for k, v in ours["steps"].items()} == {
            k: sorted(v["deps"]) for k, v in theirs["steps"].items()
        }
        assert ours["steps"]["top"] == {"deps": ["base", "queue"]}
        # The same, with stacker's flags that mean nothing to a graph.
        again = env.run("graph", "--format", "json", *reduce, *common, *stacker_only, *files)
        assert json.loads(_ok(again)) == ours

    dot = _ok(env.run("graph", "-f", "dot", *files))
    theirs_dot = _ok(env.run_stacker("graph", "-f", "dot", *files))
    edge = re.compile(r'^  "(\w+)" -> "(\w+)";$', re.M)
    assert dot.splitlines()[0] == theirs_dot.splitlines()[0] == "digraph digraph {"
    assert (
        set(edge.findall(dot))
        == set(edge.findall(theirs_dot))
        == {
            ("top", "base"),
            ("top", "queue"),
        }
    )
    assert '  "lonely";' in dot  # stacker left a stack with no edge out of the picture
    assert _ok(env.run("graph", *files)) == dot  # dot is the default, as in stacker
    assert env.run("graph", "-f", "png", *files).returncode == 2


# --- build --outline and --dump -------------------------------------------------------------


def _order_ok(steps: list[str]) -> None:
    assert steps.index("base") < steps.index("top") and steps.index("queue") < steps.index("top")


def test_outline_prints_the_steps_and_changes_nothing(env: Env) -> None:
    files = env.project()
    out = _ok(env.run("build", "--local", "-o", *files))
    lines = out.splitlines()
    assert lines[0] == 'Plan "Create/Update stacks":'
    step = re.compile(r'^  - step: (\d+): target: "(\w+)", action: "(\w+)"$')
    ours = [step.match(line) for line in lines[1:]]
    assert all(ours), out
    steps = [m.group(2) for m in ours if m]
    assert [int(m.group(1)) for m in ours if m] == [1, 2, 3, 4]
    _order_ok(steps)
    theirs = env.run_stacker("build", "--outline", *files)
    listed = re.findall(r'- step: \d+: target: "(\w+)"', theirs.stderr)
    assert sorted(listed) == sorted(steps), theirs.stderr
    # No stack, no hook.
    assert env.stacks(files) == {}
    assert not (env.folder / "pre-build-ran").exists()
    # --stacks narrows it to what the stack needs.
    narrowed = _ok(env.run("build", "--outline", "--stacks", "top", *files))
    assert re.findall(r'target: "(\w+)"', narrowed) != []
    assert sorted(re.findall(r'target: "(\w+)"', narrowed)) == ["base", "queue", "top"]


def test_dump_writes_templates_where_stacker_did_and_creates_nothing(env: Env) -> None:
    # stacker's --dump stops at an output of a stack that is not deployed: none here.
    files = env.project(PROJECT.replace("${output queue::Name}", "${queue}"))
    ns = files[0].removesuffix(".env")
    out = _ok(env.run("build", "--local", "-d", "ours", *files))
    _ok(env.run_stacker("build", "--dump", "theirs", *files))
    ours = sorted(p.relative_to(env.folder / "ours") for p in (env.folder / "ours").rglob("*.json"))
    theirs = sorted(
        p.relative_to(env.folder / "theirs") for p in (env.folder / "theirs").rglob("*.json")
    )
    assert ours == theirs
    assert len(ours) == 4
    for path in ours:
        text = (env.folder / "ours" / path).read_text()
        assert text == (env.folder / "theirs" / path).read_text()
        name = path.name.rsplit("-", 1)[0]
        assert path.parts[:2] == ("stack_templates", f"{ns}-{name}")
        assert path.name == f"{name}-{hashlib.md5(text.encode()).hexdigest()[:8]}.json"
        assert json.loads(text)["Resources"]
    assert f"top: wrote ours/stack_templates/{ns}-top/" in out
    assert env.stacks(files) == {}
    assert not (env.folder / "pre-build-ran").exists()


def test_dump_reads_aws_only_for_values_a_template_holds(env: Env) -> None:
    """A Jinja template that writes another stack's output into itself: read from the local
    AWS once that stack exists; a placeholder, said so, before."""
    (env.folder / "named.json.j2").write_text(
        json.dumps(
            {
                "Resources": {
                    "Param": {
                        "Type": "AWS::SSM::Parameter",
                        "Properties": {"Type": "String", "Value": "{{ variables.Name }}"},
                    }
                }
            }
        )
    )
    files = env.project(
        PROJECT
        + "  - name: named\n    template_path: named.json.j2\n"
        + '    variables: {Name: "${output queue::Name}"}\n'
    )
    ns = files[0].removesuffix(".env")
    before = env.run("build", "--local", "-d", "early", "--stacks", "named", *files)
    _ok(before)
    assert "named: values from stacks that are not deployed yet" in before.stderr
    _ok(env.run("build", "--local", "--stacks", "queue", *files))
    _ok(env.run("build", "--local", "-d", "late", "--stacks", "named", *files))
    (written,) = (env.folder / "late" / "stack_templates" / f"{ns}-named").glob("*.json")
    assert json.loads(written.read_text())["Resources"]["Param"]["Properties"]["Value"] == (
        f"{ns}-q1"
    )
    assert set(env.stacks(files)) == {"queue"}


# --- --tail ---------------------------------------------------------------------------------


def test_tail_streams_the_events_of_the_stacks_being_built_and_destroyed(env: Env) -> None:
    files = env.project()
    ns = files[0].removesuffix(".env")
    out = _ok(env.run("build", "--local", "-t", "--stacks", "top", *files))
    events = re.findall(r"\[(\S+)\] (\S+) (\S+) (\S+)", out)
    for stack in ("base", "queue", "top"):
        mine = [
            (status, kind, logical)
            for fqn, status, kind, logical in events
            if fqn == f"{ns}-{stack}"
        ]
        assert ("CREATE_IN_PROGRESS", "AWS::CloudFormation::Stack", f"{ns}-{stack}:") in mine
        assert mine[-1] == ("CREATE_COMPLETE", "AWS::CloudFormation::Stack", f"{ns}-{stack}")
        resource = "Queue" if stack == "queue" else "Param"
        assert any(s == "CREATE_COMPLETE" and logical == resource for s, _, logical in mine)
    assert f"[{ns}-lonely]" not in out  # only the stacks being built
    # Events come as they happen: base's last event is out before top starts.
    lines = out.splitlines()
    base_done = next(
        i
        for i, line in enumerate(lines)
        if f"[{ns}-base] CREATE_COMPLETE AWS::CloudFormation" in line
    )
    top_started = next(
        i for i, line in enumerate(lines) if f"[{ns}-top] CREATE_IN_PROGRESS" in line
    )
    assert base_done < top_started

    quiet = _ok(env.run("build", "--local", *files))
    assert f"[{ns}-lonely]" not in quiet  # no events without -t

    gone = _ok(env.run("destroy", "--local", "--tail", "--force", *files))
    for stack in ("base", "queue", "top", "lonely"):
        assert f"[{ns}-{stack}] DELETE_COMPLETE AWS::CloudFormation::Stack {ns}-{stack}" in gone
    assert env.stacks(files) == {}


# --- -i / --interactive ----------------------------------------------------------------------


def test_interactive_reads_answers_from_a_pipe(env: Env) -> None:
    files = env.project()
    prompt = "Apply the changes to {}? [y]es / [n]o / [v]iew full diff: "

    declined = env.run("build", "--local", "-i", *files, stdin="n\n")
    out = _ok(declined, 3)
    assert prompt.format("base") + "n" in out
    assert prompt.format("top") not in out  # it needs base, declined: not asked
    assert "(no more input: no)" in out  # lonely: the answers ran out
    assert env.stacks(files) == {}

    built = env.run("build", "--local", "--interactive", *files, stdin="y\nv\ny\ny\ny\n")
    out = _ok(built)
    assert out.count("[v]iew full diff: y") == 4
    assert "queue (" in out and "Properties.QueueName" not in out  # short form first
    assert set(env.stacks(files)) == {"base", "queue", "top", "lonely"}

    # An update: "n" leaves the stack as it is, "y" changes it.
    again = env.run("build", "--local", "-i", "-e", "value=two", *files, stdin="n\n")
    _ok(again, 3)
    assert "base: not changed (declined)" in again.stdout
    assert env.stacks(files)["base"] == {"Value": "one"}
    assert prompt.format("lonely") not in again.stdout  # nothing to change: not asked
    _ok(env.run("build", "--local", "-i", "-e", "value=two", *files, stdin="y\n"))
    assert env.stacks(files)["base"] == {"Value": "two"}


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def test_interactive_on_a_terminal_asks_each_stack_with_the_progress_view_paused(
    env: Env,
) -> None:
    files = env.project()
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(STACKYARD), "build", "--local", "-i", "--stacks", "top", *files],
        cwd=env.folder,
        env={**env.environ, "TERM": "xterm"},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    seen = ""

    def until(pattern: str, timeout: float = 60) -> bool:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                continue
            try:
                seen += os.read(master, 65536).decode(errors="replace")
            except OSError:  # the child closed the terminal
                return bool(re.search(pattern, _ANSI.sub("", seen)))
            if re.search(pattern, _ANSI.sub("", seen)):
                return True
        return False

    try:
        for answer, name in (("y", "base"), ("n", "queue")):
            assert until(rf"Apply the changes to {name}\? \[y\]es"), _ANSI.sub("", seen)
            os.write(master, f"{answer}\n".encode())
        assert until(r"queue: not changed \(declined\)"), _ANSI.sub("", seen)
        assert proc.wait(timeout=60) == 3
    finally:
        proc.kill()
        os.close(master)
    text = _ANSI.sub("", seen)
    assert "Apply the changes to top?" not in text  # it needs queue, declined
    assert "build: 2 cancelled, 1 complete" in text
    assert set(env.stacks(files)) == {"base"}


def test_replacements_only(env: Env) -> None:
    files = env.project()
    _ok(env.run("build", "--local", *files))
    both = ["-e", "value=two", "-e", "queue=q2"]

    shown = _ok(env.run("diff", "--local", "--replacements-only", *both, *files))
    assert "queue" in shown and "Queue" in shown and "replace" in shown
    assert "base" not in shown and "Param" not in shown
    code = env.run("diff", "--local", "--replacements-only", "--detailed-exitcode", *both, *files)
    assert code.returncode == 2
    plain = env.run(
        "diff", "--local", "--replacements-only", "--detailed-exitcode", "-e", "value=two", *files
    )
    assert _ok(plain).strip() == "no replacements"
    everything = _ok(env.run("diff", "--local", "-i", *both, *files))
    assert "base" in everything and "queue" in everything  # -i: diff still shows it all

    # build -i --replacements-only asks only about the replacement; the rest just runs.
    built = env.run("build", "--local", "-i", "--replacements-only", *both, *files, stdin="n\n")
    out = _ok(built, 3)
    assert "Apply the changes to queue?" in out
    assert "Apply the changes to base?" not in out
    stacks = env.stacks(files)
    assert stacks["base"] == {"Value": "two"} and stacks["queue"] == {"Name": f"{files[0][:-4]}-q1"}


# --- --recreate-failed ------------------------------------------------------------------------


def test_recreate_failed(env: Env) -> None:
    files = env.project(
        'namespace: ${namespace}\nstacker_bucket: ""\nstacks:\n'
        "  - {name: store, template_path: bucket.json, variables: {BucketName: ${bucket}}}\n",
        bucket=f"taken-{uuid.uuid4().hex[:8]}",
    )
    bucket = (env.folder / files[0]).read_text().split("bucket: ")[1].strip()
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=env.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=bucket)
    _ok(env.run("build", "--local", *files), 1)
    again = env.run("build", "--local", *files)
    _ok(again, 1)
    assert "--recreate-failed" in again.stdout
    s3.delete_bucket(Bucket=bucket)
    diff = _ok(env.run("diff", "--local", "--recreate-failed", *files))
    assert "recreate failed" in diff
    _ok(env.run("info", "--local", "--recreate-failed", *files))  # accepted; no effect
    _ok(env.run("graph", "--recreate-failed", *files))
    recreated = _ok(env.run("build", "--local", "--recreate-failed", *files))
    assert "store: complete" in recreated
    cfn = env.cfn()
    fqn = f"{files[0][:-4]}-store"
    assert cfn.describe_stacks(StackName=fqn)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_interactive_offers_to_recreate_a_failed_stack(env: Env) -> None:
    bucket = f"taken-{uuid.uuid4().hex[:8]}"
    files = env.project(
        'namespace: ${namespace}\nstacker_bucket: ""\nstacks:\n'
        "  - {name: store, template_path: bucket.json, variables: {BucketName: ${bucket}}}\n",
        bucket=bucket,
    )
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=env.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=bucket)
    _ok(env.run("build", "--local", *files), 1)
    s3.delete_bucket(Bucket=bucket)
    # stacker's -i turned --recreate-failed on, asking first.
    kept = env.run("build", "--local", "-i", *files, stdin="n\n")
    assert "recreate failed" in _ok(kept, 3)
    recreated = env.run("build", "--local", "-i", *files, stdin="y\n")
    assert "store: complete" in _ok(recreated)


# --- -j, --stacks/--targets, --force, -e, -r, -p, -v, the files ----------------------------


def _overlap(out: str) -> int:
    """The most stacks ever between "creating" (or "deleting") and done in the progress lines."""
    busy: set[str] = set()
    peak = 0
    for line in out.splitlines():
        found = re.match(r"\d\d:\d\d:\d\d (\w+): (creating|deleting|complete)", line)
        if not found:
            continue
        name, what = found.groups()
        if what == "complete":
            busy.discard(name)
        else:
            busy.add(name)
        peak = max(peak, len(busy))
    return peak


def test_max_parallel(env: Env) -> None:
    files = env.project()
    assert _overlap(_ok(env.run("build", "--local", "-j", "1", *files))) == 1
    assert _overlap(_ok(env.run("destroy", "--local", "-f", "--max-parallel", "1", *files))) == 1
    wide = env.project()
    assert _overlap(_ok(env.run("build", "--local", *wide))) >= 2  # without -j: in parallel


def test_stacks_and_targets_select_a_stack_and_what_it_needs(env: Env) -> None:
    files = env.project()
    _ok(env.run("build", "--local", "--targets", "top", *files))
    assert set(env.stacks(files)) == {"base", "queue", "top"}
    _ok(env.run("build", "--local", "--stacks", "lonely", *files))
    assert set(env.stacks(files)) == {"base", "queue", "top", "lonely"}
    info = json.loads(_ok(env.run("info", "--local", "--json", "--stacks", "lonely", *files)))
    assert [s["name"] for s in info["stacks"]] == ["lonely"]
    diff = _ok(env.run("diff", "--local", "--stacks", "base", "-e", "value=two", *files))
    assert "base" in diff and "lonely" not in diff
    # destroy --targets/--stacks: that stack and what depends on it.
    _ok(env.run("destroy", "--local", "-f", "--targets", "lonely", *files))
    assert set(env.stacks(files)) == {"base", "queue", "top"}
    _ok(env.run("destroy", "--local", "-f", "--stacks", "base", *files))
    assert set(env.stacks(files)) == {"queue"}


def test_force_updates_a_locked_stack(env: Env) -> None:
    locked = PROJECT.replace("  - name: lonely\n", "  - name: lonely\n    locked: true\n").replace(
        "variables: {Value: lonely}", 'variables: {Value: "${value}"}'
    )
    files = env.project(locked)
    _ok(env.run("build", "--local", *files))
    changed = ["-e", "value=two"]
    skipped = _ok(env.run("build", "--local", *changed, *files))
    assert "lonely: skipped: locked" in skipped
    assert env.stacks(files)["lonely"] == {"Value": "one"}
    diff = _ok(env.run("diff", "--local", "--force", "lonely", *changed, *files))
    assert re.search(r"lonely .*: update", diff)
    _ok(env.run("build", "--local", "--force", "lonely", *changed, *files))
    assert env.stacks(files)["lonely"] == {"Value": "two"}


def test_environment_file_env_values_and_config_from_stdin(env: Env) -> None:
    env_file, config = env.project()
    ns = env_file.removesuffix(".env")
    # -e overrides the environment file.
    _ok(env.run("build", "--local", "--env", "value=three", "--stacks", "base", env_file, config))
    assert env.stacks([env_file])["base"] == {"Value": "three"}
    # The environment file is optional (stacker: `[environment] config`).
    alone = ["-e", f"namespace={ns}", "-e", "value=four", "-e", "queue=q1", config]
    _ok(env.run("build", "--local", "--stacks", "base", *alone))
    assert env.stacks([env_file])["base"] == {"Value": "four"}
    # `-` reads the config from standard input.
    text = (env.folder / config).read_text()
    _ok(env.run("build", "--local", "--stacks", "base", env_file, "-", stdin=text))
    assert env.stacks([env_file])["base"] == {"Value": "one"}
    _ok(env.run("destroy", "--local", "-f", env_file, "-", stdin=text))
    assert env.stacks([env_file]) == {}


def test_region_and_profile(env: Env) -> None:
    files = env.project()
    _ok(env.run("build", "--local", "-r", "eu-west-1", "--stacks", "base", *files))
    assert set(env.stacks(files, "eu-west-1")) == {"base"}
    assert env.stacks(files) == {}
    info = json.loads(_ok(env.run("info", "--local", "--region", "eu-west-1", "--json", *files)))
    assert {s["name"]: s["status"] for s in info["stacks"]}["base"] == "CREATE_COMPLETE"
    # A profile gives credentials and a region (here through AWS_ENDPOINT_URL, as --local
    # replaces the profile's credentials with the local endpoint's).
    # AWS_DEFAULT_REGION would win over the profile's region, as it does for boto3.
    endpoint: dict[str, str | None] = {"AWS_ENDPOINT_URL": env.url, "AWS_DEFAULT_REGION": None}
    _ok(env.run("build", "-p", "stage", "--stacks", "base", *files, **endpoint))
    assert set(env.stacks(files, "ap-southeast-2")) == {"base"}
    shown = _ok(
        env.run("info", "--profile", "stage", "--json", "--stacks", "base", *files, **endpoint)
    )
    assert json.loads(shown)["stacks"][0]["status"] == "CREATE_COMPLETE"
    missing = env.run("build", "-p", "nosuch", "--stacks", "base", *files, **endpoint)
    assert missing.returncode != 0 and "AWS profile 'nosuch' not found" in missing.stderr


def test_verbose_shows_more(env: Env) -> None:
    files = env.project()
    quiet = _ok(env.run("build", "--local", *files))
    assert "top: waiting" not in quiet
    _ok(env.run("destroy", "--local", "-f", *files))
    loud = _ok(env.run("build", "--local", "-v", *files))
    assert "top: waiting: on queue" in loud or "top: waiting: on base, queue" in loud
    louder = _ok(env.run("info", "--local", "-vv", *files))
    assert "base" in louder


def test_destroy_force_deletes_without_asking(env: Env) -> None:
    files = env.project()
    _ok(env.run("build", "--local", *files))
    refused = env.run("destroy", "--local", *files)
    _ok(refused, 2)  # no terminal, no --force: nothing is deleted (stacker: a dry run)
    assert "--force" in refused.stderr
    assert len(env.stacks(files)) == 4
    declined = env.run("destroy", "--local", "-i", *files, stdin="n\n")
    assert "destroy: declined; nothing changed" in _ok(declined, 3)
    assert len(env.stacks(files)) == 4
    _ok(env.run("destroy", "--local", "-f", "--stacks", "lonely", *files))
    assert set(env.stacks(files)) == {"base", "queue", "top"}
    _ok(env.run("destroy", "--local", "--force", *files))
    assert env.stacks(files) == {}


def test_info_takes_stackers_options(env: Env) -> None:
    files = env.project()
    _ok(env.run("build", "--local", "--stacks", "base", *files))
    shown = _ok(
        env.run(
            "info",
            "--local",
            "-i",
            "--replacements-only",
            "--recreate-failed",
            "-v",
            "-e",
            "value=x",
            "--stacks",
            "base",
            *files,
        )
    )
    assert "CREATE_COMPLETE" in shown and "Value = one" in shown


def test_scripts_that_call_stacker_run_unchanged(env: Env) -> None:
    # Installing stackyard installs a `stacker` command: stackyard under stacker's name.
    ours = Path(sys.executable).with_name("stacker")
    assert ours.exists() and ours != env.stacker
    files = env.project()

    def stacker(*args: str) -> subprocess.CompletedProcess[str]:
        environ = {**env.environ, "AWS_ENDPOINT_URL": env.url}
        return subprocess.run(
            [str(ours), *args],
            cwd=env.folder,
            env=environ,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    _ok(stacker("build", *files))
    assert set(env.stacks(files)) == {"base", "queue", "top", "lonely"}
    _ok(stacker("destroy", "--force", *files))
    assert env.stacks(files) == {}
