"""The installed CLI, as a user runs it: diff, plan, apply, approvals on a terminal and in CI,
and secrets that never leak. One ``stackyard local up`` serves the whole module."""

from __future__ import annotations

import base64
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import cli_in, local_client

STACKYARD = Path(sys.executable).with_name("stackyard")

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
SECRETS = {
    "Parameters": {
        "Plain": {"Type": "String"},
        "Hidden": {"Type": "String", "NoEcho": True},
        "FromSsm": {"Type": "String"},
        "FromKms": {"Type": "String"},
    },
    "Resources": {
        "Param": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Type": "String",
                "Value": {"Fn::Sub": "${Plain}:${Hidden}:${FromSsm}:${FromKms}"},
            },
        }
    },
    "Outputs": {"Plain": {"Value": {"Ref": "Plain"}}},
}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


@dataclass
class Env:
    """One local AWS endpoint and a project folder; ``run`` runs the CLI in that folder."""

    folder: Path
    environ: dict[str, str]
    url: str

    def run(self, *args: str, stdin: str | None = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(STACKYARD), *args],
            cwd=self.folder,
            env=self.environ,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def config(self, text: str) -> str:
        name = f"c-{uuid.uuid4().hex[:8]}.yaml"
        (self.folder / name).write_text(textwrap.dedent(text))
        return name

    def client(self, service: str) -> Any:
        return local_client(self.url, service)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("plan-e2e")
    folder = root / "project"
    folder.mkdir()
    for name, body in (("param.json", PARAM), ("queue.json", QUEUE), ("secrets.json", SECRETS)):
        (folder / name).write_text(json.dumps(body))
    environ = {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "160",
        "STACKYARD_HOME": str(root / "home"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    up = subprocess.run(
        [str(STACKYARD), "local", "up", "--port", "0", "--latency", "resource=0s"],
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
        yield Env(folder, environ, url.group(0))
    finally:
        subprocess.run([str(STACKYARD), "local", "down"], cwd=folder, env=environ, timeout=60)


def _ns() -> str:
    return f"p{uuid.uuid4().hex[:8]}"


def test_diff_exit_codes_and_json(env: Env) -> None:
    ns = _ns()
    config = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: one, template_path: param.json, variables: {{Value: "${{v}}"}}}}
          - {{name: two, template_path: param.json, variables: {{Value: "${{output one::Value}}"}}}}
        """
    )
    diff = env.run("diff", "--local", "--detailed-exitcode", "-e", "v=a", config)
    assert diff.returncode == 2, diff.stdout + diff.stderr
    assert "+ one" in diff.stdout and "Plan: 2 create" in diff.stdout
    plan = env.run("diff", "--local", "--json", "-e", "v=a", config)
    assert plan.returncode == 0, plan.stderr
    data = json.loads(plan.stdout)
    assert data["format"] == "stackyard-plan"
    stacks = {s["name"]: s for s in data["stacks"]}
    assert stacks["two"]["action"] == "create"
    assert {p["key"]: p["after"] for p in stacks["two"]["parameters"]} == {
        "Value": "(known after apply)"
    }
    built = env.run("build", "--local", "-e", "v=a", config)
    assert built.returncode == 0, built.stdout + built.stderr
    same = env.run("diff", "--local", "--detailed-exitcode", "-e", "v=a", config)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "Plan: 2 no change" in same.stdout
    changed = env.run("diff", "--local", "--detailed-exitcode", "-e", "v=b", config)
    assert changed.returncode == 2
    assert '"a" → "b"' in changed.stdout or "a → b" in changed.stdout, changed.stdout
    broken = env.run("diff", "--local", "--detailed-exitcode", "nope.yaml")
    assert broken.returncode == 1 and "error:" in broken.stderr
    left = env.client("cloudformation").list_change_sets(StackName=f"{ns}-one")["Summaries"]
    assert [c for c in left if c["ExecutionStatus"] != "EXECUTE_COMPLETE"] == []


def _guarded(env: Env, ns: str) -> str:
    # `guarded` is protected; `after` needs it; `free` is independent.
    return env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: free, template_path: param.json, variables: {{Value: "${{v}}"}}}}
          - {{name: guarded, template_path: queue.json, protected: true,
             variables: {{Name: "${{q}}"}}}}
          - {{name: after, template_path: param.json,
             variables: {{Value: "${{output guarded::Name}}"}}}}
        """
    )


