"""Only local callers: refuse requests a web page could make the user's browser send.

The endpoint has no credentials check, so anything that can reach it can create stacks or set
faults. It listens on loopback, but a browser can still reach loopback for a web page:

- by DNS rebinding: ``evil.example`` resolves to 127.0.0.1, and the page's requests arrive
  with ``Host: evil.example:4566``. A request is refused unless its ``Host`` is a loopback
  name (``localhost`` or a ``*.localhost`` name, which never leave the machine) or a
  loopback address (127.0.0.0/8, ::1), with any port;
- by a cross-origin request (a form POST needs no CORS preflight): the browser adds an
  ``Origin`` naming the page and, in current browsers, ``Sec-Fetch-Site: cross-site``. A
  request is refused when ``Origin`` is present and not a loopback origin (``null`` included),
  or when ``Sec-Fetch-Site`` says ``cross-site``.

AWS SDKs and CLIs send neither header and name the endpoint's own host, so they pass. The
refusal is HTTP 403 ``AccessDenied`` in the protocol's error shape, before any route or service
sees the request (the endpoint's own ``/_stackyard/...`` routes included).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from stackyard.local.aws_errors import error_response
from stackyard.local.request_info import classify
from stackyard.local.wsgi import OPS_PREFIX, StartResponse, WSGIApp, json_response

__all__ = ["LocalOnly", "is_local_origin", "is_loopback_host", "refusal_reason"]


def _is_loopback_name(name: str) -> bool:
    name = name.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _split_port(authority: str) -> str:
    """The host part of ``host[:port]`` (IPv6 literals in brackets keep their brackets)."""
    authority = authority.strip()
    if authority.startswith("["):
        end = authority.find("]")
        return authority[: end + 1] if end > 0 else authority
    if authority.count(":") == 1:
        return authority.split(":", 1)[0]
    return authority  # a bare IPv6 address, or no port


def is_loopback_host(host_header: str) -> bool:
    """Whether a ``Host`` header names this machine's loopback (any port)."""
    return _is_loopback_name(_split_port(host_header))


def is_local_origin(origin: str) -> bool:
    """Whether an ``Origin`` header names a page served from loopback (``null`` does not)."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    return _is_loopback_name(parts.hostname)


def refusal_reason(environ: dict[str, Any]) -> str | None:
    """Why a request must be refused, or None for a local caller."""
    host = str(environ.get("HTTP_HOST") or "")
    if host and not is_loopback_host(host):
        return f"Host {host!r} is not a loopback name or address"
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None and not is_local_origin(str(origin)):
        return f"cross-origin request from {str(origin)!r}"
    if str(environ.get("HTTP_SEC_FETCH_SITE") or "").lower() == "cross-site":
        return "cross-site browser request"
    return None


class LocalOnly:
    """Middleware refusing non-local callers (see the module docstring); outermost of all."""

    def __call__(self, app: WSGIApp) -> WSGIApp:
        def guarded_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            reason = refusal_reason(environ)
            if reason is None:
                return app(environ, start_response)
            message = f"The local AWS endpoint only answers local callers: {reason}."
            path = str(environ.get("PATH_INFO") or "")
            if path.startswith(OPS_PREFIX):
                return json_response(start_response, 403, {"error": message})
            method = str(environ.get("REQUEST_METHOD") or "GET")
            return error_response(
                start_response, method, classify(environ), 403, "AccessDenied", message
            )

        return guarded_app
