"""Simulated requests through a listener: which rule, target group and task answers each.

Nothing listens on a local load balancer, so ``POST /_stackyard/traffic`` answers the question
a canary test asks of real traffic::

    {"listener_arn": "arn:...:listener/app/web/...", "requests": 1000,
     "host": "api.example.com", "path": "/orders/1", "seed": 7,
     "headers": {"X-Stackyard-Environment": "prod/canary"}}

For each request it takes the listener's rules in priority order (host-header, path-pattern
and http-header conditions, with ``*`` and ``?`` wildcards; header names in any case; the
default rule last), picks a target group of the
matching forward action by weight, and a target within it among the healthy ones (all of them
when none is healthy, as ALB fails open; a 503 when there are none). The answer counts requests
per target group, per task and per status, and lists each request. ``send_traffic`` is the
Python helper.
"""

from __future__ import annotations

import fnmatch
import json
import random
import threading
import urllib.request
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from stackyard.local.elbv2 import targets as target_ops
from stackyard.local.elbv2.weights import forward_targets
from stackyard.local.wsgi import StartResponse, json_response, read_body

__all__ = ["TRAFFIC_PATH", "TrafficError", "handle", "send_traffic", "simulate"]

TRAFFIC_PATH = "/_stackyard/traffic"
MAX_REQUESTS = 100_000


class TrafficError(ValueError):
    """A traffic request that cannot be simulated (unknown listener, bad input)."""


def _condition_values(condition: Mapping[str, Any], config_key: str) -> list[str]:
    config = condition.get(config_key) or {}
    values = list(config.get("Values") or []) if isinstance(config, Mapping) else []
    return values or list(condition.get("Values") or [])


def _header_matches(condition: Mapping[str, Any], headers: Mapping[str, str]) -> bool:
    config = condition.get("HttpHeaderConfig") or {}
    name = str(config.get("HttpHeaderName") or "").lower()
    sent = {k.lower(): v for k, v in headers.items()}.get(name)
    values = list(config.get("Values") or [])
    return sent is not None and any(fnmatch.fnmatch(sent.lower(), v.lower()) for v in values)


def _matches(
    conditions: Iterable[Mapping[str, Any]],
    host: str,
    path: str,
    headers: Mapping[str, str] | None = None,
) -> bool:
    for condition in conditions:
        field = condition.get("Field")
        if field == "http-header":
            if not _header_matches(condition, headers or {}):
                return False
        elif field == "host-header":
            values = _condition_values(condition, "HostHeaderConfig")
            if not any(fnmatch.fnmatch(host.lower(), v.lower()) for v in values):
                return False
        elif field == "path-pattern":
            values = _condition_values(condition, "PathPatternConfig")
            if not any(fnmatch.fnmatchcase(path, v) for v in values):
                return False
        else:
            return False  # conditions on methods, queries, source IPs: not simulated
    return True


def _rules(listener: Any) -> list[tuple[str, Any, list[Any]]]:
    """(rule ARN, conditions, actions) in evaluation order, the default rule last."""
    ordered = sorted(
        listener._non_default_rules.values(),
        key=lambda rule: int(rule.priority),
    )
    found: list[tuple[str, Any, list[Any]]] = [
        (r.arn, r.conditions or [], list(r.actions)) for r in ordered
    ]
    found.append(("default", [], list(listener.default_actions)))
    return found


def _first_action(actions: list[Any]) -> Any:
    def order(action: Any) -> int:
        value = getattr(action, "data", {}).get("Order")
        return int(value) if value is not None else 50001

    return sorted(actions, key=order)[0] if actions else None


def _pool(group: Any) -> tuple[list[dict[str, Any]], bool]:
    """The targets a request can reach in ``group``, and whether the group failed open."""
    tasks = target_ops.task_targets(group)
    task_keys = {f"{t['Id']}:{t['Port']}" for t in tasks}
    others = [
        {"Id": t["Id"], "Port": t.get("Port", group.port), "Task": None, "State": "healthy"}
        for key, t in group.targets.items()
        if key not in task_keys
    ]
    everyone = tasks + others
    healthy = [t for t in everyone if t["State"] == "healthy"]
    if healthy:
        return healthy, False
    reachable = [t for t in everyone if t["State"] in ("unhealthy", "initial")]
    return reachable, bool(reachable)