def test_ci_path_holds_protected_stacks_then_plan_and_apply_approve_them(env: Env) -> None:
    ns = _ns()
    config = _guarded(env, ns)
    values = ["-e", "v=1", "-e", f"q={ns}-q1"]
    built = env.run("build", "--local", *values, config)
    assert built.returncode == 3, built.stdout + built.stderr
    assert "free: complete" in built.stdout
    assert "guarded: cancelled: not approved: awaiting approval" in built.stdout
    assert "after: cancelled" in built.stdout
    assert "1 stack(s) need approval" in built.stdout
    assert "stackyard plan -o" in built.stdout and "stackyard apply" in built.stdout

    planned = env.run("plan", "--local", "-o", "plan.json", *values, config)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    saved = json.loads((env.folder / "plan.json").read_text())
    assert set(saved["fingerprints"]) == {"free", "guarded", "after"}
    applied = env.run("apply", "--local", "plan.json", *values, config)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "guarded: complete" in applied.stdout and "after: complete" in applied.stdout
    cfn = env.client("cloudformation")
    guarded = cfn.describe_stacks(StackName=f"{ns}-guarded")["Stacks"][0]
    assert guarded["EnableTerminationProtection"] is True  # protected: on by default

    # A saved plan refuses once the deployed stack moved, naming what moved.
    replan = env.run("plan", "--local", "-o", "plan2.json", *values[:2], "-e", f"q={ns}-q2", config)
    assert replan.returncode == 0, replan.stderr
    moved = env.run("build", "--local", "--approve-protected", "-e", "v=2", *values[2:], config)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "--approve-protected" in moved.stderr  # break glass, loudly
    refused = env.run("apply", "--local", "plan2.json", *values[:2], "-e", f"q={ns}-q2", config)
    assert refused.returncode == 1
    assert "free: deployed parameters" in refused.stderr

    # Destroying a protected stack needs approval, even with --yes.
    gone = env.run(
        "destroy", "--local", "--yes", "--disable-termination-protection", *values, config
    )
    assert gone.returncode == 3, gone.stdout + gone.stderr
    assert "[protected]" in gone.stdout
    # Nothing at all is deleted while one stack lacks approval: no half-destroyed environment.
    assert "nothing deleted: approval missing" in gone.stdout
    assert "free: complete" not in gone.stdout


# --- a terminal --------------------------------------------------------------------------


