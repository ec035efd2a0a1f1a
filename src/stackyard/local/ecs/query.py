"""ECS's cluster query language, as ``memberOf`` placement constraints use it.

An expression compares a subject of a container instance with a value::

    attribute:ecs.instance-type =~ m5.*
    attribute:profile == web and not(attribute:ecs.availability-zone in [us-east-1a, us-east-1b])
    task:group == service:api

Subjects are ``attribute:NAME``, ``ec2InstanceId``, ``agentConnected``, ``agentVersion``,
``registeredAt``, ``runningTasksCount`` and ``task:group``. Operators: ``==``/``equals``,
``!=``/``not_equals``, ``exists``, ``!exists``/``not_exists``, ``>``/``greater_than``,
``>=``/``greater_than_equal``, ``<``/``less_than``, ``<=``/``less_than_equal``, ``in``,
``!in``/``not_in`` (a list in parentheses or brackets), ``=~``/``matches`` and
``!~``/``not_matches`` (``*`` and ``?`` wildcards). Expressions combine with
``and``/``&&``, ``or``/``||``, ``not``/``!`` and parentheses.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Instance", "QueryError", "parse"]


class QueryError(ValueError):
    """An expression that is not valid cluster query language."""


@dataclass(frozen=True)
class Instance:
    """What an expression can ask of one container instance."""

    attributes: Mapping[str, str | None]
    ec2_instance_id: str = ""
    agent_connected: bool = True
    agent_version: str = ""
    registered_at: str = ""
    running_tasks_count: int = 0
    task_groups: Sequence[str] = field(default_factory=tuple)


Predicate = Callable[[Instance], bool]

_TOKEN = re.compile(r"\s*(\(|\)|\[|\]|,|==|!=|>=|<=|=~|!~|&&|\|\||>|<|!|[^\s()\[\],!<>=&|]+)")
_OPERATORS = {
    "==": "==",
    "equals": "==",
    "!=": "!=",
    "not_equals": "!=",
    ">": ">",
    "greater_than": ">",
    ">=": ">=",
    "greater_than_equal": ">=",
    "<": "<",
    "less_than": "<",
    "<=": "<=",
    "less_than_equal": "<=",
    "=~": "=~",
    "matches": "=~",
    "!~": "!~",
    "not_matches": "!~",
    "exists": "exists",
    "not_exists": "!exists",
    "in": "in",
    "not_in": "!in",
}


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise QueryError(f"unexpected character at {position} in {text!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def parse(expression: str) -> Predicate:
    """A predicate over container instances; raises QueryError for an invalid expression."""
    parser = _Parser(_tokens(expression), expression)
    predicate = parser.expression()
    if parser.position != len(parser.tokens):
        raise QueryError(f"unexpected {parser.peek()!r} in {expression!r}")
    return predicate


class _Parser:
    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.position = 0

    def peek(self, ahead: int = 0) -> str | None:
        index = self.position + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise QueryError(f"unexpected end of {self.text!r}")
        self.position += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() in ("or", "||"):
            self.take()
            right = self.conjunction()
            left = _either(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.unary()
        while self.peek() in ("and", "&&"):
            self.take()
            right = self.unary()
            left = _both(left, right)
        return left

    def unary(self) -> Predicate:
        token = self.peek()
        if token in ("not", "!"):
            self.take()
            inner = self.unary()
            return lambda instance: not inner(instance)
        if token == "(":
            self.take()
            inner = self.expression()
            if self.take() != ")":
                raise QueryError(f"missing ')' in {self.text!r}")
            return inner
        return self.condition()

    def condition(self) -> Predicate:
        subject = self.take()
        if subject in _OPERATORS or subject in ("(", ")", ",", "and", "or"):
            raise QueryError(f"expected a subject, got {subject!r} in {self.text!r}")
        word = self.take()
        if word == "!" and self.peek() in ("exists", "in"):
            word = "!" + self.take()
        operator = _OPERATORS.get(word, word if word in ("!exists", "!in") else None)
        if operator is None:
            raise QueryError(f"unknown operator {word!r} in {self.text!r}")
        read = _subject(subject, self.text)
        if operator in ("exists", "!exists"):
            wanted = operator == "exists"
            return lambda instance: any(v is not None for v in read(instance)) is wanted
        if operator in ("in", "!in"):
            values = self.value_list()
            inside = operator == "in"
            return lambda instance: any(v in values for v in read(instance)) is inside
        value = self.take()
        return _compare(read, operator, value)

    def value_list(self) -> frozenset[str]:
        opening = self.take()
        if opening not in ("(", "["):
            return frozenset({opening})
        closing = ")" if opening == "(" else "]"
        values: set[str] = set()
        while True:
            token = self.take()
            if token == closing:
                return frozenset(values)
            if token != ",":
                values.add(token)


def _either(left: Predicate, right: Predicate) -> Predicate:
    return lambda instance: left(instance) or right(instance)


def _both(left: Predicate, right: Predicate) -> Predicate:
    return lambda instance: left(instance) and right(instance)


def _subject(subject: str, text: str) -> Callable[[Instance], list[str | None]]:
    """A reader of the subject's values (task:group has one value per running task)."""
    if subject.startswith("attribute:"):
        name = subject[len("attribute:") :]

        def attribute(instance: Instance) -> list[str | None]:
            if name not in instance.attributes:
                return [None]
            value = instance.attributes[name]
            return [value if value is not None else ""]

        return attribute
    readers: dict[str, Callable[[Instance], list[str | None]]] = {
        "ec2InstanceId": lambda i: [i.ec2_instance_id],
        "agentConnected": lambda i: [str(i.agent_connected).lower()],
        "agentVersion": lambda i: [i.agent_version],
        "registeredAt": lambda i: [i.registered_at],
        "runningTasksCount": lambda i: [str(i.running_tasks_count)],
        "task:group": lambda i: list(i.task_groups) or [None],
    }
    reader = readers.get(subject)
    if reader is None:
        raise QueryError(f"unknown subject {subject!r} in {text!r}")
    return reader


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _compare(read: Callable[[Instance], list[str | None]], operator: str, value: str) -> Predicate:
    def test(actual: str | None) -> bool:
        if operator == "==":
            return actual == value
        if operator == "!=":
            return actual != value
        if operator in ("=~", "!~"):
            found = actual is not None and fnmatch.fnmatchcase(actual, value)
            return found if operator == "=~" else not found
        left, right = _number(actual), _number(value)
        if left is None or right is None:
            if actual is None:
                return False
            left_s, right_s = actual, value
            return {
                ">": left_s > right_s,
                ">=": left_s >= right_s,
                "<": left_s < right_s,
                "<=": left_s <= right_s,
            }[operator]
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[
            operator
        ]

    if operator in ("!=", "!~"):
        return lambda instance: all(test(v) for v in read(instance))
    return lambda instance: any(test(v) for v in read(instance))
