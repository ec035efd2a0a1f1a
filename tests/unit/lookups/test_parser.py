from __future__ import annotations

import pytest

from stackyard.errors import LookupError_
from stackyard.lookups.parser import Call, Template, has_lookups, parse


def shape(template: Template) -> list[object]:
    """A template as nested plain lists: text, or (type, [argument parts])."""
    return [p if isinstance(p, str) else (p.type, shape(p.arg)) for p in template.parts]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("plain text", ["plain text"], id="no-lookup"),
        pytest.param("", [], id="empty"),
        pytest.param("${output vpc::Id}", [("output", ["vpc::Id"])], id="single"),
        pytest.param(
            "a-${default x::1}-b-${envvar HOME}",
            ["a-", ("default", ["x::1"]), "-b-", ("envvar", ["HOME"])],
            id="several-in-text",
        ),
        pytest.param(
            "${output ${default stack::vpc}::VpcId}",
            [("output", [("default", ["stack::vpc"]), "::VpcId"])],
            id="nested",
        ),
        pytest.param(
            "${split ,::${output a::${default k::b}}}",
            [("split", [",::", ("output", ["a::", ("default", ["k::b"])])])],
            id="nested-twice",
        ),
        pytest.param(
            "${ami owners:self  name_regex:web-[0-9]+ }",
            [("ami", ["owners:self  name_regex:web-[0-9]+ "])],
            id="argument-keeps-inner-whitespace",
        ),
        pytest.param("${rxref\n  vpc::Id}", [("rxref", ["vpc::Id"])], id="newline-separator"),
        pytest.param("${custom}", [("custom", [])], id="no-argument"),
        pytest.param('{"a": {"b": 1}}', ['{"a": {"b": 1}}'], id="json-braces-are-text"),
        pytest.param("${xref a::b}}", [("xref", ["a::b"]), "}"], id="stray-close-is-text"),
        pytest.param("cost $5 {x}", ["cost $5 {x}"], id="dollar-without-brace"),
    ],
)
def test_parse_shapes(text: str, expected: list[object]) -> None:
    template = parse(text)
    assert shape(template) == expected
    assert template.source == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("${output vpc::Id", "never closed", id="unclosed"),
        pytest.param("x ${split ,::${output a::b}", "never closed", id="unclosed-outer"),
        pytest.param("${}", "empty lookup", id="empty"),
        pytest.param("${ output vpc::Id}", "no lookup type", id="space-before-type"),
        pytest.param("${${default a::b} x}", "type cannot itself be a lookup", id="nested-type"),
        pytest.param("${", "no lookup type", id="only-opener"),
    ],
)
def test_malformed_lookups_raise_with_hint(text: str, problem: str) -> None:
    with pytest.raises(LookupError_) as info:
        parse(text)
    assert problem in info.value.message
    assert info.value.hint is not None and "${TYPE ARGUMENT}" in info.value.hint
    assert info.value.exit_code == 2


def test_error_names_the_column() -> None:
    with pytest.raises(LookupError_, match="column 5"):
        parse("abc ${output x")


def test_calls_lists_outer_before_nested() -> None:
    calls = list(parse("${split ,::${output a::X}} ${default k::v}").calls())
    assert [c.type for c in calls] == ["split", "output", "default"]
    assert calls[1].source == "${output a::X}"


def test_single_call_and_literal_prefix() -> None:
    template = parse("${output a::${default k::v}}")
    call = template.single_call
    assert isinstance(call, Call)
    assert call.arg.literal_prefix() == "a::"
    assert not call.arg.is_literal
    assert parse("x${output a::b}").single_call is None
    assert parse("just text").is_literal


def test_templates_are_immutable() -> None:
    template = parse("${output a::b}")
    with pytest.raises(AttributeError):
        template.parts = ()  # type: ignore[misc]


@pytest.mark.parametrize(("text", "expected"), [("${a b}", True), ("$a {b}", False)])
def test_has_lookups(text: str, expected: bool) -> None:
    assert has_lookups(text) is expected
