"""WSGI middlewares of the local AWS endpoint: call accounting, fault injection, status.

Each is an object you call with the inner WSGI app to get the wrapped app, so it fits
``LocalEndpoint(wrap=[...])`` (the last one in the list is the outermost)::

    calls = CallAccounting()
    faults = FaultInjector("seed=7,cloudformation:DescribeStacks=throttle:0.3")
    LocalEndpoint(wrap=[faults, calls, StatusRoute(calls, faults)])

Routes under ``/_stackyard/`` are the endpoint's own: they are never counted or faulted.

- ``GET /_stackyard/calls``: call counts as JSON; ``POST /_stackyard/calls/reset`` (or
  ``DELETE /_stackyard/calls``) returns them and starts again from zero.
- ``GET /_stackyard/faults``: the active fault spec and what was injected so far;
  ``POST /_stackyard/faults`` with the new spec as the body replaces it (an empty body, or
  ``DELETE``, turns faults off).
- ``GET /_stackyard/status``: pid, uptime, call summary, fault spec, unsupported types.

Fault specs
-----------

A fault spec is a comma-separated list of items::

    spec    := item ("," item)*
    item    := "seed=" INTEGER | target "=" fault ("+" fault)*
    target  := "*" | SERVICE | SERVICE ":*" | SERVICE ":" ACTION | "*:" ACTION
    fault   := KIND [":" RATE]
    KIND    := "throttle" | "error500" | "error503" | "drop"
    RATE    := a fraction from 0 to 1, or a percentage such as "30%"; 1 when left out

For example ``seed=7,cloudformation:DescribeStacks=throttle:0.3,*=error500:0.05,ssm:*=drop:0.1``.
SERVICE is the SigV4 signing name (``cloudformation``, ``ssm``, ``s3``, ``sqs``...), ACTION
the API operation (``DescribeStacks``); both match case-insensitively. A call takes the faults
of the most specific target that matches it (``service:action``, then ``*:action``, then
``service``, then ``*``); the rates of one target must add up to at most 1.

- ``throttle``: HTTP 400 ``Throttling`` / "Rate exceeded" in the protocol's error shape (JSON
  protocols say ``ThrottlingException``; S3 answers 503 ``SlowDown`` as it does on AWS); botocore
  recognizes it as throttling and retries it.
- ``error500`` / ``error503``: ``InternalFailure`` / ``ServiceUnavailable``.
- ``drop``: the connection is closed without a response.

Whether the n-th call of a given service and action is faulted depends only on the seed, the
service, the action and n, so a run is reproducible however calls of different actions
interleave across threads. The counts start again whenever the spec is replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

from stackyard.errors import UsageError

__all__ = [
    "OPS_PREFIX",
    "CallAccounting",
    "FaultInjector",
    "FaultRule",
    "FaultSpec",
    "RequestInfo",
    "StatusRoute",
    "WSGIApp",
    "classify",
]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
StartResponse = Callable[..., Any]

OPS_PREFIX = "/_stackyard/"

Protocol = Literal["query", "ec2", "json", "rest-xml", "rest-json", "s3"]
FaultKind = Literal["throttle", "error500", "error503", "drop"]
FAULT_KINDS: tuple[FaultKind, ...] = ("throttle", "error500", "error503", "drop")


# ---------------------------------------------------------------------------------------------
# Classifying a request: service, action, client, protocol


@dataclass(frozen=True)
class RequestInfo:
    """What a request is: the service and action it calls, the client, the wire protocol."""

    service: str
    action: str
    client: str
    protocol: Protocol

    @property
    def key(self) -> str:
        """``service:action``."""
        return f"{self.service}:{self.action}"


# X-Amz-Target prefixes of JSON-protocol services, for unsigned requests.
_TARGET_SERVICES = {
    "amazonssm": "ssm",
    "amazonsqs": "sqs",
    "trentservice": "kms",
    "awsevents": "events",
    "secretsmanager": "secretsmanager",
    "logs_20140328": "logs",
    "dynamodb_20120810": "dynamodb",
    "awsieservicecommercestorefront": "acm",
    "certificatemanager": "acm",
    "amazonec2containerservicev20141113": "ecs",
    "awsstepfunctions": "states",
    "firehose_20150804": "firehose",
    "kinesis_20131202": "kinesis",
}
_REST_XML_SERVICES = {"route53", "cloudfront"}
_KNOWN_CLIENTS = ("stackyard", "stacker", "sceptre", "runway", "aws-cli", "terraform", "cdk")

# S3 sub-resources (query keys) and the operation they name, by method.
_S3_BUCKET_SUBRESOURCES: dict[str, str] = {
    "accelerate": "BucketAccelerateConfiguration",
    "acl": "BucketAcl",
    "analytics": "BucketAnalyticsConfiguration",
    "cors": "BucketCors",
    "encryption": "BucketEncryption",
    "intelligent-tiering": "BucketIntelligentTieringConfiguration",
    "inventory": "BucketInventoryConfiguration",
    "lifecycle": "BucketLifecycleConfiguration",
    "logging": "BucketLogging",
    "metrics": "BucketMetricsConfiguration",
    "notification": "BucketNotificationConfiguration",
    "object-lock": "ObjectLockConfiguration",
    "ownershipControls": "BucketOwnershipControls",
    "policy": "BucketPolicy",
    "policyStatus": "BucketPolicyStatus",
    "publicAccessBlock": "PublicAccessBlock",
    "replication": "BucketReplication",
    "requestPayment": "BucketRequestPayment",
    "tagging": "BucketTagging",
    "versioning": "BucketVersioning",
    "website": "BucketWebsite",
}
_S3_OBJECT_SUBRESOURCES: dict[str, str] = {
    "acl": "ObjectAcl",
    "attributes": "ObjectAttributes",
    "legal-hold": "ObjectLegalHold",
    "retention": "ObjectRetention",
    "tagging": "ObjectTagging",
}
_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, so the app behind still finds it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None or length <= 0:
        return b""
    body: bytes = stream.read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _signing_service(environ: Mapping[str, Any]) -> str | None:
    auth = str(environ.get("HTTP_AUTHORIZATION") or "")
    for part in auth.replace(",", " ").split():
        if part.startswith("Credential="):
            scope = part[len("Credential=") :].split("/")
            if len(scope) == 5:
                return scope[3].lower()
    return None


def client_of(user_agent: str) -> str:
    """The client named by a User-Agent: an ``app/NAME`` app id, a known tool, or the first token.

    botocore appends ``app/NAME`` when ``AWS_SDK_UA_APP_ID`` (or ``user_agent_appid``) is set,
    which is how a tool built on boto3 (stacker, sceptre, runway) can be told apart.
    """
    tokens = user_agent.split()
    if not tokens:
        return "unknown"
    for token in tokens:
        if token.startswith("app/") and len(token) > 4:
            return token[4:]
    for token in tokens[1:]:
        name = token.split("/", 1)[0].lower()
        if name in _KNOWN_CLIENTS:
            return token
    return tokens[0]


def _s3_bucket_and_key(environ: Mapping[str, Any]) -> tuple[str, str]:
    path = unquote(str(environ.get("PATH_INFO") or "/"))
    host = str(environ.get("HTTP_HOST") or "").rsplit(":", 1)[0].lower()
    labels = host.split(".")
    bucket_from_host = ""
    if "s3" in labels[1:]:
        bucket_from_host = ".".join(labels[: labels.index("s3", 1)])
    elif host.endswith(".localhost"):
        bucket_from_host = host[: -len(".localhost")]
    if bucket_from_host:
        return bucket_from_host, path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def _s3_action(environ: Mapping[str, Any]) -> str:
    method = str(environ.get("REQUEST_METHOD") or "GET").upper()
    query = dict(parse_qsl(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True))
    bucket, key = _s3_bucket_and_key(environ)
    verb = _VERBS.get(method, method.title())
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{verb}Service"
    if not key:
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        if method == "GET":
            if "location" in query:
                return "GetBucketLocation"
            if "versions" in query:
                return "ListObjectVersions"
            if "uploads" in query:
                return "ListMultipartUploads"
        for name, operation in _S3_BUCKET_SUBRESOURCES.items():
            if name in query:
                return f"{verb}{operation}"
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == "2" else "ListObjects"
        return {
            "PUT": "CreateBucket",
            "DELETE": "DeleteBucket",
            "HEAD": "HeadBucket",
        }.get(method, f"{verb}Bucket")
    if "uploadId" in query:
        if "partNumber" in query and method == "PUT":
            copy = "HTTP_X_AMZ_COPY_SOURCE" in environ
            return "UploadPartCopy" if copy else "UploadPart"
        return {
            "POST": "CompleteMultipartUpload",
            "DELETE": "AbortMultipartUpload",
            "GET": "ListParts",
        }.get(method, f"{verb}MultipartUpload")
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    for name, operation in _S3_OBJECT_SUBRESOURCES.items():
        if name in query:
            return f"{verb}{operation}"
    if method == "PUT" and "HTTP_X_AMZ_COPY_SOURCE" in environ:
        return "CopyObject"
    return f"{verb}Object"


def classify(environ: dict[str, Any]) -> RequestInfo:
    """Name the service, action, client and protocol of a request (reads and restores its body).

    Query protocol: the form (or query string) ``Action``; JSON protocol: ``X-Amz-Target``;
    S3: the method and the shape of the path and query; other REST services: the method and
    the first path segment, or the operation of a Smithy RPC path. The answer is kept in the
    environ, so the middlewares of one request classify it once.
    """
    cached = environ.get(_INFO_KEY)
    if isinstance(cached, RequestInfo):
        return cached
    info = _classify(environ)
    environ[_INFO_KEY] = info
    return info


_INFO_KEY = "stackyard.request_info"


def _classify(environ: dict[str, Any]) -> RequestInfo:
    client = client_of(str(environ.get("HTTP_USER_AGENT") or ""))
    service = _signing_service(environ)
    method = str(environ.get("REQUEST_METHOD") or "GET").upper()
    path = str(environ.get("PATH_INFO") or "/")

    target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
    if target:
        prefix, _, action = target.rpartition(".")
        if service is None:
            service = _TARGET_SERVICES.get(prefix.lower(), prefix.lower() or "unknown")
        return RequestInfo(service, action or "unknown", client, "json")

    params = dict(parse_qsl(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True))
    content_type = str(environ.get("CONTENT_TYPE") or "")
    if method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
        form = read_body(environ).decode("utf-8", "replace")
        params.update(parse_qsl(form, keep_blank_values=True))
    if "Action" in params and (service != "s3"):
        if service is None:
            service = "cloudformation" if params.get("Version") == "2010-05-15" else "unknown"
        protocol: Protocol = "ec2" if service == "ec2" else "query"
        return RequestInfo(service, params["Action"], client, protocol)

    if service in (None, "s3"):
        return RequestInfo("s3", _s3_action(environ), client, "s3")
    segments = [segment for segment in path.split("/") if segment]
    if len(segments) >= 4 and segments[0] == "service" and segments[2] == "operation":
        return RequestInfo(service, segments[3], client, "rest-json")
    first = segments[0] if segments else ""
    protocol = "rest-xml" if service in _REST_XML_SERVICES else "rest-json"
    return RequestInfo(service, f"{method} /{first}", client, protocol)


# ---------------------------------------------------------------------------------------------
# Small WSGI helpers


def _json_response(start_response: StartResponse, status: int, payload: object) -> list[bytes]:
    from http import HTTPStatus

    body = json.dumps(payload, indent=2, sort_keys=True).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _status_code(status: str) -> int:
    try:
        return int(status.split(None, 1)[0])
    except (ValueError, IndexError):
        return 0


class _RecordOnClose:
    """An iterable over a response that calls ``done`` once, when the server closes it."""

    def __init__(self, result: Iterable[bytes], done: Callable[[], None]) -> None:
        self._result = result
        self._done = done
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self._result
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


# ---------------------------------------------------------------------------------------------
# Call accounting


class CallAccounting:
    """Counts requests per service and action, per client, and by response status; thread-safe.

    Call the instance with a WSGI app to get the counting app.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._services: dict[str, Counter[str]] = {}
        self._clients: dict[str, Counter[str]] = {}
        self._statuses: Counter[str] = Counter()
        self._since = clock()

    def record(self, info: RequestInfo, outcome: str) -> None:
        """Count one call; ``outcome`` is a status class (``2xx``...) or ``dropped``."""
        with self._lock:
            self._services.setdefault(info.service, Counter())[info.action] += 1
            self._clients.setdefault(info.client, Counter())[info.key] += 1
            self._statuses[outcome] += 1

    def snapshot(self) -> dict[str, Any]:
        """The counts as plain data (what ``GET /_stackyard/calls`` returns)."""
        with self._lock:
            return self._snapshot_unlocked()

    def reset(self) -> dict[str, Any]:
        """Return the counts and start again from zero, atomically."""
        with self._lock:
            snapshot = self._snapshot_unlocked()
            self._services.clear()
            self._clients.clear()
            self._statuses.clear()
            self._since = self._clock()
        return snapshot

    def _snapshot_unlocked(self) -> dict[str, Any]:
        services = {name: dict(sorted(c.items())) for name, c in self._services.items()}
        return {
            "since": datetime.fromtimestamp(self._since, UTC).isoformat(timespec="seconds"),
            "total": sum(sum(actions.values()) for actions in services.values()),
            "services": dict(sorted(services.items())),
            "clients": {name: dict(sorted(c.items())) for name, c in sorted(self._clients.items())},
            "statuses": dict(sorted(self._statuses.items())),
        }

    def __call__(self, app: WSGIApp) -> WSGIApp:
        def counting_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            path = str(environ.get("PATH_INFO") or "")
            method = str(environ.get("REQUEST_METHOD") or "GET").upper()
            if path == "/_stackyard/calls" and method == "GET":
                return _json_response(start_response, 200, self.snapshot())
            if (path == "/_stackyard/calls/reset" and method == "POST") or (
                path == "/_stackyard/calls" and method == "DELETE"
            ):
                return _json_response(start_response, 200, self.reset())
            if path.startswith(OPS_PREFIX):
                return app(environ, start_response)

            info = classify(environ)
            seen: list[str] = []

            def recording_start_response(status: str, *args: Any) -> Any:
                seen.append(status)
                return start_response(status, *args)

            try:
                result = app(environ, recording_start_response)
            except ConnectionError:
                self.record(info, "dropped")
                raise
            except Exception:
                self.record(info, "5xx")  # the server answers 500 for an app that raises
                raise

            def done() -> None:
                code = _status_code(seen[-1]) if seen else 0
                self.record(info, f"{code // 100}xx" if code else "dropped")

            if seen:  # the usual case: the status is known before the body is sent
                done()
                return result
            return _RecordOnClose(result, done)

        return counting_app


