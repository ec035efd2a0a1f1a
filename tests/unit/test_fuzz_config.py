"""Generated and mutated configs: stackyard answers with its own errors, never a traceback.

A property test over whole projects (config + environment + a blueprint and a
raw template): loading and rendering either works or raises a StackyardError
that carries a message. The fast run is part of `make test`; the 1,000-example
run is a drill (`make drills`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackyard.errors import StackyardError
from stackyard.project import Project

BLUEPRINT = """
from troposphere import Output, Ref, sqs

from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.variables.types import CFNString


class Queue(Blueprint):
    VARIABLES = {
        "Name": {"type": str, "default": "q"},
        "Count": {"type": int, "default": 1},
        "Upstream": {"type": CFNString, "default": "none"},
    }

    def create_template(self):
        q = self.template.add_resource(sqs.Queue("Q", QueueName=self.get_variables()["Name"]))
        self.template.add_output(Output("Url", Value=Ref(q)))
"""

TEMPLATE = """\
Parameters:
  Name: {Type: String}
Resources:
  P:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: !Ref Name}
"""

STACK_KEYS = [
    "name",
    "stack_name",
    "class_path",
    "template_path",
    "description",
    "variables",
    "requires",
    "required_by",
    "locked",
    "enabled",
    "protected",
    "tags",
    "stack_policy_path",
    "in_progress_behavior",
    "notification_arns",
    "region",
    "profile",
    "termination_protection",
    "bogus_key",
]

names = st.sampled_from(["a", "b", "c", "d", "a", "b", ""])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text(max_size=12),
    st.sampled_from(
        [
            "${output a::Url}",
            "${output b::Url}",
            "${xref x::y}",
            "${default k::v}",
            "${split ,::a,b}",
            "${envvar HOME}",
            "${file plain:x}",
            "${nope x}",
            "${output}",
            "${",
            "}",
            "${output ${default a::b}::Url}",
            "$missing",
            "${ssm /x}",
            "fuzzbp.Queue",
            "templates/t.yaml",
            "nowhere.Mod",
            "fuzzbp.Missing",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
# Mostly-valid stacks with a few odd values, so that many examples get as far as rendering.
good_variables = st.dictionaries(
    st.sampled_from(["Name", "Count", "Upstream", "Extra"]),
    st.one_of(scalars, st.sampled_from(["abc", "2", "${output a::Url}", "${default k::v}"])),
    max_size=3,
)
plausible_stacks = st.fixed_dictionaries(
    {
        "name": names,
        "class_path": st.sampled_from(
            ["fuzzbp.Queue", "fuzzbp.Queue", "fuzzbp.Queue", "fuzzbp.Missing", "nowhere.Mod"]
        ),
        "variables": good_variables,
    },
    optional={
        "requires": st.lists(names, max_size=2),
        "locked": st.booleans(),
        "enabled": st.booleans(),
        "protected": st.one_of(st.booleans(), st.lists(st.sampled_from(["Q", "replace"]))),
        "tags": st.dictionaries(st.sampled_from(["a", "b"]), scalars, max_size=2),
    },
)
raw_stacks = st.fixed_dictionaries(
    {"name": names, "template_path": st.sampled_from(["templates/t.yaml", "missing.yaml"])},
    optional={"variables": good_variables},
)
odd_stacks = st.fixed_dictionaries(
    {"name": names},
    optional={key: values for key in STACK_KEYS if key != "name"},
)
stack_entries = st.one_of(plausible_stacks, plausible_stacks, raw_stacks, odd_stacks)
stacks_field = st.one_of(
    st.lists(stack_entries, max_size=4, unique_by=lambda s: s.get("name")), values
)
wild_configs = st.fixed_dictionaries(
    {
        "namespace": st.one_of(st.just("ns"), st.text(max_size=6), st.integers(), st.none()),
        "sys_path": st.sampled_from([".", ".", ".", "nowhere", 3]),
    },
    optional={
        "stacks": stacks_field,
        "targets": values,
        "tags": values,
        "mappings": values,
        "lookups": values,
        "pre_build": values,
    },
)
plausible_configs = st.fixed_dictionaries(
    {
        "namespace": st.just("ns"),
        "sys_path": st.just("."),
        "stacks": st.lists(
            plausible_stacks | raw_stacks, max_size=4, unique_by=lambda s: s["name"]
        ),
    }
)
configs = st.one_of(plausible_configs, plausible_configs, wild_configs)


def _check(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "fuzzbp.py").write_text(BLUEPRINT)
        (base / "templates").mkdir()
        (base / "templates" / "t.yaml").write_text(TEMPLATE)
        config = base / "stackyard.yaml"
        config.write_text(text)
        try:
            project = Project.load(str(config), overrides={"k": "v"})
            resolve = project.resolve_context()
            for name in project.graph.stacks:
                project.render(name, resolve)
        except StackyardError as exc:
            assert str(exc).strip()
            assert exc.exit_code in (1, 2)


def _mutate(text: str, cut: int, insert: str) -> str:
    at = cut % (len(text) + 1)
    return text[:at] + insert + text[at:]


COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@settings(max_examples=150, **COMMON)  # type: ignore[arg-type]
@given(configs)
def test_generated_configs_fail_cleanly(config: dict[str, object]) -> None:
    _check(yaml.safe_dump(config))


@settings(max_examples=100, **COMMON)  # type: ignore[arg-type]
@given(
    configs,
    st.integers(0, 10_000),
    st.sampled_from(["\n  - ", ":", "${", "\t", "- [", "&a *a", "!!python/object ", "}"]),
)
def test_mutated_configs_fail_cleanly(config: dict[str, object], cut: int, insert: str) -> None:
    _check(_mutate(yaml.safe_dump(config), cut, insert))


@pytest.mark.slow
@settings(max_examples=1000, **COMMON)  # type: ignore[arg-type]
@given(configs, st.integers(0, 10_000), st.sampled_from(["\n  - ", ":", "${", "\t", "}", "  "]))
def test_thousand_mutated_configs_fail_cleanly(
    config: dict[str, object], cut: int, insert: str
) -> None:
    _check(_mutate(yaml.safe_dump(config), cut, insert))