class Terminal:
    """The CLI on a pseudo-terminal: read what it shows, type answers."""

    def __init__(self, env: Env, *args: str) -> None:
        master, slave = pty.openpty()
        self.master = master
        self.proc = subprocess.Popen(
            [str(STACKYARD), *args],
            cwd=env.folder,
            env={**env.environ, "TERM": "xterm"},
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = ""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return False
        if not chunk:
            return False
        self.seen += _ANSI.sub("", chunk.decode(errors="replace"))
        return True

    def expect(self, text: str, timeout: float = 60) -> None:
        start = len(self.seen)
        deadline = time.monotonic() + timeout
        while text not in self.seen[start:]:
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {text!r}; output:\n{self.seen}")
            if not self._read(0.2) and self.proc.poll() is not None:
                raise AssertionError(f"exited before {text!r}; output:\n{self.seen}")

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        while self._read(0.05):
            pass
        os.close(self.master)
        return self.proc.wait(timeout=5)


PROMPT = "Apply these protected changes?"


def test_interactive_approval_show_yes_and_no(env: Env) -> None:
    ns = _ns()
    config = _guarded(env, ns)
    term = Terminal(env, "build", "--local", "-e", "v=1", "-e", f"q={ns}-q1", config)
    term.expect(PROMPT)
    assert "guarded" in term.seen and "create stack" in term.seen
    term.type("s")  # show the full diff, then ask again
    term.expect(PROMPT)
    assert "Logical ID" in term.seen and "AWS::SQS::Queue" in term.seen
    term.type("y")
    code = term.finish()
    assert code == 0, term.seen
    assert "build: 3 complete" in term.seen

    # A replacement of the protected queue: answer no; its dependent is cancelled.
    term = Terminal(env, "build", "--local", "-e", "v=1", "-e", f"q={ns}-q2", config)
    term.expect(PROMPT)
    assert "replaces Queue (AWS::SQS::Queue)" in term.seen
    term.type("n")
    code = term.finish()
    assert code == 3, term.seen
    assert "declined" in term.seen
    assert "dependency guarded cancelled" in term.seen
    assert term.seen.count(PROMPT) == 1


def test_one_review_of_every_protected_change_before_any_write(env: Env) -> None:
    ns = _ns()
    config = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: free, template_path: param.json, variables: {{Value: f}}}}
          - {{name: g1, template_path: param.json, protected: true, variables: {{Value: a}}}}
          - {{name: g2, template_path: param.json, protected: true, variables: {{Value: b}}}}
        """
    )
    term = Terminal(env, "build", "--local", config)
    term.expect(PROMPT)
    assert "2 stack(s)" in term.seen and "g1" in term.seen and "g2" in term.seen
    # While the question is open nothing has been submitted, the unrelated stack included.
    cfn = env.client("cloudformation")
    names = [s["StackName"] for s in cfn.describe_stacks()["Stacks"]]
    assert not [n for n in names if n.startswith(ns)]
    term.type("y")
    code = term.finish()
    assert code == 0, term.seen
    assert term.seen.count(PROMPT) == 1
    assert "build: 3 complete" in term.seen
    # After the answer, every stack starts at once: none waited on another's approval.
    created = {
        e["StackName"]: e["Timestamp"]
        for n in ("free", "g1", "g2")
        for e in cfn.describe_stack_events(StackName=f"{ns}-{n}")["StackEvents"]
        if e["ResourceStatus"] == "CREATE_IN_PROGRESS" and e["LogicalResourceId"] == e["StackName"]
    }
    assert len(created) == 3


def test_apply_takes_only_the_plan_file_and_names_what_moved(env: Env) -> None:
    ns = _ns()
    config = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: one, template_path: param.json, variables: {{Value: "${{v}}"}}}}
        """
    )
    planned = env.run("plan", "--local", "-o", f"{ns}.json", "-e", "v=90", config)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    applied = env.run("apply", "--local", f"{ns}.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    ssm = env.client("cloudformation").describe_stacks(StackName=f"{ns}-one")["Stacks"][0]
    assert ssm["Parameters"][0]["ParameterValue"] == "90"
    # Other -e values than the plan's are refused, naming the plan's.
    planned = env.run("plan", "--local", "-o", f"{ns}-2.json", "-e", "v=91", config)
    assert planned.returncode == 0
    other = env.run("apply", "--local", f"{ns}-2.json", "-e", "v=30")
    assert other.returncode == 2 and "the plan was made with -e v=91" in other.stderr
    # An input that moved after the plan: the file and the parameter are named.
    (env.folder / f"{ns}.env").write_text("v: 30\n")
    planned = env.run("plan", "--local", "-o", f"{ns}-3.json", f"{ns}.env", config)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    (env.folder / f"{ns}.env").write_text("v: 31\n")
    moved = env.run("apply", "--local", f"{ns}-3.json")
    assert moved.returncode == 1, moved.stdout + moved.stderr
    assert f"{ns}.env changed since the plan was made" in moved.stderr
    assert "stack one, parameter Value: planned 30, now 31" in moved.stderr


def _edited(env: Env, name: str, edit: Callable[[dict[str, Any]], None]) -> str:
    data = json.loads((env.folder / "risky.json").read_text())
    edit(data)
    (env.folder / name).write_text(json.dumps(data))
    return name


def test_an_edited_plan_file_is_refused(env: Env) -> None:
    ns = _ns()
    config = _guarded(env, ns)
    first = ["-e", "v=1", "-e", f"q={ns}-q1"]
    assert env.run("build", "--local", "--approve-protected", *first, config).returncode == 0
    risky = ["-e", "v=1", "-e", f"q={ns}-q2"]  # renames the protected queue: a replacement
    assert env.run("plan", "--local", "-o", "risky.json", *risky, config).returncode == 0
    assert env.run("plan", "--local", "-o", "harmless.json", *first, config).returncode == 0
    harmless = json.loads((env.folder / "harmless.json").read_text())

    def emptied(data: dict[str, Any]) -> None:
        for stack in data["stacks"]:
            stack["resources"] = []

    def softened(data: dict[str, Any]) -> None:
        for stack in data["stacks"]:
            for resource in stack["resources"]:
                if resource["action"] == "replace":
                    resource["action"], resource["replacement"] = "modify", "False"

    def swapped(data: dict[str, Any]) -> None:
        data["stacks"] = harmless["stacks"]  # a harmless text, the risky plan's fingerprints

    for edit in (emptied, softened, swapped):
        refused = env.run("apply", "--local", _edited(env, f"{edit.__name__}.json", edit))
        assert refused.returncode == 1, (edit.__name__, refused.stdout + refused.stderr)
        assert "refusing to apply" in refused.stderr
        assert "it was edited" in refused.stderr, refused.stderr
    queues = env.client("sqs").list_queues(QueueNamePrefix=ns).get("QueueUrls", [])
    assert [q.rsplit("/", 1)[-1] for q in queues] == [f"{ns}-q1"]  # nothing was replaced


def test_detailed_exitcode_is_1_when_a_stack_cannot_be_applied(env: Env) -> None:
    ns = _ns()
    (env.folder / "bucket.json").write_text(
        json.dumps(
            {
                "Parameters": {"Name": {"Type": "String"}},
                "Resources": {
                    "Bucket": {
                        "Type": "AWS::S3::Bucket",
                        "Properties": {"BucketName": {"Ref": "Name"}},
                    }
                },
            }
        )
    )
    env.client("s3").create_bucket(Bucket=f"{ns}-taken")
    config = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: broken, template_path: bucket.json, variables: {{Name: {ns}-taken}}}}
        """
    )
    failed = env.run("build", "--local", config)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    diff = env.run("diff", "--local", "--detailed-exitcode", config)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "cannot be applied: broken" in diff.stderr


def test_a_secret_e_value_stays_out_of_the_plan_file_and_apply_asks_for_it(env: Env) -> None:
    ns = _ns()
    hidden = f"noecho-{uuid.uuid4().hex}"
    (env.folder / "noecho.json").write_text(
        json.dumps(
            {
                "Parameters": {"Hidden": {"Type": "String", "NoEcho": True}},
                "Resources": {
                    "Param": {
                        "Type": "AWS::SSM::Parameter",
                        "Properties": {"Type": "String", "Value": {"Ref": "Hidden"}},
                    }
                },
            }
        )
    )
    config = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: vault, template_path: noecho.json, variables: {{Hidden: "${{h}}"}}}}
        """
    )
    planned = env.run("plan", "--local", "-o", f"{ns}.json", "-e", f"h={hidden}", config)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    saved = (env.folder / f"{ns}.json").read_text()
    assert hidden not in saved
    assert json.loads(saved)["inputs"]["secret_overrides"][0][0] == "h"
    missing = env.run("apply", "--local", f"{ns}.json")
    assert missing.returncode == 2 and "pass it again" in missing.stderr
    wrong = env.run("apply", "--local", f"{ns}.json", "-e", "h=guess")
    assert wrong.returncode == 2 and "not the value the plan was made with" in wrong.stderr
    applied = env.run("apply", "--local", f"{ns}.json", "-e", f"h={hidden}")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert hidden not in applied.stdout + applied.stderr


