"""Generated and mutated raw templates through ``stackyard render`` and ``validate``.

The config fuzz (``tests/unit/test_fuzz_config.py``) keeps its raw template fixed; this is the
other half: the config is plain and the template is generated (parameters, SSM/SNS/SQS
resources, intrinsic functions in both the long and the YAML short form, outputs), then
mutated structurally (a value replaced by junk, a key dropped, a reference to nothing) and
textually (a token inserted anywhere). Each example runs one command through the CLI's real
entry point: it may succeed or fail, but only with exit code 0, 1 or 2 and never with a
traceback or an "internal error".
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackyard.cli.main import main
from stackyard.errors import StackyardError

TYPES: dict[str, dict[str, Any]] = {
    "AWS::SSM::Parameter": {"Type": "String", "Value": "v"},
    "AWS::SNS::Topic": {"DisplayName": "t"},
    "AWS::SQS::Queue": {"DelaySeconds": 0},
}
ATTRIBUTES = {
    "AWS::SSM::Parameter": "Value",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "Arn",
}

names = st.sampled_from(["A", "B", "Q", "Topic", "P1", "weird-name", ""])
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.text(max_size=8),
    st.sampled_from(
        [
            {"Ref": "Nowhere"},
            {"Fn::GetAtt": ["Nowhere", "Arn"]},
            {"Fn::GetAtt": "Q"},
            {"Fn::Sub": "${Missing}"},
            {"Fn::Sub": ["${X}", {"X": {"Ref": "AWS::Region"}}]},
            {"Fn::Join": [",", "notalist"]},
            {"Fn::If": ["NoSuchCondition", 1, 2]},
            {"Ref": ["a", "b"]},
            {"Fn::Unknown": 1},
            [],
            {},
            "${output a::B}",
            "{{resolve:ssm:/x}}",
        ]
    ),
)


@st.composite
def templates(draw: st.DrawFn) -> dict[str, Any]:
    """A mostly valid template: parameters, a few resources wired by intrinsics, outputs."""
    params = draw(st.lists(names, max_size=3, unique=True))
    parameters = {
        p: {"Type": draw(st.sampled_from(["String", "Number", "CommaDelimitedList", "Bogus"]))}
        for p in params
        if p
    }
    resources: dict[str, Any] = {}
    for index in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(sorted(TYPES)))
        properties = dict(TYPES[kind])
        wired: bool = draw(st.booleans())
        if parameters and wired:
            key = next(iter(properties))
            ref = draw(st.sampled_from(sorted(parameters)))
            properties[key] = draw(
                st.sampled_from(
                    [
                        {"Ref": ref},
                        {"Fn::Sub": f"x-${{{ref}}}"},
                        {"Fn::Join": ["-", [{"Ref": ref}, "y"]]},
                    ]
                )
            )
        resources[f"R{index}"] = {"Type": kind, "Properties": properties}
    outputs = {}
    for logical, resource in resources.items():
        if draw(st.booleans()):
            attribute = ATTRIBUTES[resource["Type"]]
            outputs[f"O{logical}"] = {"Value": {"Fn::GetAtt": [logical, attribute]}}
    template: dict[str, Any] = {"Resources": resources}
    if parameters:
        template["Parameters"] = parameters
    if outputs:
        template["Outputs"] = outputs
    if draw(st.booleans()):
        template["AWSTemplateFormatVersion"] = draw(st.sampled_from(["2010-09-09", "1999", 3]))
    return template


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A generated template with zero to three structural mutations."""
    template = draw(templates())
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(template)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = template
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(draw(junk))  # junk holds shared constants
    return template


def _short_form(text: str) -> str:
    """YAML with CloudFormation's short-form tags where the long form was."""
    for long, short in (("Fn::Sub", "!Sub"), ("Fn::Join", "!Join"), ("Fn::GetAtt", "!GetAtt")):
        text = text.replace(f"{long}:", f"{short}").replace(f"'{long}':", short)
    return text.replace("Ref:", "!Ref")


INSERTS = [
    "\n  - ",
    ":",
    "!Ref ",
    "!GetAtt x.y",
    "{",
    "}",
    "\t",
    "&a *a",
    "!!python/object ",
    '"',
    "[",
    "- !Sub",
    "${",
]


