"""Run the local AWS endpoint: in a background thread, or in the foreground."""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

from stackyard.errors import StackyardError, UsageError
from stackyard.local.cloudformation import CloudFormationEmulator
from stackyard.local.latency import LatencySpec
from stackyard.local.local_only import LocalOnly
from stackyard.local.server import build_app

__all__ = ["LocalEndpoint", "WSGIApp"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _require_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise UsageError(
            f"the local AWS endpoint listens on loopback only, not on {host!r}",
            hint="use 127.0.0.1 (the default), ::1 or localhost",
        )


def _warm_up(lock: threading.RLock, warm: threading.Event) -> None:
    """Load what the first CloudFormation call needs (moto's resource models, the resource
    schemas) while the endpoint waits for it, instead of inside that call: about a second
    and a half that would otherwise be charged to the first client."""
    # Under the lock that moto's requests take: importing moto's models here while a request
    # imports one of them (IAM, say) can meet a partially initialized module and fail.
    with lock:
        import moto.cloudformation.parsing  # noqa: F401  (imports every moto model it can create)

    from stackyard import schemas

    schemas.resource_types()
    warm.set()


class LocalEndpoint:
    """moto's services plus stackyard's CloudFormation emulator, served over HTTP on loopback."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency: str | None = None,
        wrap: Sequence[Callable[[WSGIApp], WSGIApp]] = (),
    ) -> None:
        _require_loopback(host)
        self.host = host
        self.lock = threading.RLock()
        self.emulator = CloudFormationEmulator(self.lock, LatencySpec.parse(latency))
        app: WSGIApp = build_app(self.emulator, self.lock)
        for middleware in wrap:
            app = middleware(app)
        # outermost, so no route (the endpoint's own included) answers a non-local caller
        app = LocalOnly()(app)
        self.app = app
        self._server = self._make_server(host, port, app)
        bound_port = self._server.server_address[1]
        shown_host = f"[{host}]" if ":" in host else host
        self.port: int = int(bound_port)
        self.url: str = f"http://{shown_host}:{self.port}"
        self._thread: threading.Thread | None = None
        self._serving = threading.Event()
        # ECS services advance in the background, under this endpoint's lock too, until stop().
        from stackyard.local.ecs.runtime import runtime

        runtime.attach(self.lock, self.emulator.latency)

    @staticmethod
    def _make_server(host: str, port: int, app: WSGIApp) -> Any:
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                return None

        try:
            return make_server(host, port, app, threaded=True, request_handler=QuietHandler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StackyardError(
                    f"port {port} on {host} is already in use",
                    hint="stop what is listening there (`stackyard local status` shows a running "
                    "endpoint) or pick another port with --port",
                ) from exc
            raise StackyardError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        except SystemExit as exc:  # werkzeug exits when the port is taken on some versions
            raise StackyardError(f"port {port} on {host} is already in use") from exc

    def start(self) -> str:
        """Serve in a daemon thread; return the endpoint URL."""
        if self._thread is None:
            self._serving.set()
            self._thread = threading.Thread(
                target=self.serve_forever, name="stackyard-local", daemon=True
            )
            self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted or stopped."""
        self._serving.set()
        threading.Thread(
            target=_warm_up,
            args=(self.lock, self.emulator.warm),
            name="stackyard-local-warm-up",
            daemon=True,
        ).start()
        try:
            self._server.serve_forever()
        finally:
            self._serving.clear()
            self.emulator.shutdown()

    def stop(self) -> None:
        """Stop serving, finish the emulator's workers and release the port."""
        from stackyard.local.ecs.runtime import runtime

        runtime.detach(self.lock)
        if self._serving.is_set():
            self._server.shutdown()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None
        self.emulator.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalEndpoint:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def port_is_free(host: str, port: int) -> bool:
    """Whether ``port`` on ``host`` can be bound right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
