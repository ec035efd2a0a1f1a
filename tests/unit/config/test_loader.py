"""Loading configs: every key stacker 1.7 accepts, and every way a config can be wrong."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from stackyard.config import load_config
from stackyard.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "stackyard.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


FULL = """\
namespace: ${namespace}
namespace_delimiter: "_"
stacker_bucket: my-bucket
stacker_bucket_region: us-west-2
stacker_cache_dir: /tmp/cache
sys_path: ./blueprints
service_role: arn:aws:iam::123456789012:role/cfn
tags:
  team: ops
  cost: 42
template_indent: 2
mappings:
  AmiMap:
    us-east-1:
      NAT: ami-1
lookups:
  custom: my.module.Lookup
pre_build:
  - path: stacker.hooks.route53.create_domain
    required: true
    enabled: true
    data_key: domain
    args:
      domain: example.com
post_build: []
pre_destroy: []
post_destroy:
  - path: my.hooks.cleanup
targets:
  - name: network
    requires: [vpc]
    required_by: [app]
log_formats:
  info: "%(message)s"
anchors: &defaults
  region: eu-west-1
stacks:
  - name: vpc
    stack_name: custom-vpc
    class_path: blueprints.vpc.VPC
    description: the network
    variables:
      CidrBlock: 10.0.0.0/16
    locked: false
    enabled: true
    protected: true
    tags:
      tier: network
    stack_policy_path: policies/vpc.json
    in_progress_behavior: wait
    notification_arns: [arn:aws:sns:us-east-1:123456789012:topic]
    profile: ops
    termination_protection: true
    <<: *defaults
  - name: app
    template_path: templates/app.yaml
    requires: [vpc]
    required_by: []
    protected: [Database, "AWS::Route53::*", replace, security]
"""


def test_every_stacker_key_is_accepted(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, FULL), overrides={"namespace": "stage"})
    config = loaded.config
    assert config.namespace == "stage"
    assert config.namespace_delimiter == "_"
    assert config.bucket == "my-bucket"
    assert config.stacker_bucket_region == "us-west-2"
    assert config.sys_path == "./blueprints"
    assert config.service_role == "arn:aws:iam::123456789012:role/cfn"
    assert config.tags == {"team": "ops", "cost": "42"}
    assert config.mappings["AmiMap"]["us-east-1"]["NAT"] == "ami-1"
    assert config.lookups == {"custom": "my.module.Lookup"}
    hook = config.pre_build[0]
    assert (hook.path, hook.required, hook.enabled, hook.data_key) == (
        "stacker.hooks.route53.create_domain",
        True,
        True,
        "domain",
    )
    assert hook.args == {"domain": "example.com"}
    assert config.post_destroy[0].required is True
    assert config.targets[0].requires == ["vpc"]
    vpc = config.stack("vpc")
    assert vpc.stack_name == "custom-vpc"
    assert vpc.region == "eu-west-1"  # through a YAML merge key
    assert vpc.protected is True
    assert vpc.in_progress_behavior == "wait"
    assert vpc.termination_protection is True
    assert vpc.notification_arns == ["arn:aws:sns:us-east-1:123456789012:topic"]
    app = config.stack("app")
    assert app.protected == ["Database", "AWS::Route53::*", "replace", "security"]
    assert app.requires == ["vpc"]
    assert any("log_formats" in n for n in loaded.notices)


def test_neutral_bucket_alias_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "namespace: x\ntemplate_bucket: mine\nstacker_bucket: theirs\n")
    assert load_config(path).config.bucket == "mine"


def test_unknown_top_level_keys_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "namespace: x\nmy_anchors: {a: 1}\nstacks: []\n")
    assert load_config(path).config.stacks == []


def test_deprecated_parameters_become_variables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        namespace: x
        stacks:
          - name: a
            class_path: m.B
            parameters: {One: 1}
            variables: {Two: 2}
        """,
    )
    loaded = load_config(path)
    assert loaded.config.stack("a").variables == {"One": 1, "Two": 2}
    assert any("deprecated" in n for n in loaded.notices)


def test_locked_stack_needs_no_template(tmp_path: Path) -> None:
    path = write(tmp_path, "namespace: x\nstacks:\n  - name: a\n    locked: true\n")
    assert load_config(path).config.stack("a").locked


def test_config_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("namespace: piped\nstacks: []\n"))
    loaded = load_config("-")
    assert loaded.config.namespace == "piped"
    assert loaded.source.file == "<stdin>"


@pytest.mark.parametrize(
    ("text", "line", "fragment", "hint"),
    [
        ("", None, "the config is empty", "namespace"),
        ("stacks: []\n", 1, "'namespace' is missing", "namespace"),
        ("- a\n- b\n", 1, "must be a map", "namespace"),
        (
            "namespace: x\nstacks:\n  - name: a\n   class_path: b\n",
            4,
            "YAML syntax error",
            "indent",
        ),
        (
            "namespace: x\nstacks:\n  - name: a\n    class_path: m.A\n  - name: a\n    class_path: m.B\n",
            5,
            "stack name 'a' is used twice",
            "line 3",
        ),
        (
            "namespace: x\nstacks:\n  - name: a\n    class_path: m.A\n    lockd: true\n",
            5,
            "unknown key 'lockd' in stack 'a'",
            "did you mean 'locked'?",
        ),
        (
            "namespace: x\nstacks:\n  - name: a\n    class_path: m.A\n    locked: maybe\n",
            5,
            "stacks[0].locked",
            None,
        ),
        (
            "namespace: x\nstacks:\n  - name: a\n    class_path: m.A\n    template_path: t.yaml\n",
            3,
            "not both",
            None,
        ),
        ("namespace: x\nstacks:\n  - name: a\n", 3, "set class_path", None),
        ("namespace: x\nstacks:\n  - class_path: m.A\n", 3, "required key 'name' is missing", None),
        (
            "namespace: x\nstacks:\n  - name: a\n    class_path: m.A\n    in_progress_behavior: skip\n",
            5,
            "in_progress_behavior",
            None,
        ),
        (
            "namespace: x\npre_build:\n  - path: a.b\n    requird: true\n",
            4,
            "unknown key 'requird'",
            "did you mean 'required'?",
        ),
    ],
)
def test_bad_config_names_file_line_and_key(
    tmp_path: Path, text: str, line: int | None, fragment: str, hint: str | None
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert error.file == path
    assert error.line == line
    assert fragment in error.message
    if hint:
        assert hint in (error.hint or "")
    assert error.exit_code == 2


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found") as caught:
        load_config(str(tmp_path / "nope.yaml"))
    assert "CONFIG" in (caught.value.hint or "")


def test_project_protection_defaults_and_overrides(tmp_path: Path) -> None:
    default = load_config(write(tmp_path, "namespace: x\n")).config.protection
    assert default.rules == ["destructive & stateful"] and default.deletion is True
    path = write(
        tmp_path,
        "namespace: x\nprotection:\n  rules: [security, 'AWS::Route53::*']\n  deletion: false\n",
    )
    custom = load_config(path).config.protection
    assert custom.rules == ["security", "AWS::Route53::*"] and custom.deletion is False


def test_project_protection_unknown_key(tmp_path: Path) -> None:
    path = write(tmp_path, "namespace: x\nprotection:\n  rule: [security]\n")
    with pytest.raises(ConfigError, match="unknown key 'rule'") as caught:
        load_config(path)
    assert caught.value.line == 3
    assert caught.value.hint == "did you mean 'rules'?"
