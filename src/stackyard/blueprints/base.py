"""The stacker-compatible ``Blueprint``: a Python class that renders a CloudFormation template.

A blueprint declares the variables it accepts in ``VARIABLES`` and builds
``self.template`` (a troposphere ``Template``) in ``create_template()``::

    class Queue(Blueprint):
        VARIABLES = {
            "QueueName": {"type": str, "description": "..."},
            "Retention": {"type": CFNNumber, "default": 345600},
        }

        def create_template(self):
            v = self.get_variables()
            queue = self.template.add_resource(
                sqs.Queue("Queue", QueueName=self.context.get_fqn(v["QueueName"]),
                          MessageRetentionPeriod=v["Retention"].ref))
            self.add_output("QueueUrl", Ref(queue))

How stackyard drives one (the config layer and the planner)::

    bp = load_blueprint(...)                  # stackyard.blueprints.loader
    bp.resolve_variables({"QueueName": "jobs"})   # plain, already-resolved values
    version, body = bp.render_template()      # or bp.rendered / bp.version
    params = bp.get_parameter_values()        # values to submit as Parameters

Differences from stacker, on purpose:

- ``resolve_variables`` takes a mapping of already-resolved values (stacker took
  a list of ``Variable`` objects; objects with ``.name`` and ``.value`` are
  still accepted).
- Every failure is a :class:`~stackyard.errors.VariableError` or
  :class:`~stackyard.errors.BlueprintError` naming the blueprint, stack and
  variable, with a hint; values of ``no_echo`` variables are masked in them.
- An :class:`~stackyard.unknown.Unknown` value (known only after apply) passes
  type checks, validators and ``allowed_values`` untouched.
- ``self.template`` also answers troposphere 2's ``add_description``,
  ``add_version``, ``add_metadata`` and ``add_transform``, which stacker-era
  blueprints call.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import os
import string
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from stackyard.errors import BlueprintError, StackyardError, VariableError
from stackyard.unknown import Unknown, is_unknown

from .variables.types import CFNType, TroposphereType

if TYPE_CHECKING:
    from troposphere import Parameter, Ref, Template

__all__ = [
    "NOT_PROVIDED",
    "PARAMETER_PROPERTIES",
    "Blueprint",
    "CFNParameter",
    "StackerTemplate",  # noqa: F822 -- from troposphere_parts, on first use (__getattr__)
    "build_parameter",
    "parse_user_data",
    "read_value_from_path",
    "resolve_variable",
]

#: Variable definition keys that become CloudFormation Parameter properties.
PARAMETER_PROPERTIES: dict[str, str] = {
    "default": "Default",
    "description": "Description",
    "no_echo": "NoEcho",
    "allowed_values": "AllowedValues",
    "allowed_pattern": "AllowedPattern",
    "max_length": "MaxLength",
    "min_length": "MinLength",
    "max_value": "MaxValue",
    "min_value": "MinValue",
    "constraint_description": "ConstraintDescription",
}

_MASK = "****"

#: Passed to :func:`resolve_variable` for a variable the config does not set.
NOT_PROVIDED: Any = object()


class CFNParameter:
    """The value of a variable whose type is a :class:`CFNType`.

    ``value`` is what is submitted to CloudFormation (``int``, ``float`` and
    ``bool`` become strings, as CloudFormation wants them; a list stays a list
    and is joined with commas on submission); ``ref`` is a troposphere ``Ref``
    to the parameter, for use in the template.
    """

    def __init__(self, name: str, value: Any) -> None:
        if isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, int | float):
            value = str(value)
        elif not isinstance(value, str | list):
            raise ValueError(
                f"CFNParameter ({name}) value must be a str, int, float, bool or list, "
                f"got {type(value).__name__}"
            )
        self.name = name
        self.value: str | list[Any] = value

    def __repr__(self) -> str:
        return f"CFNParameter({self.name}: {self.value})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CFNParameter):
            return NotImplemented
        return (self.name, self.value) == (other.name, other.value)

    def __hash__(self) -> int:
        return hash((self.name, str(self.value)))

    def to_parameter_value(self) -> str | list[Any]:
        """The value to submit to CloudFormation."""
        return self.value

    @property
    def ref(self) -> Ref:
        """A ``Ref`` to this parameter."""
        from troposphere import Ref

        return Ref(self.name)


def _parameter_default(value: Any, parameter_type: str) -> Any:
    """A variable default as CloudFormation (and troposphere) accept it for ``Default``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, int | float) and "Number" not in parameter_type:
        return str(value)
    return value