# ---------------------------------------------------------------------------------------------
# Fault injection


@dataclass(frozen=True)
class FaultRule:
    """The faults of one target: each kind with the fraction of calls it hits."""

    service: str  # lower case, or "*"
    action: str  # lower case, or "*"
    faults: tuple[tuple[FaultKind, float], ...]

    @property
    def target(self) -> str:
        """The target as written in a spec, normalized."""
        return self.service if self.action == "*" else f"{self.service}:{self.action}"

    def specificity(self) -> int:
        """Higher wins: service:action 3, *:action 2, service 1, * 0."""
        return (2 if self.action != "*" else 0) + (1 if self.service != "*" else 0)


def _parse_rate(text: str, item: str) -> float:
    raw = text.strip()
    try:
        rate = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UsageError(
            f"faults spec: {item!r} has an invalid rate {text!r}",
            hint="a rate is a fraction from 0 to 1 (0.3) or a percentage (30%)",
        ) from None
    if not 0.0 <= rate <= 1.0:
        raise UsageError(
            f"faults spec: {item!r} has a rate {text!r} outside 0..1",
            hint="a rate is a fraction from 0 to 1 (0.3) or a percentage (30%)",
        )
    return rate


def _parse_target(text: str, item: str) -> tuple[str, str]:
    target = text.strip().lower()
    service, _, action = target.partition(":")
    service, action = service.strip(), action.strip() or "*"
    valid = all(
        part == "*" or part.replace("-", "").replace("_", "").isalnum()
        for part in (service, action)
    )
    if not service or not valid or target.count(":") > 1:
        raise UsageError(
            f"faults spec: {item!r} has an invalid target {text.strip()!r}",
            hint="a target is *, SERVICE, SERVICE:* or SERVICE:ACTION, "
            "e.g. cloudformation:DescribeStacks",
        )
    return service, action