@dataclass(frozen=True)
class Crash:
    """An exception that escaped stackyard: its type and the innermost stackyard frame."""

    kind: str
    where: str
    message: str


def _crash(exc: BaseException) -> Crash:
    frames = [
        f"{Path(frame.filename).name}:{frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
        if "stackyard" in Path(frame.filename).parts
    ]
    return Crash(type(exc).__name__, frames[-1] if frames else "?", str(exc))


def _run(command: list[str]) -> tuple[int, str, Crash | None]:
    """Run the CLI with ``--debug`` so that an unexpected exception escapes with its frames."""
    out, err = io.StringIO(), io.StringIO()
    crash = None
    shown = ""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--debug", *command])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except StackyardError as exc:  # --debug re-raises these; without it, a clear message
            shown, code = f"error: {exc}\n", exc.exit_code
        except Exception as exc:
            crash = _crash(exc)
            code = 1
    return code, out.getvalue() + err.getvalue() + shown, crash


def _check(template: dict[str, Any], form: str, cut: int, insert: str, command: str) -> None:
    if form == "json":
        text, suffix = json.dumps(template, indent=1), "json"
    else:
        text, suffix = yaml.safe_dump(template, sort_keys=False), "yaml"
        if form == "short":
            text = _short_form(text)
    if insert:
        at = cut % (len(text) + 1)
        text = text[:at] + insert + text[at:]
    code, output, crash = _render(text, suffix, _parameters(template), command)
    assert crash is None, (crash, text)
    assert code in (0, 1, 2), (code, output, text)
    assert "Traceback" not in output and "internal error" not in output, (output, text)
    if code:
        assert output.strip(), text


def _parameters(template: dict[str, Any]) -> list[str]:
    section = template.get("Parameters")
    names = sorted(section) if isinstance(section, dict) else []
    return [name for name in names if isinstance(name, str) and name]


def _render(
    text: str, suffix: str, parameters: list[str], command: str
) -> tuple[int, str, Crash | None]:
    """Write the template and a one-stack config that passes every parameter; run it."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / f"t.{suffix}").write_text(text)
        stack = {
            "name": "s",
            "template_path": f"t.{suffix}",
            "variables": dict.fromkeys(parameters, "1"),
        }
        (base / "c.yaml").write_text(yaml.safe_dump({"namespace": "fz", "stacks": [stack]}))
        argv = [*command.split(), str(base / "c.yaml")]
        if command == "render":
            argv[1:1] = ["--out", str(base / "out")]
        return _run(argv)


forms = st.sampled_from(["json", "yaml", "short"])
# cfn-lint costs about 0.3 s a template: one example in six lints.
commands = st.sampled_from(["render"] * 3 + ["validate --no-lint"] * 2 + ["validate"])
COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@settings(max_examples=40, **COMMON)  # type: ignore[arg-type]
@given(mutated(), forms, st.integers(0, 5000), st.sampled_from(["", "", *INSERTS]), commands)
def test_mutated_templates_fail_cleanly(
    template: dict[str, Any], form: str, cut: int, insert: str, command: str
) -> None:
    _check(template, form, cut, insert, command)


@pytest.mark.slow
@settings(max_examples=1000, **COMMON)  # type: ignore[arg-type]
@given(mutated(), forms, st.integers(0, 5000), st.sampled_from(["", "", *INSERTS]), commands)
def test_thousand_mutated_templates_fail_cleanly(
    template: dict[str, Any], form: str, cut: int, insert: str, command: str
) -> None:
    _check(template, form, cut, insert, command)


@pytest.mark.parametrize(
    "section",
    [None, 3, True, "A", ["A"], {"A": "String"}, {"A": None}, {"A": []}],
    ids=["null", "number", "true", "text", "list", "def-text", "def-null", "def-list"],
)
def test_parameters_section_that_is_not_a_mapping(section: object) -> None:
    """Found by this drill (it was an internal error): a Parameters section, or a parameter
    definition, that is not a mapping is a BlueprintError naming the file and key (exit 2)."""
    template = {"Parameters": section, "Resources": {"T": {"Type": "AWS::SNS::Topic"}}}
    code, output, crash = _render(json.dumps(template), "json", [], "render")
    assert crash is None, crash
    assert code == 2 and "Parameters" in output, output