def test_a_reviewed_deletion_plan_deletes_protected_stacks(env: Env) -> None:
    ns = _ns()
    config = _guarded(env, ns)
    values = ["-e", "v=1", "-e", f"q={ns}-q1"]
    assert env.run("build", "--local", "--approve-protected", *values, config).returncode == 0
    planned = env.run(
        "plan",
        "--local",
        "--destroy",
        "--disable-termination-protection",
        "-o",
        f"{ns}-d.json",
        *values,
        config,
    )
    assert planned.returncode == 0, planned.stdout + planned.stderr
    saved = json.loads((env.folder / f"{ns}-d.json").read_text())
    assert [s["action"] for s in saved["stacks"]] == ["delete", "delete", "delete"]
    applied = env.run("apply", "--local", f"{ns}-d.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    names = [s["StackName"] for s in env.client("cloudformation").describe_stacks()["Stacks"]]
    assert not [n for n in names if n.startswith(ns)]


def test_updates_take_one_update_stack_unless_change_sets_are_asked_for(env: Env) -> None:
    ns = _ns()
    config = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: one, template_path: param.json, variables: {{Value: "${{v}}"}}}}
        """
    )
    assert env.run("build", "--local", "-e", "v=1", config).returncode == 0
    direct = env.run("build", "--local", "--stats", "-e", "v=2", config)
    assert direct.returncode == 0, direct.stdout + direct.stderr
    assert "UpdateStack" in direct.stdout and "CreateChangeSet" not in direct.stdout
    reviewed = env.run("build", "--local", "--stats", "--change-sets", "-e", "v=3", config)
    assert reviewed.returncode == 0, reviewed.stdout + reviewed.stderr
    assert "CreateChangeSet" in reviewed.stdout and "ExecuteChangeSet" in reviewed.stdout
    cfn = env.client("cloudformation")
    stack = cfn.describe_stacks(StackName=f"{ns}-one")["Stacks"][0]
    assert stack["Parameters"][0]["ParameterValue"] == "3"


# --- secrets -----------------------------------------------------------------------------


def _everything(env: Env, out: Path, bucket_keys: Callable[[], list[bytes]]) -> str:
    text = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    return text + "".join(b.decode(errors="replace") for b in bucket_keys())


def test_secrets_never_leak(env: Env, tmp_path: Path) -> None:
    ns = _ns()
    hidden, from_ssm, from_kms = (f"{k}-{uuid.uuid4().hex}" for k in ("noecho", "ssm", "kms"))
    ssm = env.client("ssm")
    ssm.put_parameter(Name=f"/{ns}/secure", Value=from_ssm, Type="SecureString")
    kms = env.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = base64.b64encode(kms.encrypt(KeyId=key, Plaintext=from_kms.encode())["CiphertextBlob"])
    config = env.config(
        f"""\
        namespace: {ns}
        template_bucket: {ns}-templates
        stacks:
          - name: vault
            template_path: secrets.json
            variables:
              Plain: visible
              Hidden: "${{hidden}}"
              FromSsm: "${{ssm /{ns}/secure}}"
              FromKms: "${{kms {blob.decode()}}}"
        """
    )
    values = ["-e", f"hidden={hidden}"]
    outputs: list[str] = []
    runs = [
        ("diff", "--local", *values, config),
        ("diff", "--local", "--json", *values, config),
        ("plan", "--local", "-o", str(tmp_path / "saved.json"), *values, config),
        ("build", "--local", "-vv", *values, config),
        ("info", "--local", "--json", *values, config),
        ("render", "--out", str(tmp_path / "rendered"), *values, config),
    ]
    for args in runs:
        done = env.run(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        outputs += [done.stdout, done.stderr]
    assert "parameter Hidden: ****" in outputs[0]
    assert "parameter FromKms: ****" in outputs[0] and "parameter FromSsm: ****" in outputs[0]
    # A change next to the secrets: shown, with the secrets still masked.
    (env.folder / config).write_text(
        (env.folder / config).read_text().replace("Plain: visible", "Plain: visible2")
    )
    changed = env.run("diff", "--local", "--detailed-exitcode", *values, config)
    assert changed.returncode == 2, changed.stdout + changed.stderr
    changed_json = env.run("diff", "--local", "--json", *values, config)
    outputs += [changed.stdout, changed.stderr, changed_json.stdout, changed_json.stderr]

    s3 = env.client("s3")

    def bucket_objects() -> list[bytes]:
        found: list[bytes] = []
        for bucket in s3.list_buckets()["Buckets"]:
            for item in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
                found.append(s3.get_object(Bucket=bucket["Name"], Key=item["Key"])["Body"].read())
        return found

    everything = "".join(outputs) + _everything(env, tmp_path, bucket_objects)
    assert "visible" in everything  # the scan sees real output
    for secret in (hidden, from_ssm, from_kms):
        assert secret not in everything


# --- prune -------------------------------------------------------------------------------


def test_prune_lists_plans_and_deletes_a_stack_removed_from_the_config(env: Env) -> None:
    ns = _ns()
    both = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: kept, template_path: param.json, variables: {{Value: a}}}}
          - {{name: dropped, template_path: param.json, variables: {{Value: b}}}}
        """
    )
    assert env.run("build", "--local", both).returncode == 0
    kept = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: kept, template_path: param.json, variables: {{Value: a}}}}
        """
    )
    listed = env.run("info", "--local", "--orphans", "--json", kept)
    assert listed.returncode == 0, listed.stderr
    assert [o["stack_name"] for o in json.loads(listed.stdout)["orphans"]] == [f"{ns}-dropped"]
    assert env.run("diff", "--local", "--detailed-exitcode", kept).returncode == 0
    shown = env.run("diff", "--local", "--prune", "--detailed-exitcode", kept)
    assert shown.returncode == 2 and "dropped" in shown.stdout, shown.stdout + shown.stderr
    built = env.run("build", "--local", "--prune", kept)
    assert built.returncode == 0, built.stdout + built.stderr
    names = [s["StackName"] for s in env.client("cloudformation").describe_stacks()["Stacks"]]
    assert f"{ns}-kept" in names and f"{ns}-dropped" not in names
    assert "no orphans" in env.run("info", "--local", "--orphans", kept).stdout


# --- reports -----------------------------------------------------------------------------


def test_plan_reports_are_written_beside_the_plan_and_by_report(env: Env) -> None:
    ns = _ns()
    config = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: one, template_path: param.json, variables: {{Value: a}}}}
        """
    )
    made = env.run(
        "plan", "--local", "-o", f"{ns}.plan", "--report", "html", "--report", "markdown", config
    )
    assert made.returncode == 0, made.stdout + made.stderr
    page = (env.folder / f"{ns}.plan.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and f"{ns}-one" in page
    assert "| + | one | create | +1 |" in (env.folder / f"{ns}.plan.md").read_text()
    printed = env.run("report", f"{ns}.plan", "--format", "markdown", "-o", "-")
    assert printed.returncode == 0 and printed.stdout.startswith("## stackyard plan")
    assert env.run("report", f"{ns}.plan", "-o", "r.html").returncode == 0
    assert (env.folder / "r.html").read_text() == page


# --- signed approvals --------------------------------------------------------------------


def test_signed_approvals_apply_and_stale_or_forged_ones_are_refused(env: Env) -> None:
    import shutil

    ns = _ns()
    config = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: guarded, template_path: param.json, protected: true,
             variables: {{Value: "${{v}}"}}}}
        """
    )
    keyed = {**env.environ, "STACKYARD_APPROVAL_KEY": "a-key-only-reviewers-and-ci-hold"}

    run = cli_in(env.folder, keyed, timeout=120)

    for name, value in (("a", "1"), ("b", "2")):
        made = run("plan", "--local", "-o", f"{ns}-{name}.plan", "-e", f"v={value}", config)
        assert made.returncode == 0, made.stdout + made.stderr
    # CI requires signed approvals: the plan file alone approves nothing.
    held = run("apply", "--local", "--require-approvals", f"{ns}-a.plan")
    assert held.returncode == 3, held.stdout + held.stderr
    signed = run("approve", f"{ns}-a.plan", "--by", "ana")
    assert signed.returncode == 0 and "ana approved 1 item(s)" in signed.stdout, signed.stderr
    approvals = env.folder / f"{ns}-a.plan.approvals.json"
    original = approvals.read_text()

    # An approval for another plan (its digest) is refused.
    shutil.copy(approvals, env.folder / f"{ns}-b.plan.approvals.json")
    other = run("apply", "--local", f"{ns}-b.plan")
    assert other.returncode == 2 and "approves another plan" in other.stderr, other.stderr
    # A tampered approval: who approved changed after signing.
    approvals.write_text(original.replace('"by": "ana"', '"by": "eve"'))
    forged = run("apply", "--local", f"{ns}-a.plan")
    assert forged.returncode == 2 and "signature does not verify" in forged.stderr
    approvals.write_text(original)
    # A tampered plan: edited after it was approved.
    planfile = env.folder / f"{ns}-a.plan"
    text = planfile.read_text()
    planfile.write_text(text.replace('"created_at": "', '"created_at": "1', 1))
    edited = run("apply", "--local", "--require-approvals", f"{ns}-a.plan")
    assert edited.returncode == 2 and "approves another plan" in edited.stderr, edited.stderr
    names = [s["StackName"] for s in env.client("cloudformation").describe_stacks()["Stacks"]]
    assert f"{ns}-guarded" not in names  # nothing ran

    planfile.write_text(text)
    applied = run("apply", "--local", "--require-approvals", f"{ns}-a.plan")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "approved by ana (signatures verified)" in applied.stderr
    assert "guarded: complete" in applied.stdout


# --- drift -------------------------------------------------------------------------------


def test_drift_shows_what_changed_outside_cloudformation_and_exits_2(env: Env) -> None:
    ns = _ns()
    config = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - {{name: one, template_path: param.json, variables: {{Value: a}}}}
          - {{name: two, template_path: param.json, variables: {{Value: b}}}}
        """
    )
    assert env.run("build", "--local", config).returncode == 0
    assert env.run("drift", "--local", config).returncode == 0
    cfn = env.client("cloudformation")
    [param] = cfn.describe_stack_resources(StackName=f"{ns}-one")["StackResources"]
    env.client("ssm").put_parameter(
        Name=param["PhysicalResourceId"], Value="changed", Overwrite=True
    )
    shown = env.run("drift", "--local", config)
    assert shown.returncode == 2, shown.stdout + shown.stderr
    assert '~ /Value: "a" → "changed"' in shown.stdout
    assert "1 of 2 stack(s) drifted" in shown.stdout
    data = json.loads(env.run("drift", "--local", "--json", "--stacks", "two", config).stdout)
    assert [s["status"] for s in data["stacks"]] == ["IN_SYNC"]
    info = json.loads(env.run("info", "--local", "--json", config).stdout)
    assert [s["last_drift"]["status"] for s in info["stacks"]] == ["DRIFTED", "IN_SYNC"]