@dataclass(frozen=True)
class FaultSpec:
    """A parsed fault spec: a seed and the rules (see the module docstring for the grammar)."""

    seed: int = 0
    rules: tuple[FaultRule, ...] = ()
    text: str = ""

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """Parse a spec; raise ``UsageError`` naming the bad item."""
        if text is None or not text.strip():
            return cls()
        seed = 0
        rules: dict[tuple[str, str], FaultRule] = {}
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            name, sep, value = item.partition("=")
            if not sep or not value.strip():
                raise UsageError(
                    f"faults spec: {item!r} is not TARGET=FAULT or seed=N",
                    hint="e.g. seed=7,cloudformation:DescribeStacks=throttle:0.3,*=error500:0.05",
                )
            if name.strip().lower() == "seed":
                try:
                    seed = int(value.strip())
                except ValueError:
                    raise UsageError(
                        f"faults spec: seed must be an integer, not {value!r}"
                    ) from None
                continue
            service, action = _parse_target(name, item)
            faults: list[tuple[FaultKind, float]] = []
            for part in value.split("+"):
                kind_text, _, rate_text = part.strip().partition(":")
                kind = kind_text.strip().lower()
                if kind not in FAULT_KINDS:
                    raise UsageError(
                        f"faults spec: {item!r} names an unknown fault {kind_text.strip()!r}",
                        hint="faults are " + ", ".join(FAULT_KINDS),
                    )
                rate = _parse_rate(rate_text, item) if rate_text.strip() else 1.0
                faults.append((kind, rate))  # type: ignore[arg-type]
            if sum(rate for _, rate in faults) > 1.0 + 1e-9:
                raise UsageError(f"faults spec: the rates in {item!r} add up to more than 1")
            if (service, action) in rules:
                raise UsageError(
                    f"faults spec: target {name.strip()!r} appears twice",
                    hint="combine faults of one target with +, e.g. *=throttle:0.1+drop:0.05",
                )
            rules[(service, action)] = FaultRule(service, action, tuple(faults))
        return cls(seed=seed, rules=tuple(rules.values()), text=text.strip())

    def rule_for(self, service: str, action: str) -> FaultRule | None:
        """The most specific rule that matches a call, if any."""
        service, action = service.lower(), action.lower()
        best: FaultRule | None = None
        for rule in self.rules:
            if rule.service not in ("*", service) or rule.action not in ("*", action):
                continue
            if best is None or rule.specificity() > best.specificity():
                best = rule
        return best

    def decide(self, service: str, action: str, nth: int) -> FaultKind | None:
        """The fault for the ``nth`` call (from 1) of ``service:action``, or None."""
        rule = self.rule_for(service, action)
        if rule is None:
            return None
        digest = hashlib.blake2b(
            f"{self.seed}|{service.lower()}|{action.lower()}|{nth}".encode(), digest_size=8
        ).digest()
        draw = int.from_bytes(digest, "big") / 2**64
        edge = 0.0
        for kind, rate in rule.faults:
            edge += rate
            if draw < edge:
                return kind
        return None


