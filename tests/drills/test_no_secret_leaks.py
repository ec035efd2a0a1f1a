"""No secret value in anything stackyard prints or writes.

Three secrets take the three paths a secret can take: a NoEcho template parameter given
in the environment file, an SSM SecureString read by ``${ssm ...}`` (stored with
``stackyard secrets put``), and a KMS-encrypted value read by ``${kms ...}``. The scenario
puts, renders (to the terminal and to ``--out``), validates, diffs (text and JSON), saves a
plan and applies it, rebuilds verbosely, shows info, changes the NoEcho secret and diffs and
builds again, provokes errors (a parameter that fails its AllowedPattern, a resource whose
failure message quotes the secret), and destroys. Then it scans every stdout and stderr
captured (at the file-descriptor level), every file written under the project folder and
under ``STACKYARD_HOME`` (the daemon's files, the template cache), and every object of the
template bucket: the secret values, and their base64 forms, appear nowhere.

The CLI runs in-process through its real entry point against a background endpoint, so the
drill stays fast; the endpoint is a ``stackyard local up`` daemon with its own home. The long
variant runs the same scenario while the daemon throttles and fails calls (set and read
through its ``/_stackyard/faults`` route), so that retries and error paths are scanned too.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stackyard.cli.main import main
from stackyard.errors import StackyardError

from .drill_helpers import Daemon, injected_by_kind, record_faults

NOECHO = "noecho-7f3a9c2e-hunter2-zq"  # also a valid bucket name, for the failure case
NOECHO_NEXT = "noecho-next-51b0d4e8-zq"
SSM_SECRET = "SsmSecure!Pa55-e41c9b7d"
KMS_SECRET = "KmsPlain#Key-0c6d2a9f"
SECRETS = (NOECHO, NOECHO_NEXT, SSM_SECRET, KMS_SECRET)

PADDING = {"Padding": ["x" * 1000 for _ in range(60)]}  # too big to send inline: S3


def _template(parameter: str, *, no_echo: bool, big: bool = False, **extra: object) -> str:
    definition: dict[str, object] = {"Type": "String", **extra}
    if no_echo:
        definition["NoEcho"] = True
    body: dict[str, object] = {
        "Parameters": {"Name": {"Type": "String"}, parameter: definition},
        "Resources": {
            "Param": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": {"Fn::Sub": "/${Name}/value"},
                    "Type": "String",
                    "Value": {"Ref": parameter},
                },
            }
        },
        "Outputs": {"ParameterName": {"Value": {"Ref": "Param"}}},
    }
    if big:
        body["Metadata"] = PADDING
    return json.dumps(body, indent=1)


BUCKET_TEMPLATE = json.dumps(
    {
        "Parameters": {
            "Name": {"Type": "String"},
            "Password": {"Type": "String", "NoEcho": True},
        },
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "Password"}}}
        },
    }
)


@dataclass
class Scenario:
    """The project folder, the daemon, and everything the CLI printed."""

    daemon: Daemon
    folder: Path
    namespace: str
    run_cli: Callable[..., tuple[int, str]]
    printed: list[tuple[str, str]] = field(default_factory=list)
    injected: Counter[str] = field(default_factory=Counter)

    def cli(self, *args: str, stdin: str = "", code: int | None = 0) -> str:
        got, output = self.run_cli(*args, stdin=stdin)
        self.printed.append((" ".join(args), output))
        assert "Traceback" not in output and "internal error" not in output, (args, output)
        if code is not None:
            assert got == code, (args, got, output)
        return output


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A background endpoint in a home of its own."""
    with Daemon.up(tmp_path_factory.mktemp("secrets")) as daemon:
        yield daemon