def build_parameter(name: str, properties: Mapping[str, Any]) -> Parameter:
    """A troposphere ``Parameter`` named ``name`` from a variable definition.

    ``properties`` holds ``type`` (the CloudFormation type string) and any of the
    keys of :data:`PARAMETER_PROPERTIES`. A ``None`` default declares no default.
    """
    from troposphere import Parameter

    parameter_type = str(properties.get("type"))
    param = Parameter(name, Type=parameter_type)
    for key, attr in PARAMETER_PROPERTIES.items():
        if key not in properties:
            continue
        value = properties[key]
        if key == "default":
            if value is None:
                continue
            value = _parameter_default(value, parameter_type)
        setattr(param, attr, value)
    return param


def _type_name(var_type: Any) -> str:
    if isinstance(var_type, CFNType):
        return f"CloudFormation parameter of type {var_type.parameter_type}"
    if isinstance(var_type, TroposphereType):
        return var_type.expected()
    if isinstance(var_type, tuple):
        return " or ".join(_type_name(t) for t in var_type)
    return getattr(var_type, "__name__", repr(var_type))


def _show(value: Any, secret: bool) -> str:
    if secret:
        return _MASK
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def resolve_variable(
    var_name: str,
    var_def: Mapping[str, Any],
    provided: Any,
    blueprint_name: str,
    *,
    blueprint_class: str | None = None,
) -> Any:
    """Check one variable's value against its definition and return what the blueprint sees.

    ``provided`` is the already-resolved value from the config, or
    :data:`NOT_PROVIDED`, in which case the definition's ``default`` is used.
    In order: the ``validator`` runs, then the type is checked (a
    :class:`CFNType` wraps the value in a :class:`CFNParameter`, a
    :class:`TroposphereType` builds troposphere objects), then ``allowed_values``.
    An ``Unknown`` value skips all three. Raises :class:`VariableError`.
    """
    owner = f"blueprint {blueprint_class}" if blueprint_class else "blueprint"
    secret = bool(var_def.get("no_echo"))

    def fail(problem: str, hint: str | None) -> VariableError:
        return VariableError(
            f"{owner}: variable {var_name!r} {problem}",
            key=var_name,
            stack=blueprint_name,
            hint=hint,
        )

    if "type" not in var_def:
        raise fail(
            "has no 'type' in its definition",
            "add a type to its entry in VARIABLES: a Python type such as str, "
            "a CFNType such as CFNString, or a TroposphereType",
        )
    var_type = var_def["type"]

    if provided is not NOT_PROVIDED:
        value = provided
    elif "default" in var_def:
        value = var_def["default"]
    else:
        description = var_def.get("description")
        about = f" ({description})" if description else ""
        raise fail(
            f"is required but was not given a value{about}",
            f"set {var_name} under `variables:` of stack {blueprint_name!r}, "
            f"expecting {_type_name(var_type)}",
        )

    unknown = is_unknown(value)
    validator: Callable[[Any], Any] | None = var_def.get("validator")
    if validator is not None and not unknown:
        try:
            value = validator(value)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            name = getattr(validator, "__name__", repr(validator))
            raise fail(
                f"failed validator {name}: {exc}",
                f"got {_show(value, secret)}",
            ) from exc

    value = _check_type(var_name, var_type, value, fail, secret)

    allowed = var_def.get("allowed_values")
    if allowed and not unknown and not _is_allowed(value, allowed):
        shown = _show(value.value if isinstance(value, CFNParameter) else value, secret)
        raise fail(
            f"has a value that is not allowed: {shown}",
            f"expected one of {list(allowed)!r}",
        )
    return value


