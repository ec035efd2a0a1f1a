"""Running the local AWS endpoint: in the foreground (``serve``) or in the background (``up``).

``up`` re-executes ``python -m stackyard.local serve ...`` as a detached process and records it
in the local home (``$STACKYARD_HOME/local``, or ``~/.stackyard/local``):

- ``daemon.json``: pid, url, start time, options, log path;
- ``daemon.log``: the background process's output.

The child tells the parent it is listening by writing a ready file; the parent then checks the
health route before it reports success. ``down`` sends SIGTERM (the endpoint finishes running
operations and, with ``--state``, saves) and waits; ``status`` asks ``GET /_stackyard/status``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackyard.errors import StackyardError, UsageError
from stackyard.home import state_home
from stackyard.processes import pid_alive

if TYPE_CHECKING:
    from stackyard.local.accounting import CallAccounting
    from stackyard.local.faults import FaultInjector
    from stackyard.local.runner import LocalEndpoint
    from stackyard.local.state import Autosave, StateStore

__all__ = [
    "DEFAULT_PORT",
    "DaemonInfo",
    "ServeOptions",
    "Served",
    "build_endpoint",
    "down",
    "fetch_json",
    "home_dir",
    "recorded",
    "running",
    "serve",
    "status",
    "up",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
DAEMON_FILE = "daemon.json"
LOG_FILE = "daemon.log"
READY_FILE = "ready.json"

Echo = Callable[[str], None]


def home_dir() -> Path:
    """Where the background endpoint keeps its pid file and log."""
    return state_home() / "local"


def require_loopback(host: str) -> None:
    """Refuse any host that is not a loopback address."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(
            f"the local AWS endpoint listens on loopback only, not on {host!r}",
            hint="use 127.0.0.1 (the default), ::1 or localhost",
        )


