"""Stacks stacker 1.7.2 created are "no change" on stackyard's first build of the same project.

stacker runs in its own virtualenv, as the peers benchmark installs it (``bench/peers.py``:
stacker 1.7.2 with the ``collections`` aliases Python 3.10 removed), against one local AWS
endpoint; stackyard then builds the same files, unchanged, against the same endpoint. The
project has what makes adoption hard: a NoEcho parameter in a blueprint and in a raw YAML
template with short tags (stacker sends the file's text), a parameter with no default, a
number in ``mappings`` (stacker writes it as text), stacker's default ``stacker_namespace``
tag, a protected stack, an output lookup, and the config forms stacker accepts (namespace
from the environment file, stacks as a mapping).

Slow (installing stacker the first time, two tools deploying): ``make drills`` runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACKYARD = Path(sys.executable).with_name("stackyard")

pytestmark = pytest.mark.slow

BLUEPRINT = """\
from troposphere import Output, Ref, ssm

from stacker.blueprints.base import Blueprint
from stacker.blueprints.variables.types import CFNString


class Settings(Blueprint):
    VARIABLES = {
        "Token": {"type": CFNString, "no_echo": True, "description": "a secret"},
        "Owner": {"type": str, "default": "platform"},
    }

    def create_template(self):
        owner = self.get_variables()["Owner"]
        param = self.template.add_resource(
            ssm.Parameter("Token", Type="String", Value=Ref("Token"), Description=owner)
        )
        self.template.add_output(Output("TokenName", Value=Ref(param)))
"""

TEMPLATE = """\
Parameters:
  Password:
    Type: String
    NoEcho: true
  Upstream:
    Type: String
  Label:
    Type: String
    Default: copy
Resources:
  Copy:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Ref Password
      Description: !Sub "${Label} of ${Upstream}"
Outputs:
  Name:
    Value: !Ref Copy
"""

CONFIG = """\
stacker_bucket: ""
sys_path: .
mappings:
  Sizes:
    us-east-1:
      Count: 2
stacks:
  settings:
    class_path: blueprints.Settings
    protected: true
    variables:
      Token: ${token}
  copy:
    template_path: templates/copy.yaml
    variables:
      Password: ${password}
      Upstream: ${output settings::TokenName}
"""

ENVIRONMENT = """\
namespace: adopted
token: t0ken-value
password: pa55word-value
"""


@pytest.fixture(scope="module")
def stacker() -> Path:
    """stacker 1.7.2 in its own virtualenv (installed once, as ``bench.peers`` does)."""
    sys.path.insert(0, str(ROOT))
    try:
        from bench.peers import PEERS, install
    finally:
        sys.path.remove(str(ROOT))
    try:
        return install(PEERS["stacker"])
    except (subprocess.CalledProcessError, SystemExit) as exc:
        pytest.skip(f"stacker 1.7.2 could not be installed (is PyPI reachable?): {exc}")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from stackyard.local.runner import LocalEndpoint

    local = LocalEndpoint(latency="resource=0s")
    local.start()
    try:
        yield local.url
    finally:
        local.stop()


def environment(url: str, stacker: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        STACKER_STACK_POLL_TIME="1",
        NO_COLOR="1",
        COLUMNS="160",
    )
    env["PATH"] = f"{stacker.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def project(root: Path) -> Path:
    files = {
        "blueprints.py": BLUEPRINT,
        "templates/copy.yaml": TEMPLATE,
        "stage.env": ENVIRONMENT,
        "stacker.yaml": CONFIG,
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_stacks_stacker_created_are_no_change_on_the_first_build(
    tmp_path: Path, stacker: Path, endpoint: str
) -> None:
    root = project(tmp_path / "project")
    env = {**environment(endpoint, stacker), "STACKYARD_HOME": str(tmp_path / "home")}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False
        )

    built = run(str(stacker), "build", "--region", "us-east-1", "stage.env", "stacker.yaml")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "copy: complete (creating new stack)" in built.stderr

    first = run(str(STACKYARD), "build", "--stats", "stage.env", "stacker.yaml")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "build: 2 no change" in first.stdout, first.stdout
    assert not re.search(r"(Create|Update)Stack|ChangeSet", first.stdout)

    diff = run(str(STACKYARD), "diff", "stage.env", "stacker.yaml")
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert "no change" in diff.stdout

    # CloudFormation never shows a NoEcho value and stacker recorded no digest of it: the
    # stack keeps its value until its next update, which sends the config's and records
    # the digest; from then on a rotated secret is seen and deployed.
    (root / "stacker.yaml").write_text(CONFIG + "      Label: relabelled\n")
    relabelled = run(str(STACKYARD), "build", "stage.env", "stacker.yaml")
    assert "build: 1 no change, 1 complete" in relabelled.stdout, relabelled.stdout
    assert "parameters: Label, Password" in relabelled.stdout
    rotated = run(str(STACKYARD), "build", "-e", "password=rotated", "stage.env", "stacker.yaml")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "build: 1 no change, 1 complete" in rotated.stdout, rotated.stdout
    again = run(str(STACKYARD), "build", "-e", "password=rotated", "stage.env", "stacker.yaml")
    assert "build: 2 no change" in again.stdout, again.stdout


FORMS = {
    "namespace from the environment": ("stacks: []\n", {"namespace": "fromenv"}),
    "stacks as a mapping": (
        "namespace: n\nstacks:\n  vpc:\n    class_path: a.B\n  app:\n    template_path: t.yaml\n",
        {},
    ),
    "hooks as a mapping": (
        "namespace: n\npre_build:\n  dns:\n    path: a.b\n    args:\nstacks: []\n",
        {},
    ),
    "keys with no value": (
        "namespace: n\nsys_path:\ntags:\nmappings:\nlookups:\npost_build:\n"
        "stacks:\n  - name: vpc\n    class_path: a.B\n    variables:\n    protected:\n"
        "    requires:\n    tags:\n    locked:\n",
        {},
    ),
    "stacks with no value": ("namespace: n\nstacks:\n", {}),
}

PARSE = """
import json, sys
from stacker.config import render_parse_load
config = render_parse_load(sys.stdin.read(), json.loads(sys.argv[1]))
print(json.dumps([config.namespace, [s.name for s in config.stacks or []],
                  [h.path for h in config.pre_build or []]]))
"""


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_config_form_stacker_parses_loads_the_same(
    tmp_path: Path, stacker: Path, form: str
) -> None:
    import json

    from stackyard.config import load_config

    text, environment = FORMS[form]
    theirs = subprocess.run(
        [str(stacker.parent / "python"), "-c", PARSE, json.dumps(environment)],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    path = tmp_path / "stacker.yaml"
    path.write_text(text)
    config = load_config(str(path), overrides=environment).config
    ours = [config.namespace, [s.name for s in config.stacks], [h.path for h in config.pre_build]]
    assert json.loads(theirs.stdout) == ours