def simulate(
    listener_arn: str,
    requests: int,
    *,
    host: str = "",
    path: str = "/",
    seed: int | None = None,
    include_requests: bool = True,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Route ``requests`` simulated requests through a listener; call under the endpoint lock."""
    from moto.elbv2.models import elbv2_backends

    parts = listener_arn.split(":")
    if len(parts) < 6 or ":listener/" not in listener_arn:
        raise TrafficError(f"{listener_arn!r} is not a listener ARN")
    if not 0 < requests <= MAX_REQUESTS:
        raise TrafficError(f"requests must be from 1 to {MAX_REQUESTS}, not {requests}")
    backend = elbv2_backends[parts[4]][parts[3]]
    listener = None
    for balancer in backend.load_balancers.values():
        listener = balancer.listeners.get(listener_arn) or listener
    if listener is None:
        raise TrafficError(f"listener {listener_arn} not found")
    rng = random.Random(seed)
    rule_arn, action = "default", None
    for arn, conditions, actions in _rules(listener):
        if _matches(conditions, host, path, headers):
            rule_arn, action = arn, _first_action(actions)
            break
    results: list[dict[str, Any]] = []
    kind = getattr(action, "type", None)
    choices = forward_targets(action) if kind == "forward" else []
    groups = {arn: backend.target_groups.get(arn) for arn, _ in choices}
    pools = {
        arn: _pool(group) if group is not None else ([], False) for arn, group in groups.items()
    }
    for _ in range(requests):
        result: dict[str, Any] = {"rule": rule_arn}
        if kind != "forward":
            result["status"] = _non_forward_status(action)
        elif not choices or sum(w for _, w in choices) <= 0:
            result["status"] = 503
        else:
            arn = rng.choices([a for a, _ in choices], weights=[w for _, w in choices])[0]
            pool, fail_open = pools[arn]
            result["target_group"] = arn
            if not pool:
                result["status"] = 503
            else:
                target = rng.choice(pool)
                result.update(
                    status=200,
                    target=f"{target['Id']}:{target['Port']}",
                    task=target["Task"],
                    fail_open=fail_open,
                )
        results.append(result)
    answer: dict[str, Any] = {
        "listener_arn": listener_arn,
        "requests": requests,
        "rule": rule_arn,
        "target_groups": dict(Counter(r["target_group"] for r in results if "target_group" in r)),
        "tasks": dict(Counter(r["task"] for r in results if r.get("task"))),
        "statuses": {str(k): v for k, v in Counter(r["status"] for r in results).items()},
    }
    if include_requests:
        answer["results"] = results
    return answer


def _non_forward_status(action: Any) -> int:
    data = getattr(action, "data", {}) or {}
    if getattr(action, "type", None) == "fixed-response":
        config = data.get("FixedResponseConfig") or {}
        return int(config.get("StatusCode") or 200)
    if getattr(action, "type", None) == "redirect":
        config = data.get("RedirectConfig") or {}
        return 301 if config.get("StatusCode") == "HTTP_301" else 302
    return 503


def handle(
    environ: dict[str, Any], start_response: StartResponse, lock: threading.RLock
) -> Iterable[bytes]:
    """The ``/_stackyard/traffic`` route: JSON in, JSON out."""
    if environ.get("REQUEST_METHOD") != "POST":
        return json_response(start_response, 405, {"error": "POST a JSON body"})
    try:
        body = json.loads(read_body(environ) or b"{}")
        if not isinstance(body, dict):
            raise TrafficError("the body must be a JSON object")
        if not isinstance(body.get("headers") or {}, dict):
            raise TrafficError("headers must be a JSON object of names to values")
        with lock:
            answer = simulate(
                str(body.get("listener_arn") or ""),
                int(body.get("requests", 100)),
                host=str(body.get("host") or ""),
                path=str(body.get("path") or "/"),
                seed=body.get("seed"),
                include_requests=bool(body.get("include_requests", True)),
                headers={str(k): str(v) for k, v in (body.get("headers") or {}).items()},
            )
    except (TrafficError, ValueError, TypeError) as exc:
        return json_response(start_response, 400, {"error": str(exc)})
    return json_response(start_response, 200, answer)


def send_traffic(
    endpoint_url: str,
    listener_arn: str,
    requests: int = 100,
    *,
    host: str = "",
    path: str = "/",
    seed: int | None = None,
    include_requests: bool = False,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Ask a local endpoint to route ``requests`` simulated requests through a listener."""
    payload = {
        "listener_arn": listener_arn,
        "requests": requests,
        "host": host,
        "path": path,
        "seed": seed,
        "include_requests": include_requests,
        "headers": dict(headers or {}),
    }
    request = urllib.request.Request(
        endpoint_url.rstrip("/") + TRAFFIC_PATH,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("error", str(exc))
        raise TrafficError(detail) from exc
    return answer
