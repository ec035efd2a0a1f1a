"""CloudFormation's wire format: the AWS query protocol in, XML out.

Both directions are driven by botocore's service model, so requests parse into the same
dicts boto3 users pass in, and responses serialize from the dicts boto3 hands back.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import uuid
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["error_xml", "operation_names", "parse_request", "response_xml"]

XMLNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


@functools.cache
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("cloudformation")


def operation_names() -> frozenset[str]:
    """Every operation name in CloudFormation's API."""
    return frozenset(_service_model().operation_names)


def _has_prefix(params: Mapping[str, str], prefix: str) -> bool:
    dotted = prefix + "."
    return prefix in params or any(k.startswith(dotted) for k in params)


def _parse(shape: Any, params: Mapping[str, str], prefix: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = (
                f"{prefix}.{member.serialization.get('name', name)}"
                if prefix
                else (member.serialization.get("name", name))
            )
            if _has_prefix(params, key):
                out[name] = _parse(member, params, key)
        return out
    if kind == "list":
        flat = shape.serialization.get("flattened")
        base = prefix if flat else f"{prefix}.member"
        items: list[Any] = []
        index = 1
        while _has_prefix(params, f"{base}.{index}"):
            items.append(_parse(shape.member, params, f"{base}.{index}"))
            index += 1
        return items
    if kind == "map":
        entries: dict[str, Any] = {}
        index = 1
        while _has_prefix(params, f"{prefix}.entry.{index}"):
            key = params.get(f"{prefix}.entry.{index}.key", "")
            entries[key] = _parse(shape.value, params, f"{prefix}.entry.{index}.value")
            index += 1
        return entries
    raw = params.get(prefix, "")
    if kind == "boolean":
        return raw.lower() == "true"
    if kind in ("integer", "long"):
        return int(raw)
    if kind in ("float", "double"):
        return float(raw)
    return raw


def parse_request(action: str, params: Mapping[str, str]) -> dict[str, Any]:
    """The request parameters of ``action`` as the dict a boto3 caller passed."""
    operation = _service_model().operation_model(action)
    if operation.input_shape is None:
        return {}
    result: dict[str, Any] = _parse(operation.input_shape, params, "")
    return result


def _timestamp(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        stamp: str = value.strftime("%Y-%m-%dT%H:%M:%S.")
        return stamp + f"{value.microsecond // 1000:03d}Z"
    return str(value)


def _scalar(shape: Any, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return _timestamp(value)
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode()
    return str(value)


def _serialize(shape: Any, value: Any, out: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():
            if name not in value or value[name] is None:
                continue
            tag = member.serialization.get("name", name)
            out.append(f"<{tag}>")
            _serialize(member, value[name], out)
            out.append(f"</{tag}>")
    elif kind == "list":
        for item in value:
            out.append("<member>")
            _serialize(shape.member, item, out)
            out.append("</member>")
    elif kind == "map":
        for key, item in value.items():
            out.append(f"<entry><key>{escape(str(key))}</key><value>")
            _serialize(shape.value, item, out)
            out.append("</value></entry>")
    else:
        out.append(escape(_scalar(shape, value)))


def _request_id() -> str:
    return str(uuid.uuid4())


def response_xml(action: str, result: Mapping[str, Any]) -> bytes:
    """The XML body AWS returns for ``action`` with ``result`` (a boto3-shaped dict)."""
    operation = _service_model().operation_model(action)
    out = [f'<{action}Response xmlns="{XMLNS}">']
    shape = operation.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{action}Result")
        out.append(f"<{wrapper}>")
        _serialize(shape, result, out)
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{_request_id()}</RequestId></ResponseMetadata>")
    out.append(f"</{action}Response>")
    return "".join(out).encode("utf-8")


def error_xml(code: str, message: str, sender: bool = True) -> bytes:
    """The XML body of an AWS query-protocol error."""
    kind = "Sender" if sender else "Receiver"
    return (
        f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{_request_id()}</RequestId></ErrorResponse>"
    ).encode()