# --- DNS audit ---------------------------------------------------------------------------

ZONE = {
    "Parameters": {
        "Domain": {"Type": "String"},
        "LbDns": {"Type": "String"},
        "LbZone": {"Type": "String"},
    },
    "Resources": {
        "Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": {"Ref": "Domain"}}},
        "Api": {
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "HostedZoneId": {"Ref": "Zone"},
                "Name": {"Fn::Sub": "api.${Domain}"},
                "Type": "A",
                "AliasTarget": {"DNSName": {"Ref": "LbDns"}, "HostedZoneId": {"Ref": "LbZone"}},
            },
        },
        "Www": {
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "HostedZoneId": {"Ref": "Zone"},
                "Name": {"Fn::Sub": "www.${Domain}"},
                "Type": "CNAME",
                "TTL": "300",
                "ResourceRecords": ["example.org"],
            },
        },
    },
}


def test_dns_audit_finds_one_unmanaged_record_and_one_dangling_alias(env: Env) -> None:
    ns = _ns()
    domain = f"{ns}.example.com"
    ec2, elbv2 = env.client("ec2"), env.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"us-east-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    lb = elbv2.create_load_balancer(Name=f"{ns}-lb", Subnets=subnets)["LoadBalancers"][0]
    (env.folder / "zone.json").write_text(json.dumps(ZONE))
    config = env.config(
        f"""\
        namespace: {ns}
        stacks:
          - name: dns
            template_path: zone.json
            variables:
              Domain: {domain}
              LbDns: {lb["DNSName"]}
              LbZone: {lb["CanonicalHostedZoneId"]}
        """
    )
    built = env.run("build", "--local", config)
    assert built.returncode == 0, built.stdout + built.stderr
    clean = env.run("audit", "dns", "--local", config)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no unmanaged or dangling records" in clean.stdout

    route53 = env.client("route53")
    [zone] = [z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == f"{domain}."]
    route53.change_resource_record_sets(
        HostedZoneId=zone["Id"],
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"legacy.{domain}",
                        "Type": "TXT",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": '"left by hand"'}],
                    },
                }
            ]
        },
    )
    elbv2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])

    found = env.run("audit", "dns", "--local", "--json", config)
    assert found.returncode == 2, found.stdout + found.stderr
    findings = json.loads(found.stdout)["findings"]
    assert sorted((f["kind"], f["name"], f["type"]) for f in findings) == [
        ("dangling", f"api.{domain}.", "A"),
        ("unmanaged", f"legacy.{domain}.", "TXT"),
    ]
    dangling = next(f for f in findings if f["kind"] == "dangling")
    assert dangling["target_kind"] == "load balancer" and dangling["stack"] == "dns"
    assert "deleted load balancer" in dangling["risk"]
    shown = env.run("audit", "dns", "--local", config)
    assert shown.returncode == 2 and "2 finding(s)" in shown.stdout
