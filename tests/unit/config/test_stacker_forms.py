"""Every config form stacker 1.7's parse() accepts loads, and means what it meant to stacker."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackyard.config import load_config
from stackyard.config.stacker_forms import NAMESPACE_DEPRECATION
from stackyard.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "stacker.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_namespace_from_a_text_environment_file_with_stackers_notice(tmp_path: Path) -> None:
    env = write(tmp_path, "namespace: tutorial\nvpc_cidr: 10.0.0.0/16\n", "stage.env")
    config = write(tmp_path, "stacks: []\n")
    loaded = load_config(config, environment_file=env)
    assert loaded.config.namespace == "tutorial"
    assert loaded.notices == [f"{config}: {NAMESPACE_DEPRECATION}"]
    assert (
        "DEPRECATION WARNING: specifying namespace in the environment is deprecated"
        in (loaded.notices[0])
    )


def test_namespace_from_a_yaml_environment_file_or_an_override(tmp_path: Path) -> None:
    env = write(tmp_path, "namespace: 42\n", "stage.yaml")
    config = write(tmp_path, "namespace:\nstacks: []\n")  # null: stacker falls back too
    assert load_config(config, environment_file=env).config.namespace == "42"
    assert load_config(config, overrides={"namespace": "cli"}).config.namespace == "cli"


def test_the_configs_namespace_wins_and_an_empty_one_is_kept(tmp_path: Path) -> None:
    env = write(tmp_path, "namespace: fromenv\n", "stage.env")
    loaded = load_config(write(tmp_path, "namespace: ''\nstacks: []\n"), environment_file=env)
    assert loaded.config.namespace == ""
    assert loaded.notices == []


@pytest.mark.parametrize("env_text", ["other: 1\n", "namespace:\n"])
def test_no_namespace_anywhere_is_still_an_error(tmp_path: Path, env_text: str) -> None:
    env = write(tmp_path, env_text, "stage.env")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "stacks: []\n"), environment_file=env)
    assert "'namespace' is missing" in caught.value.message
    assert "environment file" in (caught.value.hint or "")


def test_stacks_as_a_mapping_become_a_list_in_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        namespace: x
        stacks:
          vpc:
            class_path: blueprints.VPC
          app:
            name: ignored   # stacker overwrites it with the key
            template_path: app.yaml
            requires: [vpc]
        """,
    )
    loaded = load_config(path)
    assert [s.name for s in loaded.config.stacks] == ["vpc", "app"]
    assert loaded.config.stack("app").requires == ["vpc"]
    assert loaded.stack_line("vpc") == 3
    assert loaded.where("app", "template_path") == (path, 7)


def test_an_error_in_a_mapping_stack_names_it_and_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        namespace: x
        stacks:
          vpc:
            class_path: blueprints.VPC
            variabels: {}
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.line == 5
    assert "in stack 'vpc'" in caught.value.message


def test_a_mapping_stack_with_no_settings_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "namespace: x\nstacks:\n  vpc:\n"))
    assert caught.value.line == 3
    assert "stack 'vpc' has no settings" in caught.value.message


def test_hooks_as_a_mapping_become_a_list(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        namespace: x
        pre_build:
          make_domain:
            path: stacker.hooks.route53.create_domain
            args: {domain: example.com}
          keys:
            path: stacker.hooks.keypair.ensure_keypair_exists
            args:
        stacks: []
        """,
    )
    hooks = load_config(path).config.pre_build
    assert [h.path for h in hooks] == [
        "stacker.hooks.route53.create_domain",
        "stacker.hooks.keypair.ensure_keypair_exists",
    ]
    assert hooks[1].args == {}


def test_keys_with_no_value_are_keys_not_given(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        namespace: x
        namespace_delimiter:
        sys_path:
        tags:
        mappings:
        lookups:
        post_build:
        targets:
          - name: everything
            requires:
        stacks:
          - name: vpc
            class_path: blueprints.VPC
            variables:
            requires:
            tags:
            description:
        """,
    )
    config = load_config(path).config
    vpc = config.stack("vpc")
    assert vpc.variables == {} and vpc.requires == [] and vpc.tags == {}
    assert config.namespace_delimiter == "-"
    assert config.sys_path is None and config.mappings == {} and config.post_build == []
    assert config.targets[0].requires == []


def test_stacks_with_no_value_is_no_stacks(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "namespace: x\nstacks:\n")).config.stacks == []


def test_booleans_with_no_value_are_false_as_stacker_reads_them(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        namespace: x
        pre_build:
          - path: stacker.hooks.command.run_command
            required:
            enabled:
        stacks:
          - name: vpc
            class_path: blueprints.VPC
            protected:
            locked:
          - name: idle
            class_path: blueprints.VPC
            enabled:
        """,
    )
    config = load_config(path).config
    vpc = config.stack("vpc")
    assert vpc.protected is False and vpc.locked is False and vpc.enabled is True
    # stacker skips a stack or hook whose `enabled` is given no value (it tests it for truth).
    assert config.stack("idle").enabled is False
    hook = config.pre_build[0]
    assert hook.required is False and hook.enabled is False


def test_numbers_in_mappings_are_text_as_stacker_holds_them(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        namespace: x
        mappings:
          Sizes:
            us-east-1: {Count: 2, Name: small, Flag: true}
        stacks: []
        """,
    )
    sizes = load_config(path).config.mappings["Sizes"]["us-east-1"]
    assert sizes == {"Count": "2", "Name": "small", "Flag": True}