def _check_type(
    var_name: str,
    var_type: Any,
    value: Any,
    fail: Callable[[str, str | None], VariableError],
    secret: bool,
) -> Any:
    if isinstance(var_type, CFNType):
        try:
            return CFNParameter(name=var_name, value=value)
        except ValueError:
            raise fail(
                f"cannot be submitted as a {var_type.parameter_type} parameter",
                f"expected a string, number, boolean or list, got {type(value).__name__} "
                f"{_show(value, secret)}",
            ) from None
    if isinstance(value, Unknown):
        return value
    if isinstance(var_type, TroposphereType):
        try:
            return var_type.create(value)
        except Exception as exc:
            raise fail(
                f"cannot be built as {var_type.resource_name}: {exc}",
                f"expected {var_type.expected()}",
            ) from exc
    try:
        matches = isinstance(value, var_type)
    except TypeError:
        raise fail(
            f"has an invalid type {var_type!r} in its definition",
            "use a Python type such as str, a CFNType such as CFNString, or a TroposphereType",
        ) from None
    if not matches:
        raise fail(
            f"has the wrong type: expected {_type_name(var_type)}, "
            f"got {type(value).__name__} {_show(value, secret)}",
            f"give {var_name} a {_type_name(var_type)} value in the config",
        )
    return value


def _is_allowed(value: Any, allowed: Iterable[Any]) -> bool:
    if isinstance(value, CFNParameter):
        # CloudFormation compares the submitted strings, element by element for lists.
        texts = {str(_parameter_default(a, "String")) for a in allowed}
        items = value.value if isinstance(value.value, list) else [value.value]
        return all(str(_parameter_default(i, "String")) in texts for i in items)
    try:
        return bool(value in allowed)
    except TypeError:
        return False


def read_value_from_path(value: str, base_dir: str | Path | None = None) -> str:
    """``value`` itself, or the content of the file it names with a ``file://`` prefix.

    A relative ``file://`` path is taken from ``base_dir`` (the config file's
    directory in stacker; the working directory if not given). Raises
    :class:`BlueprintError` if the file cannot be read.
    """
    if not value.startswith("file://"):
        return value
    path = Path(value[len("file://") :])
    if not path.is_absolute():
        path = Path(base_dir if base_dir is not None else os.getcwd()) / path
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BlueprintError(
            f"cannot read {value}: {exc.strerror or exc}",
            file=str(path),
            hint="file:// paths are relative to the config file's directory",
        ) from exc


def parse_user_data(variables: Mapping[str, Any], raw_user_data: str, blueprint_name: str) -> str:
    """Fill ``${Name}`` placeholders in user data with the blueprint's variable values.

    The syntax is Python's ``string.Template``: ``${Name}`` or ``$Name``, and
    ``$$`` for a literal dollar sign. A :class:`CFNParameter` contributes its
    submitted value. Raises :class:`VariableError` for a placeholder that names
    no variable and :class:`BlueprintError` for a malformed placeholder.
    """
    values = {
        key: value.to_parameter_value() if isinstance(value, CFNParameter) else value
        for key, value in variables.items()
    }
    try:
        return string.Template(raw_user_data).substitute(values)
    except KeyError as exc:
        name = exc.args[0]
        raise VariableError(
            f"user data refers to ${{{name}}}, which is not a variable of the blueprint",
            key=str(name),
            stack=blueprint_name,
            hint=f"define {name} in VARIABLES, or write $${{{name}}} for a literal ${{{name}}}",
        ) from None
    except ValueError as exc:
        raise BlueprintError(
            f"user data has an invalid placeholder: {exc}",
            stack=blueprint_name,
            hint="placeholders look like ${Name}; write $$ for a literal $",
        ) from None