@dataclass(frozen=True)
class ServeOptions:
    """The options of ``serve`` and ``up``."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    latency: str | None = None
    faults: str | None = None
    state: str | None = None
    autosave_seconds: float = 5.0

    def validate(self) -> None:
        """Check everything a child process would otherwise fail on, with clear errors."""
        from stackyard.local.faults import FaultSpec
        from stackyard.local.latency import LatencySpec

        require_loopback(self.host)
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port must be from 0 to 65535, not {self.port}")
        LatencySpec.parse(self.latency)
        FaultSpec.parse(self.faults)

    def argv(self) -> list[str]:
        """The ``serve`` arguments that reproduce these options."""
        args = ["--host", self.host, "--port", str(self.port)]
        if self.latency:
            args += ["--latency", self.latency]
        if self.faults:
            args += ["--faults", self.faults]
        if self.state:
            args += ["--state", str(Path(self.state).expanduser().resolve())]
        return args


# ---------------------------------------------------------------------------------------------
# Foreground


@dataclass
class Served:
    """An endpoint with its operational middlewares, before or while it serves."""

    endpoint: LocalEndpoint
    calls: CallAccounting
    faults: FaultInjector
    store: StateStore | None = None
    autosave: Autosave | None = None
    notes: list[str] = field(default_factory=list)

    def start(self) -> str:
        """Serve in a background thread (restoring state first); return the url."""
        url = self.endpoint.start()
        if self.autosave is not None:
            self.autosave.start(self.endpoint)
        return url

    def stop(self) -> None:
        """Stop serving; with a state directory, save after the last operation finished."""
        if self.autosave is not None:
            self.autosave.stop()
        self.endpoint.stop()
        if self.store is not None:
            report = self.store.save(self.endpoint)
            self.notes.append(
                f"state saved to {report.path} ({report.size // 1024} KiB, "
                f"{report.backends} backends, {report.total_seconds * 1000:.0f} ms)"
            )
            self.notes.extend(
                f"not saved: {name}: {reason}" for name, reason in report.skipped.items()
            )


def build_endpoint(options: ServeOptions) -> Served:
    """A LocalEndpoint wrapped with accounting, faults, status and (with a state dir) autosave.

    With a state directory, the saved state is restored into the endpoint before it serves.
    """
    from stackyard.local.accounting import CallAccounting
    from stackyard.local.faults import FaultInjector
    from stackyard.local.runner import LocalEndpoint
    from stackyard.local.state import Autosave, StateStore
    from stackyard.local.status_route import StatusRoute

    options.validate()
    calls = CallAccounting()
    faults = FaultInjector(options.faults)
    store = StateStore(Path(options.state).expanduser()) if options.state else None
    autosave = Autosave(store, interval=options.autosave_seconds) if store is not None else None
    extra: dict[str, Any] = {
        "state_dir": str(store.directory.resolve()) if store is not None else None,
        "latency": options.latency,
        "last_saved": lambda: _last_saved(autosave),
    }
    status_route = StatusRoute(calls, faults, extra=extra)
    wrap: list[Callable[[Any], Any]] = [faults, calls, status_route]
    if autosave is not None:
        wrap.insert(0, autosave)
    endpoint = LocalEndpoint(options.host, options.port, latency=options.latency, wrap=wrap)
    extra["url"] = endpoint.url
    served = Served(endpoint, calls, faults, store, autosave)
    if store is not None:
        try:
            report = store.restore(endpoint)
        except StackyardError:
            endpoint.stop()
            raise
        if report.restored:
            served.notes.append(
                f"state restored from {store.directory} (saved {report.saved_at}, "
                f"{report.backends} backends)"
            )
            served.notes.extend(f"not restored (was not saved): {name}" for name in report.skipped)
        else:
            served.notes.append(f"starting empty: {report.reason}")
    return served


def _last_saved(autosave: Autosave | None) -> str | None:
    if autosave is None or autosave.last is None:
        return None
    return datetime.fromtimestamp(autosave.last.path.stat().st_mtime, UTC).isoformat(
        timespec="seconds"
    )


def serve(options: ServeOptions, *, ready_file: Path | None = None, echo: Echo = print) -> None:
    """Serve in the foreground until SIGINT or SIGTERM; then stop cleanly (and save)."""
    served = build_endpoint(options)
    for note in served.notes:
        echo(note)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        url = served.start()
        echo(f"stackyard local AWS listening on {url} (pid {os.getpid()})")
        echo(f"  export AWS_ENDPOINT_URL={url}")
        if ready_file is not None:
            _write_json(ready_file, {"url": url, "pid": os.getpid()})
        while not stop.wait(0.5):
            pass
        echo("stopping: finishing running operations")
    finally:
        served.notes.clear()
        try:
            served.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if ready_file is not None:
                with contextlib.suppress(OSError):
                    ready_file.unlink()
    for note in served.notes:
        echo(note)
    echo("stopped")


# ---------------------------------------------------------------------------------------------
# Background


@dataclass(frozen=True)
class DaemonInfo:
    """A background endpoint as recorded in ``daemon.json``."""

    pid: int
    url: str
    started: float
    log: str
    options: dict[str, Any]

    @property
    def uptime(self) -> float:
        """Seconds since it started."""
        return max(0.0, time.time() - self.started)


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(temporary, path)


def _read_info(home: Path) -> DaemonInfo | None:
    try:
        data = json.loads((home / DAEMON_FILE).read_text())
        return DaemonInfo(
            pid=int(data["pid"]),
            url=str(data["url"]),
            started=float(data["started"]),
            log=str(data.get("log", "")),
            options=dict(data.get("options") or {}),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def fetch_json(url: str, path: str, *, method: str = "GET", timeout: float = 2.0) -> Any:
    """JSON from one of the endpoint's own routes; raise OSError if it does not answer."""
    request = urllib.request.Request(url.rstrip("/") + path, method=method)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def health(url: str, *, timeout: float = 2.0) -> str | None:
    """The status the endpoint at ``url`` reports (``ok``, ``warming``), None if it does not
    answer."""
    try:
        status = fetch_json(url, "/_stackyard/health", timeout=timeout).get("status")
    except (OSError, ValueError, AttributeError):
        return None
    return str(status) if status else None


