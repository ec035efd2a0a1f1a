"""Fault injection: a middleware answering chosen calls with throttling, 5xx, a drop, or losing
the answer of a call that did its work.

``GET /_stackyard/faults`` returns the active fault spec and what was injected so far;
``POST /_stackyard/faults`` with the new spec as the body replaces it (an empty body, or
``DELETE``, turns faults off).

Fault specs
-----------

A fault spec is a comma-separated list of items::

    spec    := item ("," item)*
    item    := "seed=" INTEGER | target "=" fault ("+" fault)*
    target  := "*" | SERVICE | SERVICE ":*" | SERVICE ":" ACTION | "*:" ACTION
    fault   := KIND [":" RATE]
    KIND    := "throttle" | "error500" | "error503" | "drop" | "lost"
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
- ``drop``: the connection is closed without a response; the call never reached its service.
- ``lost``: the call reaches its service and takes effect, then the connection is closed
  without the answer, as when the network fails after AWS accepted a request. A client that
  retries a write sees the effect of the first attempt (an idempotency token makes the retry
  safe; without one it may fail with ``AlreadyExists``).

Whether the n-th call of a given service and action is faulted depends only on the seed, the
service, the action and n, so a run is reproducible however calls of different actions
interleave across threads. The counts start again whenever the spec is replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from stackyard.errors import UsageError
from stackyard.local.aws_errors import error_response
from stackyard.local.request_info import RequestInfo, classify
from stackyard.local.wsgi import OPS_PREFIX, StartResponse, WSGIApp, json_response, read_body

__all__ = ["FAULT_KINDS", "FaultInjector", "FaultKind", "FaultRule", "FaultSpec"]

FaultKind = Literal["throttle", "error500", "error503", "drop", "lost"]
FAULT_KINDS: tuple[FaultKind, ...] = ("throttle", "error500", "error503", "drop", "lost")


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


def _serve_then_drop(app: WSGIApp, environ: dict[str, Any]) -> None:
    """Let the call reach its service and finish (its effect happens), then drop the answer."""

    def discard_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return lambda data: None

    result = app(environ, discard_start_response)
    try:
        for _ in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    _drop_connection(environ)


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
            if kind == "lost":
                _serve_then_drop(app, environ)
            status, code, message = _fault_status(info, kind)
            return error_response(start_response, method, info, status, code, message)

        return faulting_app

    def _route(
        self, environ: dict[str, Any], start_response: StartResponse, method: str
    ) -> list[bytes]:
        if method == "GET":
            return json_response(start_response, 200, self.report())
        if method in ("POST", "PUT", "DELETE"):
            text = "" if method == "DELETE" else read_body(environ).decode("utf-8", "replace")
            if text.lstrip().startswith("{"):
                try:
                    text = str(json.loads(text).get("spec") or "")
                except (ValueError, AttributeError):
                    return json_response(start_response, 400, {"error": "invalid JSON body"})
            try:
                self.set_spec(text)
            except UsageError as exc:
                return json_response(start_response, 400, {"error": exc.message})
            return json_response(start_response, 200, self.report())
        return json_response(start_response, 405, {"error": f"{method} not allowed"})