def _class_file(cls: type[Any]) -> str | None:
    try:
        return inspect.getsourcefile(cls)
    except TypeError:
        return None


def _raised(exc: BaseException) -> str:
    """``SystemExit: sys.exit(7)`` or ``ValueError: bad`` for an error message."""
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _blueprint_frame(exc: BaseException, cls: type[Any]) -> tuple[str, int] | None:
    """The innermost traceback frame in the blueprint's own source files, if any."""
    files = set()
    for klass in cls.__mro__:
        if klass in (Blueprint, object):
            continue
        try:
            files.add(inspect.getfile(klass))
        except TypeError:
            continue
    found = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in files:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


class Blueprint:
    """Base class of blueprints: renders ``self.template`` from resolved variables.

    Args:
        name: the blueprint's name, the stack's name in the config.
        context: the run's :class:`~stackyard.context.Context`.
        mappings: CloudFormation Mappings added to every rendered template.
        description: the template's Description, if given.
    """

    VARIABLES: ClassVar[dict[str, dict[str, Any]]] = {}
    #: JSON indentation of the rendered template (stacker's default).
    TEMPLATE_INDENT: ClassVar[int] = 4

    _template: Template | None
    _rendered: str | None
    _version: str | None

    def __init__(
        self,
        name: str,
        context: Any,
        mappings: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> None:
        self.name = name
        self.context = context
        self.mappings = mappings
        self.description = description
        self.outputs: dict[str, Any] = {}
        self.resolved_variables: dict[str, Any] | None = None
        self._template_used = False
        self.reset_template()
        if hasattr(self, "PARAMETERS") or hasattr(self, "LOCAL_PARAMETERS"):
            raise BlueprintError(
                f"blueprint {type(self).__qualname__} uses PARAMETERS or LOCAL_PARAMETERS, "
                "which stacker replaced with VARIABLES",
                stack=name,
                hint="move each entry into VARIABLES (see stacker's blueprint documentation)",
            )

    # -- variables ---------------------------------------------------------------------

    def defined_variables(self) -> dict[str, dict[str, Any]]:
        """The variables this blueprint accepts: ``VARIABLES``, with defaults copied.

        Override to add variables dynamically. Defaults are deep-copied so a
        blueprint that mutates a default does not change it for the next stack.
        """
        result: dict[str, dict[str, Any]] = {}
        declared = getattr(self, "VARIABLES", {})
        if not isinstance(declared, Mapping) or not all(
            isinstance(d, Mapping) for d in declared.values()
        ):
            raise BlueprintError(
                f"blueprint {type(self).__qualname__}: VARIABLES must map each variable name "
                f"to its definition, found {_show(declared, False)}",
                file=_class_file(type(self)),
                stack=self.name,
                hint='for example: VARIABLES = {"Name": {"type": str}}',
            )
        for name, definition in declared.items():
            entry = dict(definition)
            if "default" in entry:
                entry["default"] = copy.deepcopy(entry["default"])
            result[name] = entry
        return result

    def resolve_variables(self, provided: Mapping[str, Any] | Iterable[Any]) -> None:
        """Check the stack's variable values against ``VARIABLES`` and keep the results.

        ``provided`` maps variable names to values whose lookups are already
        resolved (an ``Unknown`` stands for one that needs AWS). stacker's list
        of ``Variable`` objects (anything with ``.name`` and ``.value``) is also
        accepted. Values for names the blueprint does not define are ignored,
        as stacker does. Raises :class:`VariableError` on the first bad variable.
        """
        values = _as_mapping(provided)
        resolved: dict[str, Any] = {}
        for var_name, var_def in self.defined_variables().items():
            resolved[var_name] = resolve_variable(
                var_name,
                var_def,
                values.get(var_name, NOT_PROVIDED),
                self.name,
                blueprint_class=type(self).__qualname__,
            )
        self.resolved_variables = resolved
        self._rendered = None
        self._version = None

    def get_variables(self) -> dict[str, Any]:
        """The resolved variables: name to value (a ``CFNParameter`` for CFNType variables)."""
        if self.resolved_variables is None:
            raise BlueprintError(
                f"variables of blueprint {type(self).__qualname__} are not resolved yet",
                stack=self.name,
                hint="call resolve_variables(values) before rendering",
            )
        return self.resolved_variables

    def get_cfn_parameters(self) -> dict[str, Any]:
        """Name to submitted value of every variable that is a CloudFormation Parameter."""
        return {
            key: value.to_parameter_value()
            for key, value in self.get_variables().items()
            if isinstance(value, CFNParameter)
        }

    def get_parameter_values(self) -> dict[str, Any]:
        """The values to submit as CloudFormation Parameters (same as ``get_cfn_parameters``)."""
        return self.get_cfn_parameters()

    # -- parameters and outputs -------------------------------------------------------

    def get_parameter_definitions(self) -> dict[str, dict[str, Any]]:
        """The definitions of variables whose type is a :class:`CFNType`.

        Each is the variable's definition with ``type`` replaced by the
        CloudFormation type string (``"String"``, ``"List<AWS::EC2::VPC::Id>"``).
        """
        output: dict[str, dict[str, Any]] = {}
        for var_name, attrs in self.defined_variables().items():
            var_type = attrs.get("type")
            if isinstance(var_type, CFNType):
                output[var_name] = {**attrs, "type": var_type.parameter_type}
        return output

    def get_required_parameter_definitions(self) -> dict[str, dict[str, Any]]:
        """The parameter definitions that have no default."""
        return {
            name: attrs
            for name, attrs in self.get_parameter_definitions().items()
            if attrs.get("default") is None
        }

    def get_template_parameters(self) -> dict[str, dict[str, Any]]:
        """The rendered template's ``Parameters`` section (CloudFormation-shaped).

        Same shape for Python and raw blueprints; ``NoEcho`` here says which
        values must be masked.
        """
        params: dict[str, dict[str, Any]] = json.loads(self.rendered).get("Parameters", {})
        return params

    def get_output_definitions(self) -> dict[str, dict[str, Any]]:
        """The rendered template's ``Outputs``: name to definition (``Value``, ``Export``...)."""
        outputs: dict[str, dict[str, Any]] = json.loads(self.rendered).get("Outputs", {})
        return outputs

    def setup_parameters(self) -> None:
        """Declare every CFNType variable as a Parameter of ``self.template``."""
        for name, attrs in self.get_parameter_definitions().items():
            try:
                param = build_parameter(name, attrs)
                param.validate()
            except (TypeError, ValueError, AttributeError) as exc:
                raise VariableError(
                    f"blueprint {type(self).__qualname__}: variable {name!r} is not a valid "
                    f"CloudFormation parameter: {exc}",
                    key=name,
                    stack=self.name,
                    hint="check its default and parameter options (no_echo is a bool, "
                    "lengths and values are integers, patterns apply to strings)",
                ) from exc
            self.template.add_parameter(param)

    def add_output(self, name: str, value: Any) -> None:
        """Add an Output ``name`` with ``value`` to the template."""
        from troposphere import Output

        self.template.add_output(Output(name, Value=value))

    # -- template ---------------------------------------------------------------------

    def import_mappings(self) -> None:
        """Add the config's ``mappings`` to the template."""
        for name, mapping in (self.mappings or {}).items():
            self.template.add_mapping(name, mapping)

    def set_template_description(self, description: str) -> None:
        """Set the template's Description."""
        self.template.set_description(description)

    @property
    def template(self) -> Template:
        """The troposphere template ``create_template`` fills (made on first use, so that
        blueprints that never touch it, raw templates, do not import troposphere)."""
        if self._template is None:
            from .troposphere_parts import StackerTemplate

            self._template = StackerTemplate()
        return self._template

    @template.setter
    def template(self, template: Template) -> None:
        self._template = template

    def reset_template(self) -> None:
        """Start over with an empty template."""
        self._template = None
        self._rendered = None
        self._version = None

    def create_template(self) -> None:
        """Build ``self.template``; every blueprint implements this."""
        raise NotImplementedError

    def render_template(self) -> tuple[str, str]:
        """Render the blueprint: ``(version, template JSON)``.

        The JSON has sorted keys and a fixed indent, so equal inputs render to
        equal bytes; ``version`` is the first 8 hex digits of its MD5, as in
        stacker. Any exception from the blueprint's code becomes a
        :class:`BlueprintError` naming the blueprint and, where it can be
        found, the file and line in the blueprint that raised.
        """
        if self._rendered is not None and self._version is not None:
            return self._version, self._rendered
        if self._template_used:
            self.reset_template()
        self._template_used = True
        try:
            self.import_mappings()
            self.create_template()
            if self.description:
                self.set_template_description(self.description)
            self.setup_parameters()
            rendered: str = self.template.to_json(indent=self._indent())
        except StackyardError:
            raise
        except NotImplementedError as exc:
            raise BlueprintError(
                f"blueprint {type(self).__qualname__} does not implement create_template()",
                stack=self.name,
                hint="define create_template(self) to add resources to self.template",
            ) from exc
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            # sys.exit() or an interrupt raised by blueprint code is that stack's failure:
            # left to propagate, it would end a worker thread and hang the run.
            where = _blueprint_frame(exc, type(self))
            raise BlueprintError(
                f"blueprint {type(self).__qualname__} failed to render: {_raised(exc)}",
                file=where[0] if where else None,
                line=where[1] if where else None,
                stack=self.name,
                hint="the error comes from the blueprint's create_template(); "
                "--debug shows the traceback",
            ) from exc
        version = hashlib.md5(rendered.encode("utf-8"), usedforsecurity=False).hexdigest()[:8]
        self._version, self._rendered = version, rendered
        return version, rendered

    def _indent(self) -> int:
        indent = getattr(self.context, "template_indent", None)
        return int(indent) if indent is not None else self.TEMPLATE_INDENT

    @property
    def rendered(self) -> str:
        """The rendered template JSON (rendered on first use)."""
        return self.render_template()[1]

    @property
    def version(self) -> str:
        """A short hash of the rendered template."""
        return self.render_template()[0]

    @property
    def requires_change_set(self) -> bool:
        """True if the template has a Transform, so it must be deployed with a change set."""
        self.render_template()
        return self.template.transform is not None

    def to_json(self, variables: Mapping[str, Any] | None = None) -> str:
        """Render with ``variables`` (CFNType variables may be left out) and return the JSON.

        Parameters do not change the template, so a CFNType variable without a
        value or default gets a placeholder. Useful in blueprint unit tests.
        """
        values = dict(variables or {})
        for name, attrs in self.get_parameter_definitions().items():
            if name in values or attrs.get("default") is not None:
                continue
            allowed = attrs.get("allowed_values")
            values[name] = next(iter(allowed)) if allowed else "unused_value"
        self.resolve_variables(values)
        return self.rendered

    def read_user_data(self, user_data_path: str) -> str:
        """User data with ``${Variable}`` placeholders filled from this blueprint's variables.

        As in stacker, ``user_data_path`` is either ``file://path`` (relative to
        the config file's directory) or the user data text itself.
        """
        config_path = getattr(self.context, "config_path", None)
        base_dir = Path(config_path).parent if config_path else None
        raw = read_value_from_path(user_data_path, base_dir)
        return parse_user_data(self.get_variables(), raw, self.name)


def _as_mapping(provided: Mapping[str, Any] | Iterable[Any]) -> Mapping[str, Any]:
    if isinstance(provided, Mapping):
        return provided
    items: Iterable[Any] = provided
    return {item.name: item.value for item in items}


def __getattr__(name: str) -> Any:
    # ``StackerTemplate`` lives with the other troposphere classes, imported when asked for.
    if name == "StackerTemplate":
        from .troposphere_parts import StackerTemplate

        return StackerTemplate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
