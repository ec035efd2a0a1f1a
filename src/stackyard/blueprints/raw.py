"""Blueprints for ``template_path`` stacks: JSON, YAML (with short tags) and Jinja2 templates.

A ``.j2`` template is first rendered with Jinja2, seeing ``context`` (the run's
:class:`~stackyard.context.Context`), ``variables`` (the stack's resolved
variables), ``mappings`` and ``name``; the result is then parsed like any other
template. JSON is recognised by a leading ``{``, anything else is read as YAML.

The template's ``Parameters`` are the blueprint's parameters: stack variables
with the same names become the parameter values (other variables are only seen
by Jinja2). The rendered template is normalized JSON, keys in the author's order,
so the same file renders to the same bytes every time.

A Jinja2 expression that prints an undefined name (a misspelt variable, say) is
an error rather than an empty string; testing it (``{% if variables.X %}``)
still works.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackyard.errors import BlueprintError, VariableError

from .base import Blueprint, _as_mapping

if TYPE_CHECKING:
    import jinja2

__all__ = ["RawTemplateBlueprint", "get_template_params", "parse_cloudformation_template"]


def get_template_params(template: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Parameters`` section of a parsed template (empty if it has none)."""
    params = template.get("Parameters") or {}
    return dict(params)


def _check_parameters(template: Mapping[str, Any], source: str, stack: str) -> None:
    """CloudFormation's rule: ``Parameters`` is a mapping of names to mappings."""
    if "Parameters" not in template:
        return
    section = template["Parameters"]
    if not isinstance(section, Mapping):
        raise BlueprintError(
            f"'Parameters' must be a mapping of parameter names, found {_kind(section)}",
            file=source,
            key="Parameters",
            stack=stack,
            hint="write each parameter as `Name: {Type: String}`, or leave the section out",
        )
    for name, definition in section.items():
        if not isinstance(definition, Mapping):
            raise BlueprintError(
                f"parameter {name!r} must be a mapping with a Type, found {_kind(definition)}",
                file=source,
                key=f"Parameters.{name}",
                stack=stack,
                hint=f"write `{name}: {{Type: String}}`",
            )


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def parse_cloudformation_template(text: str, *, source: str = "<template>") -> Any:
    """Parse a JSON or YAML (short tags allowed) CloudFormation template.

    Raises :class:`BlueprintError` with ``source`` as the file and the line of a
    syntax error.
    """
    from stackyard.input_limits import InputLimitError, check_data_depth, check_size

    try:
        check_size(text)
    except InputLimitError as exc:
        raise BlueprintError(exc.message, file=source, hint=exc.hint) from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
            check_data_depth(data)
            return data
        except (RecursionError, InputLimitError):
            raise BlueprintError(
                "the template nests too deeply", file=source, hint="no template nests that far"
            ) from None
        except json.JSONDecodeError as exc:
            raise BlueprintError(
                f"invalid JSON: {exc.msg} (column {exc.colno})",
                file=source,
                line=exc.lineno,
                hint="check the brackets, commas and quotes around that line",
            ) from exc
        except ValueError as exc:
            raise BlueprintError(f"a value cannot be read: {exc}", file=source) from None
    import yaml

    from .cfn_yaml import load_cfn_yaml

    try:
        return load_cfn_yaml(text)
    except InputLimitError as exc:
        raise BlueprintError(exc.message, file=source, line=exc.line, hint=exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise BlueprintError(
            f"invalid YAML: {problem}",
            file=source,
            line=mark.line + 1 if mark else None,
            hint="check the indentation and the short-form tags (such as !Ref) on that line",
        ) from exc
    except yaml.YAMLError as exc:
        raise BlueprintError(f"invalid YAML: {exc}", file=source) from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise BlueprintError(f"a value cannot be read: {exc}", file=source) from None


class RawTemplateBlueprint(Blueprint):
    """A blueprint whose template is a file rather than Python code.

    Args:
        name: the stack's name in the config.
        context: the run's :class:`~stackyard.context.Context`.
        raw_template_path: path of the template (absolute, or relative to the
            working directory; the loader passes it resolved).
        mappings: the config's mappings, visible to Jinja2 templates.
        description: accepted for stacker compatibility; a raw template keeps its own.
    """

    def __init__(
        self,
        name: str,
        context: Any,
        raw_template_path: str | Path,
        mappings: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> None:
        self.raw_template_path = Path(raw_template_path)
        if not self.raw_template_path.is_file():
            raise BlueprintError(
                f"template_path {str(raw_template_path)!r} does not exist",
                file=str(raw_template_path),
                stack=name,
                hint="check the path: it is looked for in the working directory, then under "
                "sys_path, then in the config file's folder",
            )
        super().__init__(name, context, mappings=mappings, description=description)
        self._dict: dict[str, Any] | None = None
        self._text: str | None = None

    @property
    def source_file(self) -> str:
        """The template file, as findings and errors name it."""
        return self._source()

    def source_line(self, path: tuple[str | int, ...]) -> int | None:
        """The line of a key path (``("Resources", "Topic", "Type")``) in the parsed text.

        For a Jinja2 template this is a line of its rendered output, which is usually
        near the same line of the file.
        """
        from .positions import key_lines, line_of

        if self._text is None:
            return None
        return line_of(key_lines(self._text), path)

    @property
    def is_jinja(self) -> bool:
        """Whether the template is rendered with Jinja2 first (its name ends in ``.j2``)."""
        return self.raw_template_path.suffix == ".j2"

    def _source(self) -> str:
        return str(self.raw_template_path)

    def _read(self) -> str:
        from stackyard.input_limits import InputLimitError, read_utf8

        try:
            return read_utf8(self.raw_template_path)
        except OSError as exc:
            raise BlueprintError(
                f"cannot read template: {exc.strerror or exc}", file=self._source(), stack=self.name
            ) from exc
        except InputLimitError as exc:
            raise BlueprintError(
                f"template: {exc.message}",
                file=self._source(),
                line=exc.line,
                stack=self.name,
                hint=exc.hint,
            ) from None

    def _render_jinja(self, text: str) -> str:
        import jinja2

        try:
            template = _compile_jinja(text)
            return _bounded(
                template.generate(
                    context=self.context,
                    variables=self.resolved_variables or {},
                    mappings=self.mappings or {},
                    name=self.name,
                )
            )
        except _OutputTooLarge as exc:
            raise BlueprintError(
                str(exc),
                file=self._source(),
                stack=self.name,
                hint="a loop in the template produces far more than any template can hold",
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise BlueprintError(
                f"invalid Jinja2 template: {exc.message}",
                file=self._source(),
                line=exc.lineno,
                stack=self.name,
            ) from exc
        except jinja2.UndefinedError as exc:
            raise BlueprintError(
                f"Jinja2 template uses an undefined value: {exc.message}",
                file=self._source(),
                line=_jinja_line(exc),
                stack=self.name,
                hint="templates see `context`, `variables`, `mappings` and `name`; "
                "set the variable under `variables:` of the stack",
            ) from exc
        except Exception as exc:
            raise BlueprintError(
                f"Jinja2 template failed to render: {type(exc).__name__}: {exc}",
                file=self._source(),
                line=_jinja_line(exc),
                stack=self.name,
            ) from exc

    def to_dict(self) -> dict[str, Any]:
        """The parsed template."""
        if self._dict is None:
            text = self._read()
            if self.is_jinja:
                text = self._render_jinja(text)
            self._text = text
            data = parse_cloudformation_template(text, source=self._source())
            if not isinstance(data, dict):
                raise BlueprintError(
                    f"a template must be a mapping, found {type(data).__name__}",
                    file=self._source(),
                    stack=self.name,
                    hint="an empty file, or a file with only a list or text, is not a template",
                )
            _check_parameters(data, self._source(), self.name)
            self._dict = data
        return self._dict

    def render_template(self) -> tuple[str, str]:
        """``(version, normalized template JSON)``."""
        if self._rendered is None or self._version is None:
            rendered = json.dumps(self.to_dict(), indent=self._indent(), separators=(",", ": "))
            digest = hashlib.md5(rendered.encode("utf-8"), usedforsecurity=False)
            self._version, self._rendered = digest.hexdigest()[:8], rendered
        return self._version, self._rendered

    def create_template(self) -> None:
        """Nothing to build: the template comes from the file."""

    def to_json(self, variables: Mapping[str, Any] | None = None) -> str:
        """The rendered template JSON; ``variables`` matter only to Jinja2 templates."""
        if variables is not None or self.resolved_variables is None:
            self.resolve_variables(variables or {})
        return self.rendered

    def defined_variables(self) -> dict[str, dict[str, Any]]:
        """A raw template accepts any variable (Jinja2 may use it); none is declared."""
        return {}

    def resolve_variables(self, provided: Mapping[str, Any] | Iterable[Any]) -> None:
        """Keep the stack's variables: all reach Jinja2, those naming a Parameter are submitted."""
        self.resolved_variables = dict(_as_mapping(provided))
        if self.is_jinja:  # only a Jinja2 template's text depends on the variables
            self._dict = None
            self._rendered = None
            self._version = None

    def get_variables(self) -> dict[str, Any]:
        """The variables given to the stack."""
        return self.resolved_variables if self.resolved_variables is not None else {}

    def get_parameter_definitions(self) -> dict[str, dict[str, Any]]:
        """The template's ``Parameters`` (CloudFormation-shaped: ``Type``, ``Default``...)."""
        return get_template_params(self.to_dict())

    def get_required_parameter_definitions(self) -> dict[str, dict[str, Any]]:
        """The template's parameters that have no ``Default``."""
        return {
            name: attrs
            for name, attrs in self.get_parameter_definitions().items()
            if not isinstance(attrs, Mapping) or attrs.get("Default") is None
        }

    def get_template_parameters(self) -> dict[str, dict[str, Any]]:
        """The template's ``Parameters`` section."""
        return self.get_parameter_definitions()

    def get_parameter_values(self) -> dict[str, Any]:
        """Values of the variables that name one of the template's parameters.

        Numbers and booleans become strings, as CloudFormation wants them;
        lists stay lists (joined with commas on submission). A mapping cannot
        be a parameter value and raises :class:`VariableError`.
        """
        params = self.get_parameter_definitions()
        values: dict[str, Any] = {}
        for name, value in self.get_variables().items():
            if name not in params:
                continue
            if isinstance(value, bool):
                value = str(value).lower()
            elif isinstance(value, int | float):
                value = str(value)
            elif not isinstance(value, str | list):
                raise VariableError(
                    f"raw template: variable {name!r} cannot be submitted as parameter "
                    f"of type {params[name].get('Type', '?')}: got {type(value).__name__}",
                    file=self._source(),
                    key=name,
                    stack=self.name,
                    hint="parameter values are strings, numbers, booleans or lists",
                )
            values[name] = value
        return values

    def get_cfn_parameters(self) -> dict[str, Any]:
        """Same as :meth:`get_parameter_values`."""
        return self.get_parameter_values()

    @property
    def requires_change_set(self) -> bool:
        """True if the template has a ``Transform`` (SAM, macros)."""
        return "Transform" in self.to_dict()


class _OutputTooLarge(Exception):
    """A Jinja2 template rendered past the size limit."""


def _bounded(chunks: Iterable[str]) -> str:
    """Join rendered chunks, stopping at the input size limit instead of filling memory."""
    from stackyard.input_limits import MAX_BYTES

    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_BYTES:
            raise _OutputTooLarge(f"the Jinja2 template renders to more than {MAX_BYTES} bytes")
        out.append(chunk)
    return "".join(out)


def _jinja_line(exc: BaseException) -> int | None:
    """The template line of the innermost Jinja2-compiled frame in ``exc``'s traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@functools.lru_cache(maxsize=256)
def _compile_jinja(text: str) -> jinja2.Template:
    """A compiled Jinja2 template; stacks sharing a template file compile it once."""
    from jinja2.sandbox import SandboxedEnvironment

    # Sandboxed: a template is data, so it may not reach Python internals
    # (``''.__class__.__mro__``) or call unsafe methods.
    env = SandboxedEnvironment(
        undefined=_print_strict_undefined(),
        keep_trailing_newline=True,
        autoescape=False,  # the output is a template, not HTML
    )
    return env.from_string(text)


@functools.cache
def _print_strict_undefined() -> type[Any]:
    """An Undefined that may be tested (``{% if x %}``) but not printed; Jinja2 loads lazily."""
    import jinja2

    class PrintStrictUndefined(jinja2.Undefined):  # type: ignore[misc]
        __slots__ = ()

        def __str__(self) -> str:
            self._fail_with_undefined_error()
            return ""  # pragma: no cover - the line above raises

    return PrintStrictUndefined