@pytest.fixture
def scenario(
    daemon: Daemon,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Scenario:
    """The project: three stacks, one secret each, plus a broken config for the errors."""
    namespace = f"sec{uuid.uuid4().hex[:8]}"
    folder = daemon.folder / namespace
    (folder / "templates").mkdir(parents=True)
    kms = daemon.client("kms")
    key = kms.create_key(Description="drill")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{namespace}/secrets", TargetKeyId=key)
    blob = base64.b64encode(kms.encrypt(KeyId=key, Plaintext=KMS_SECRET)["CiphertextBlob"])
    templates = folder / "templates"
    (templates / "vault.json").write_text(_template("Password", no_echo=True, big=True))
    (templates / "ssmuser.json").write_text(_template("DbPassword", no_echo=False))
    (templates / "kmsuser.json").write_text(_template("ApiKey", no_echo=False))
    (templates / "pattern.json").write_text(
        _template("Password", no_echo=True, AllowedPattern="^[0-9]+$")
    )
    (templates / "bucket.json").write_text(BUCKET_TEMPLATE)
    (folder / "drill.env").write_text(f"namespace: {namespace}\npassword: {NOECHO}\n")
    stacks = {
        "vault": ("vault.json", {"Password": "${password}"}),
        "ssmuser": ("ssmuser.json", {"DbPassword": f"${{ssm /{namespace}/app/DB_PASSWORD}}"}),
        "kmsuser": ("kmsuser.json", {"ApiKey": f"${{kms {blob.decode()}}}"}),
    }
    (folder / "drill.yaml").write_text(_config(stacks))
    broken = {
        "pattern": ("pattern.json", {"Password": "${password}"}),
        "badkms": ("kmsuser.json", {"ApiKey": "${kms AAAA}"}),
    }
    (folder / "broken.yaml").write_text(_config(broken))
    quoted = {"bucket": ("bucket.json", {"Password": "${password}"})}
    (folder / "quoted.yaml").write_text(_config(quoted))

    monkeypatch.setenv("STACKYARD_HOME", daemon.env["STACKYARD_HOME"])
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.chdir(folder)

    def run_cli(*args: str, stdin: str = "") -> tuple[int, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capfd.readouterr()
        shown = ""
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        except StackyardError as exc:  # --debug re-raises; the message is what could leak
            code, shown = exc.exit_code, f"error: {exc}\n"
        out, err = capfd.readouterr()
        return code, out + err + shown

    return Scenario(daemon, folder, namespace, run_cli)


def _config(stacks: dict[str, tuple[str, dict[str, str]]]) -> str:
    entries = [
        {
            "name": name,
            "template_path": f"templates/{path}",
            "variables": {"Name": "${namespace}-" + name, **variables},
        }
        for name, (path, variables) in stacks.items()
    ]
    config = {
        "namespace": "${namespace}",
        "stacker_bucket": "${namespace}-templates",
        "stacks": entries,
    }
    return json.dumps(config, indent=1)


def _files(*roots: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for root in roots for path in root.rglob("*") if path.is_file()}


def _needles() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for secret in SECRETS:
        out[secret] = secret.encode()
        out[f"base64({secret})"] = base64.b64encode(secret.encode()).rstrip(b"=")
    return out


def _scan(texts: dict[str, bytes]) -> list[str]:
    return [
        f"{what} in {where}"
        for where, data in texts.items()
        for what, needle in _needles().items()
        if needle in data
    ]


def _set_faults(daemon: Daemon, spec: str) -> dict[str, Any]:
    """Replace the daemon's fault spec through its own route; return what it had injected."""
    import urllib.request

    with urllib.request.urlopen(f"{daemon.url}/_stackyard/faults", timeout=10) as answer:
        before: dict[str, Any] = json.loads(answer.read())
    request = urllib.request.Request(
        f"{daemon.url}/_stackyard/faults", data=spec.encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    return before


def test_no_secret_value_in_any_output_or_file(scenario: Scenario) -> None:
    _no_leaks(scenario)


@pytest.mark.slow
def test_no_secret_value_with_faults(request: pytest.FixtureRequest, scenario: Scenario) -> None:
    """The same, while the endpoint throttles and fails calls: retries and error paths leak
    nothing either."""
    _set_faults(scenario.daemon, "seed=13,*=throttle:0.2+error500:0.05")
    try:
        _no_leaks(scenario, faulted=True)
    finally:
        scenario.injected.update(injected_by_kind(_set_faults(scenario.daemon, "")))
        record_faults(request, scenario.injected)
    assert scenario.injected["throttle"], scenario.injected


def _no_leaks(scenario: Scenario, *, faulted: bool = False) -> None:
    s = scenario
    ns = s.namespace
    env = ["drill.env", "drill.yaml"]
    local = ["--local"]
    inputs = _files(s.folder)

    assert "created" in s.cli(
        "secrets", "put", f"/{ns}/app/DB_PASSWORD", *local, stdin=SSM_SECRET + "\n"
    )
    s.cli("render", *env)
    s.cli("render", "--out", "rendered", *env)
    s.cli("validate", *env)
    s.cli("diff", *local, *env, "--detailed-exitcode", code=2)
    s.cli("diff", *local, "--json", *env, code=None)
    s.cli("plan", *local, "-o", "drill.plan", *env)
    s.cli("apply", *local, "drill.plan", *env)
    s.cli("build", *local, "-vv", "--stats", *env)
    s.cli("info", *local, *env)
    s.cli("info", *local, "--json", *env)
    changed = ["-e", f"password={NOECHO_NEXT}", *env]
    s.cli("diff", *local, "-v", *changed, "--detailed-exitcode", code=2)
    s.cli("diff", *local, "--json", *changed, code=None)
    s.cli("plan", *local, "-o", "next.plan", *changed)
    s.cli("build", *local, "-v", *changed)
    s.cli("secrets", "get", f"/{ns}/app/DB_PASSWORD", *local)
    s.cli("secrets", "list", f"/{ns}", *local)
    s.cli("secrets", "history", f"/{ns}/app/DB_PASSWORD", *local)

    # Errors: a parameter refused by its pattern, a ciphertext KMS cannot decrypt.
    broken = ["drill.env", "broken.yaml"]
    # A lookup that fails stops the build while planning (exit 2), before any write; so
    # does the parameter its pattern refuses, with the value masked.
    s.cli("build", *local, *broken, code=2)
    s.cli("build", *local, "--stacks", "pattern", *broken, code=2)
    s.cli("build", *local, "-vv", "--stacks", "pattern", *broken, code=2)
    s.cli("diff", *local, *broken, code=None)
    s.cli("render", *broken, code=None)
    s.cli("--debug", "build", *local, "--stacks", "pattern", *broken, code=None)
    s.cli("destroy", *local, "--force", *broken, code=None)
    if faulted:  # the drill's own checks below run without faults
        s.injected.update(injected_by_kind(_set_faults(s.daemon, "")))
    # The secrets really reached AWS through the stacks (else the scan proves nothing).
    ssm = s.daemon.client("ssm")
    deployed = {
        name: ssm.get_parameter(Name=f"/{ns}-{name}/value")["Parameter"]["Value"]
        for name in ("vault", "ssmuser", "kmsuser")
    }
    assert deployed == {"vault": NOECHO_NEXT, "ssmuser": SSM_SECRET, "kmsuser": KMS_SECRET}
    s.cli("destroy", *local, "--force", *env)

    written = {
        str(path): data for path, data in _files(s.folder).items() if inputs.get(path) != data
    }
    assert any(p.endswith(".parameters.json") for p in written), sorted(written)
    assert any(p.endswith("drill.plan") for p in written), sorted(written)
    home = _files(s.daemon.home)
    assert home, "the daemon's home holds its files"
    s3 = s.daemon.client("s3")
    objects = {
        f"s3://{ns}-templates/{o['Key']}": s3.get_object(Bucket=f"{ns}-templates", Key=o["Key"])[
            "Body"
        ].read()
        for o in s3.list_objects_v2(Bucket=f"{ns}-templates").get("Contents", [])
    }
    assert objects, "the large template went through the template bucket"
    printed = {f"output of `stackyard {args}`": text.encode() for args, text in s.printed}
    leaks = _scan({**printed, **{str(p): d for p, d in home.items()}, **written, **objects})
    assert leaks == [], "\n".join(leaks)


def test_a_failure_reason_quoting_a_noecho_value_is_masked(scenario: Scenario) -> None:
    """Found by this drill: NoEcho values quoted in a failure reason are masked.

    CloudFormation's failure message for a bucket whose name is taken is "<BucketName>
    already exists" (on AWS as on the local endpoint). With the bucket named by a NoEcho
    parameter, ``engine/ops.first_failure`` keeps the event's reason as is and the progress
    view prints it twice: in the ``failed:`` line and in the failure summary (and RunResult's
    ``Failure.reason`` holds it too). The stack knows its NoEcho values; they should be
    replaced by ``****`` in every reason shown.
    """
    scenario.daemon.client("s3").create_bucket(Bucket=NOECHO)
    output = scenario.cli("build", "--local", "drill.env", "quoted.yaml", code=1)
    assert "already exists" in output
    assert NOECHO not in output
