"""Environment files in both stacker forms, and ${KEY} substitution that never guesses."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackyard.config import load_config
from stackyard.config.environment import parse_overrides, parse_text_environment
from stackyard.errors import ConfigError, EnvironmentKeyError


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


CONFIG = """\
namespace: ${namespace}
# a comment mentioning $HOME is left alone
stacks:
  - name: web
    class_path: blueprints.Web
    variables:
      InstanceType: ${web_instance_type}
      Subnets: ${subnets}
      Label: web-${namespace}
      Vpc: ${output vpc::VpcId}
      Price: $$5
"""


def test_text_environment_substituted_before_parsing(tmp_path: Path) -> None:
    env = write(
        tmp_path,
        "stage.env",
        "# comment\nnamespace: stage\nweb_instance_type: m5.large\nsubnets: a,b\n",
    )
    loaded = load_config(write(tmp_path, "c.yaml", CONFIG), environment_file=env)
    variables = loaded.config.stack("web").variables
    assert loaded.config.namespace == "stage"
    assert variables["InstanceType"] == "m5.large"
    assert variables["Subnets"] == "a,b"
    assert variables["Label"] == "web-stage"
    assert variables["Vpc"] == "${output vpc::VpcId}"  # lookups are left for later
    assert variables["Price"] == "$5"
    assert loaded.environment["namespace"] == "stage"


def test_yaml_environment_substitutes_objects_whole(tmp_path: Path) -> None:
    env = write(
        tmp_path,
        "stage.yaml",
        """\
        namespace: stage
        web_instance_type: m5.large
        subnets:
          - subnet-1
          - subnet-2
        """,
    )
    loaded = load_config(write(tmp_path, "c.yaml", CONFIG), environment_file=env)
    variables = loaded.config.stack("web").variables
    assert variables["Subnets"] == ["subnet-1", "subnet-2"]
    assert variables["Label"] == "web-stage"


def test_yaml_environment_refuses_object_inside_string(tmp_path: Path) -> None:
    env = write(tmp_path, "e.yaml", "namespace: {a: 1}\nweb_instance_type: x\nsubnets: y\n")
    with pytest.raises(ConfigError, match="cannot be placed inside a longer string") as caught:
        load_config(write(tmp_path, "c.yaml", CONFIG), environment_file=env)
    assert caught.value.line == 9


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    env = write(
        tmp_path, "stage.env", "namespace: stage\nweb_instance_type: m5.large\nsubnets: a\n"
    )
    loaded = load_config(
        write(tmp_path, "c.yaml", CONFIG), environment_file=env, overrides={"namespace": "prod"}
    )
    assert loaded.config.namespace == "prod"


@pytest.mark.parametrize("env_name", ["stage.env", "stage.yaml"])
def test_missing_key_is_an_error_with_line_even_when_lookups_are_present(
    tmp_path: Path, env_name: str
) -> None:
    # stacker silently kept ${web_instance_type} here, because the config holds a lookup.
    env = write(tmp_path, env_name, "namespace: stage\nsubnets: a\n")
    with pytest.raises(EnvironmentKeyError) as caught:
        load_config(write(tmp_path, "c.yaml", CONFIG), environment_file=env)
    error = caught.value
    assert "'web_instance_type'" in error.message
    assert error.line == 7
    assert "-e web_instance_type=" in (error.hint or "")


def test_bare_dollar_name_is_substituted_too(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "namespace: $ns\nstacks: []\n")
    assert load_config(path, overrides={"ns": "x"}).config.namespace == "x"


def test_text_environment_rejects_lines_without_colon(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_text_environment("a: 1\njust words\n", "e.env")
    assert (caught.value.file, caught.value.line) == ("e.env", 2)


def test_values_keep_colons() -> None:
    assert parse_text_environment("url: http://x:80/\n", "e.env") == {"url": "http://x:80/"}


def test_missing_environment_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment file not found"):
        load_config(
            write(tmp_path, "c.yaml", "namespace: x\n"), environment_file=str(tmp_path / "no.env")
        )


def test_overrides_parse_and_reject() -> None:
    assert parse_overrides(["a=1", "b=x=y", "a=2"]) == {"a": "2", "b": "x=y"}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_overrides(["novalue"])
