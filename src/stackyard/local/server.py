"""The WSGI application of the local AWS endpoint.

Every request goes to moto's dispatcher, except:

- ``GET /_stackyard/health``, a tiny JSON health answer;
- ``/_stackyard/health/images``, the images whose tasks fail their health checks
  (:mod:`stackyard.local.ecs.images`);
- ``POST /_stackyard/traffic``, simulated requests through a listener
  (:mod:`stackyard.local.elbv2.traffic`);
- ``/_stackyard/elbv2/pinned-rules``, listener rules whose actions ModifyRule leaves alone
  (:mod:`stackyard.local.elbv2.pins`);
- CloudFormation calls (query protocol, ``Version=2010-05-15`` or a SigV4 credential scope
  naming ``cloudformation``), which go to stackyard's own CloudFormation emulator.

moto's backends are not thread-safe, so one re-entrant lock serializes every request that
reaches them; the emulator takes the same lock only around its own calls into moto.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from stackyard.local.cloudformation import CloudFormationEmulator

__all__ = ["HEALTH_PATH", "WSGIApp", "build_app", "request_service_region"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

HEALTH_PATH = "/_stackyard/health"
CLOUDFORMATION_VERSION = "2010-05-15"
DEFAULT_REGION = "us-east-1"


def request_service_region(environ: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(service, region, access key) from a SigV4 ``Authorization`` header, if any."""
    auth = environ.get("HTTP_AUTHORIZATION") or ""
    for part in auth.replace(",", " ").split():
        if part.startswith("Credential="):
            scope = part[len("Credential=") :].split("/")
            if len(scope) == 5:
                return scope[3].lower(), scope[2], scope[0]
    return None, None, None


def _read_form_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back so a later reader still finds it."""
    import io

    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _cloudformation_params(environ: dict[str, Any]) -> dict[str, str] | None:
    """The query parameters of a CloudFormation call, or None if this is not one."""
    service, _, _ = request_service_region(environ)
    if service is not None and service != "cloudformation":
        return None
    content_type = environ.get("CONTENT_TYPE") or ""
    params: dict[str, str] = dict(parse_qsl(environ.get("QUERY_STRING") or "", True))
    if environ.get("REQUEST_METHOD") == "POST" and content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        body = _read_form_body(environ)
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    if service == "cloudformation":
        return params
    if params.get("Version") == CLOUDFORMATION_VERSION and "Action" in params:
        return params
    return None


def _respond(
    start_response: Callable[..., Any], status: int, body: bytes, content_type: str
) -> list[bytes]:
    from http import HTTPStatus

    reason = HTTPStatus(status).phrase
    start_response(
        f"{status} {reason}",
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
    )
    return [body]


def build_app(emulator: CloudFormationEmulator, lock: threading.RLock) -> WSGIApp:
    """The core WSGI app: moto for every service, the emulator for CloudFormation."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from stackyard.local import ecr, ecs
    from stackyard.local.ecs.images import IMAGES_PATH, image_health
    from stackyard.local.elbv2 import traffic
    from stackyard.local.elbv2.pins import PINS_PATH, rule_pins

    ecs.install()
    ecr.install()
    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == HEALTH_PATH:
            # "warming" while the first call would still pay for loading moto's models:
            # `local up` waits for "ok", so the first tool to call does not.
            ready = "ok" if emulator.warm.is_set() else "warming"
            payload = {"status": ready, "unsupported_types": emulator.unsupported_types()}
            return _respond(start_response, 200, json.dumps(payload).encode(), "application/json")
        if path == IMAGES_PATH:
            return image_health.handle(environ, start_response)
        if path == traffic.TRAFFIC_PATH:
            return traffic.handle(environ, start_response, lock)
        if path == PINS_PATH:
            return rule_pins.handle(environ, start_response)
        params = _cloudformation_params(environ)
        if params is not None:
            _, region, access_key = request_service_region(environ)
            account_id = _account_id(lock, access_key)
            status, body = emulator.handle(
                region or DEFAULT_REGION, account_id, params, environ.get("HTTP_HOST") or ""
            )
            return _respond(start_response, status, body, "text/xml")
        with lock:
            # Drain the response inside the lock: moto builds some bodies lazily.
            result = moto_app(environ, start_response)
            try:
                chunks = list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return chunks

    return app


def _account_id(lock: threading.RLock, access_key: str | None) -> str:
    # Import under the lock, as every other import of moto's models is: two threads importing
    # moto's circular modules in different orders can see a partially initialized module.
    with lock:
        from moto.core.models import DEFAULT_ACCOUNT_ID

        if not access_key:
            return DEFAULT_ACCOUNT_ID
        from moto.iam.models import get_account_id_from

        return get_account_id_from(access_key)
