"""The local endpoint's WSGI middlewares, re-exported from one module per concept.

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

Where each lives:

- ``stackyard.local.wsgi``: shared WSGI types and helpers, ``OPS_PREFIX``.
- ``stackyard.local.request_info``: ``RequestInfo``, ``classify``, ``client_of``.
- ``stackyard.local.accounting``: ``CallAccounting``.
- ``stackyard.local.faults``: ``FaultSpec`` (and its grammar), ``FaultRule``, ``FaultInjector``.
- ``stackyard.local.status_route``: ``StatusRoute``.
"""

from __future__ import annotations

from stackyard.local.accounting import CallAccounting
from stackyard.local.faults import FaultInjector, FaultRule, FaultSpec
from stackyard.local.request_info import RequestInfo, classify, client_of
from stackyard.local.status_route import StatusRoute
from stackyard.local.wsgi import OPS_PREFIX, WSGIApp

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
    "client_of",
]