def _error_body(
    info: RequestInfo, code: str, message: str
) -> tuple[bytes, str, list[tuple[str, str]]]:
    """An AWS error in the request's protocol: body, content type and extra headers."""
    request_id = hashlib.sha1(os.urandom(8)).hexdigest()[:32]
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
            f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return text.encode(), "text/xml", []
    if info.protocol == "s3":
        text = (
            "<?xml version='1.0' encoding='UTF-8'?><Error>"
            f"<Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
        return text.encode(), "application/xml", [("x-amz-request-id", request_id)]
    fault_type = "Receiver" if code in ("InternalFailure", "ServiceUnavailable") else "Sender"
    text = (
        "<ErrorResponse><Error>"
        f"<Type>{fault_type}</Type><Code>{code}</Code><Message>{message}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return text.encode(), "text/xml", [("x-amzn-RequestId", request_id)]


def _fault_status(info: RequestInfo, kind: FaultKind) -> tuple[int, str, str]:
    if kind == "throttle":
        if info.protocol == "s3":
            return 503, "SlowDown", "Please reduce your request rate."
        code = "ThrottlingException" if info.protocol in ("json", "rest-json") else "Throttling"
        return 400, code, "Rate exceeded"
    if kind == "error503":
        return 503, "ServiceUnavailable", "Service is unavailable. Please retry."
    return 500, "InternalFailure", "The request processing has failed because of an internal error."


def _drop_connection(environ: Mapping[str, Any]) -> None:
    """Close the client's connection without a response, then unwind the request."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    # werkzeug treats a ConnectionError as "the client went away" and sends nothing.
    raise ConnectionAbortedError("stackyard fault injection: connection dropped")


class FaultInjector:
    """Answers a chosen fraction of calls with throttling, 500/503, or a dropped connection.

    Call the instance with a WSGI app to get the faulting app. ``spec`` can be replaced at
    runtime (``set_spec`` or ``POST /_stackyard/faults``).
    """

    def __init__(self, spec: str | FaultSpec | None = None) -> None:
        self._lock = threading.Lock()
        self._spec = spec if isinstance(spec, FaultSpec) else FaultSpec.parse(spec)
        self._calls: Counter[tuple[str, str]] = Counter()
        self._injected: dict[str, Counter[str]] = {}

    @property
    def spec(self) -> FaultSpec:
        """The active spec."""
        return self._spec

    def set_spec(self, spec: str | FaultSpec | None) -> FaultSpec:
        """Replace the spec (validated first) and restart the per-action call counts."""
        parsed = spec if isinstance(spec, FaultSpec) else FaultSpec.parse(spec)
        with self._lock:
            self._spec = parsed
            self._calls.clear()
            self._injected.clear()
        return parsed

    def decide(self, info: RequestInfo) -> FaultKind | None:
        """Count the call and return the fault to inject into it, if any."""
        with self._lock:
            spec = self._spec
            if not spec.rules:
                return None
            key = (info.service.lower(), info.action.lower())
            self._calls[key] += 1
            nth = self._calls[key]
        kind = spec.decide(info.service, info.action, nth)
        if kind is not None:
            with self._lock:
                self._injected.setdefault(info.key, Counter())[kind] += 1
        return kind

    def report(self) -> dict[str, Any]:
        """The active spec and the faults injected under it, per ``service:action``."""
        with self._lock:
            injected = {key: dict(counts) for key, counts in sorted(self._injected.items())}
            return {"spec": self._spec.text, "seed": self._spec.seed, "injected": injected}

    def __call__(self, app: WSGIApp) -> WSGIApp:
        def faulting_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            path = str(environ.get("PATH_INFO") or "")
            method = str(environ.get("REQUEST_METHOD") or "GET").upper()
            if path == "/_stackyard/faults":
                return self._route(environ, start_response, method)
            if path.startswith(OPS_PREFIX):
                return app(environ, start_response)
            info = classify(environ)
            kind = self.decide(info)
            if kind is None:
                return app(environ, start_response)
            if kind == "drop":
                _drop_connection(environ)
            status, code, message = _fault_status(info, kind)
            body, content_type, headers = _error_body(info, code, message)
            from http import HTTPStatus

            start_response(
                f"{status} {HTTPStatus(status).phrase}",
                [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers],
            )
            return [body] if environ.get("REQUEST_METHOD") != "HEAD" else [b""]

        return faulting_app

    def _route(
        self, environ: dict[str, Any], start_response: StartResponse, method: str
    ) -> list[bytes]:
        if method == "GET":
            return _json_response(start_response, 200, self.report())
        if method in ("POST", "PUT", "DELETE"):
            text = "" if method == "DELETE" else read_body(environ).decode("utf-8", "replace")
            if text.lstrip().startswith("{"):
                try:
                    text = str(json.loads(text).get("spec") or "")
                except (ValueError, AttributeError):
                    return _json_response(start_response, 400, {"error": "invalid JSON body"})
            try:
                self.set_spec(text)
            except UsageError as exc:
                return _json_response(start_response, 400, {"error": exc.message})
            return _json_response(start_response, 200, self.report())
        return _json_response(start_response, 405, {"error": f"{method} not allowed"})


# ---------------------------------------------------------------------------------------------
# Status


@dataclass
class StatusRoute:
    """``GET /_stackyard/status``: pid, uptime, calls, faults and the unsupported resource types.

    The unsupported types come from the inner app's health route, so this needs no handle on
    the emulator.
    """

    calls: CallAccounting | None = None
    faults: FaultInjector | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def payload(self, app: WSGIApp) -> dict[str, Any]:
        """The status document."""
        health = _get_json(app, "/_stackyard/health")
        calls = self.calls.snapshot() if self.calls is not None else None
        return {
            "pid": os.getpid(),
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds"),
            "uptime_seconds": round(time.time() - self.started, 1),
            "health": health.get("status", "unknown"),
            "unsupported_types": health.get("unsupported_types") or {},
            "calls": calls,
            "faults": self.faults.report() if self.faults is not None else None,
            **{key: value() if callable(value) else value for key, value in self.extra.items()},
        }

    def __call__(self, app: WSGIApp) -> WSGIApp:
        def status_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/_stackyard/status":
                return _json_response(start_response, 200, self.payload(app))
            return app(environ, start_response)

        return status_app


def _get_json(app: WSGIApp, path: str) -> dict[str, Any]:
    """GET ``path`` from a WSGI app in-process; {} if it does not answer with JSON."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "0",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
        statuses.append(status)
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not statuses or _status_code(statuses[-1]) != 200:
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
