"""AWS error answers in each wire protocol, for answers the endpoint makes before any service.

Fault injection and the local-callers guard answer in the shape the caller's SDK parses, so a
refused or faulted call surfaces as a normal ``ClientError`` with AWS's code and message.
"""

from __future__ import annotations

import hashlib
import json
import os
from xml.sax.saxutils import escape

from stackyard.local.request_info import RequestInfo
from stackyard.local.wsgi import StartResponse

__all__ = ["error_body", "error_response"]

_RECEIVER_CODES = frozenset({"InternalFailure", "ServiceUnavailable"})


def error_body(
    info: RequestInfo, code: str, message: str
) -> tuple[bytes, str, list[tuple[str, str]]]:
    """An AWS error in the request's protocol: body, content type and extra headers."""
    request_id = hashlib.sha1(os.urandom(8)).hexdigest()[:32]
    text_message = escape(message)
    if info.protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        return body, "application/x-amz-json-1.1", [("x-amzn-RequestId", request_id)]
    if info.protocol == "rest-json":
        body = json.dumps({"message": message, "code": code}).encode()
        headers = [("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
        return body, "application/json", headers
    if info.protocol == "ec2":
        text = (
            "<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error>"
            f"<Code>{code}</Code><Message>{text_message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return text.encode(), "text/xml", []
    if info.protocol == "s3":
        text = (
            "<?xml version='1.0' encoding='UTF-8'?><Error>"
            f"<Code>{code}</Code><Message>{text_message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
        return text.encode(), "application/xml", [("x-amz-request-id", request_id)]
    fault_type = "Receiver" if code in _RECEIVER_CODES else "Sender"
    text = (
        "<ErrorResponse><Error>"
        f"<Type>{fault_type}</Type><Code>{code}</Code><Message>{text_message}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return text.encode(), "text/xml", [("x-amzn-RequestId", request_id)]


def error_response(
    start_response: StartResponse,
    method: str,
    info: RequestInfo,
    status: int,
    code: str,
    message: str,
) -> list[bytes]:
    """Start an error answer with ``status`` and return its body (empty for HEAD)."""
    from http import HTTPStatus

    body, content_type, headers = error_body(info, code, message)
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers],
    )
    return [body] if method.upper() != "HEAD" else [b""]