def healthy(url: str, *, timeout: float = 2.0) -> bool:
    """Whether the endpoint at ``url`` answers its health route (ready or warming up)."""
    return health(url, timeout=timeout) in ("ok", "warming")


def recorded(home: Path | None = None) -> DaemonInfo | None:
    """The background endpoint's record if its process is alive; a stale record is removed."""
    home = home or home_dir()
    info = _read_info(home)
    if info is None:
        return None
    if pid_alive(info.pid):
        return info
    with contextlib.suppress(OSError):
        (home / DAEMON_FILE).unlink()
    return None


def running(home: Path | None = None) -> DaemonInfo | None:
    """The background endpoint, if one is recorded, alive and healthy."""
    info = recorded(home)
    return info if info is not None and healthy(info.url) else None


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def up(options: ServeOptions, *, home: Path | None = None, timeout: float = 30.0) -> DaemonInfo:
    """Start the endpoint in the background and wait until it is healthy."""
    from stackyard.local.runner import port_is_free

    options.validate()
    home = home or home_dir()
    home.mkdir(parents=True, exist_ok=True)
    existing = recorded(home)
    if existing is not None:
        state = "running" if healthy(existing.url) else "recorded, but not answering,"
        raise StackyardError(
            f"a local AWS endpoint is already {state} at {existing.url} (pid {existing.pid})",
            hint="`stackyard local down` stops it",
        )
    if options.port and not port_is_free(options.host, options.port):
        raise StackyardError(
            f"port {options.port} on {options.host} is already in use by another process",
            hint="stop what listens there, or pick another port with --port",
        )
    ready = home / READY_FILE
    with contextlib.suppress(OSError):
        ready.unlink()
    log_path = home / LOG_FILE
    argv = [sys.executable, "-m", "stackyard.local", "serve", *options.argv()]
    argv += ["--ready-file", str(ready)]
    with open(log_path, "ab") as log, open(os.devnull, "rb") as devnull:
        child = subprocess.Popen(
            argv,
            stdin=devnull,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(home),
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise StackyardError(
                f"the local AWS endpoint exited during start (code {child.returncode})",
                hint=_log_tail(log_path) or f"see {log_path}",
            )
        if ready.exists():
            try:
                url = str(json.loads(ready.read_text())["url"])
            except (OSError, ValueError, KeyError):
                url = ""
            if url and health(url) == "ok":  # warmed up: the first caller pays nothing
                info = DaemonInfo(
                    pid=child.pid,
                    url=url,
                    started=time.time(),
                    log=str(log_path),
                    options=asdict(options),
                )
                _write_json(home / DAEMON_FILE, asdict(info))
                return info
        time.sleep(0.1)
    child.terminate()
    raise StackyardError(
        f"the local AWS endpoint did not become healthy within {timeout:.0f} s",
        hint=_log_tail(log_path) or f"see {log_path}",
    )


def down(*, home: Path | None = None, timeout: float = 20.0) -> DaemonInfo | None:
    """Stop the background endpoint (SIGTERM, then SIGKILL after ``timeout``); None if none."""
    home = home or home_dir()
    info = _read_info(home)
    if info is None:
        return None
    if pid_alive(info.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(info.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(info.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGKILL)
    for name in (DAEMON_FILE, READY_FILE):
        with contextlib.suppress(OSError):
            (home / name).unlink()
    return info


def status(*, home: Path | None = None) -> dict[str, Any] | None:
    """The background endpoint's status document (pid, url, uptime, calls...), or None.

    A process that is alive but does not answer gets ``"health": "not answering"``.
    """
    home = home or home_dir()
    info = recorded(home)
    if info is None:
        return None
    try:
        document = dict(fetch_json(info.url, "/_stackyard/status"))
    except (OSError, ValueError):
        document = {
            "pid": info.pid,
            "uptime_seconds": round(info.uptime, 1),
            "health": "not answering",
        }
    document.setdefault("url", info.url)
    document["log"] = info.log
    return document
