"""The endpoint behind ``--local``: the running background endpoint, or one for this command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stackyard.errors import StackyardError

__all__ = ["local_endpoint_url"]


@contextmanager
def local_endpoint_url(start_if_missing: bool = True, *, home: Path | None = None) -> Iterator[str]:
    """Yield the url of a local AWS endpoint for the duration of a command.

    The background endpoint (``stackyard local up``) is used if it is running and healthy;
    otherwise, with ``start_if_missing``, an in-process endpoint serves until the block ends
    (its resources go with it). Without it, a missing endpoint is an error.
    """
    from stackyard.local.daemon import running

    info = running(home)
    if info is not None:
        yield info.url
        return
    if not start_if_missing:
        raise StackyardError(
            "no local AWS endpoint is running",
            hint="start one with `stackyard local up`",
        )
    from stackyard.local.runner import LocalEndpoint

    with LocalEndpoint() as endpoint:
        yield endpoint.url
