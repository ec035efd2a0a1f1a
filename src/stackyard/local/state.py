"""State across restarts: save moto's backends and the CloudFormation emulator, and restore them.

``--state DIR`` keeps one pickle, ``DIR/state.pickle``, and a readable summary,
``DIR/state.json``. It is written on clean shutdown and, while the endpoint is being changed,
every few seconds (``Autosave``); each write goes to a temporary file first and replaces the
old one, so a crash leaves the previous save intact.

Everything is pickled in one go, under the endpoint's lock (no request reaches moto meanwhile),
so objects shared between services and the emulator stay shared after a restore. What plain
pickle cannot take, the state pickler rebuilds:

- locks, re-entrant locks, conditions and events come back new (and released);
- ``defaultdict``s whose factory is a lambda (SSM tags) get a picklable factory that copies
  what the lambda returned, and dict subclasses whose ``__init__`` takes arguments (SSM's
  parameters) are rebuilt without calling it;
- weak-value dictionaries (Lambda's ARN index) are rebuilt from their live items;
- cryptography keys (KMS asymmetric keys) travel as DER bytes.

A backend that still does not pickle is left out of the save and named in ``state.json``
(``skipped``) and in the report; the rest is saved. A save made by another moto or Python
version is not restored (pickles of moto's classes do not survive their changes): it is moved
aside to ``state.moto-<version>.py-<version>.pickle`` and the endpoint starts empty.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import json
import os
import pickle
import sys
import threading
import time
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from stackyard.errors import StackyardError

__all__ = ["Autosave", "RestoreReport", "SaveReport", "StateStore", "is_mutating"]

STATE_FILE = "state.pickle"
SUMMARY_FILE = "state.json"
FORMAT = 1

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
BackendKey = tuple[str, str, str, str]  # module, attribute, account, region


class _Endpoint(Protocol):
    lock: threading.RLock
    emulator: Any


# ---------------------------------------------------------------------------------------------
# Pickling what plain pickle refuses


_LOCK_TYPE = type(threading.Lock())
_RLOCK_TYPE = type(threading.RLock())


class _CopyFactory:
    """A picklable ``defaultdict`` factory: returns a deep copy of a prototype value."""

    def __init__(self, prototype: Any) -> None:
        self.prototype = prototype

    def __call__(self) -> Any:
        return copy.deepcopy(self.prototype)


def _rebuild_defaultdict(factory: _CopyFactory, items: dict[Any, Any]) -> defaultdict[Any, Any]:
    rebuilt: defaultdict[Any, Any] = defaultdict(factory)
    rebuilt.update(items)
    return rebuilt


def _rebuild_dict_subclass(
    kind: type[dict[Any, Any]], factory: Any, items: dict[Any, Any], attributes: dict[str, Any]
) -> dict[Any, Any]:
    rebuilt = kind.__new__(kind)
    if factory is not None:
        rebuilt.default_factory = factory  # type: ignore[attr-defined]
    dict.update(rebuilt, items)
    vars(rebuilt).update(attributes)
    return rebuilt


def _rebuild_weak_values(items: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    # Values nothing else holds vanish again, as they would have in the original.
    return weakref.WeakValueDictionary(items)


def _new_event(is_set: bool) -> threading.Event:
    event = threading.Event()
    if is_set:
        event.set()
    return event


def _load_private_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    return load_der_private_key(der, password=None)


def _load_public_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    return load_der_public_key(der)


def _is_local_function(function: Any) -> bool:
    qualname = str(getattr(function, "__qualname__", ""))
    return "<lambda>" in qualname or "<locals>" in qualname


def _reduce_cryptography(obj: Any) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if hasattr(obj, "private_bytes"):
        der = obj.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return _load_private_key, (der,)
    if hasattr(obj, "public_bytes") and hasattr(obj, "verify"):
        der = obj.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return _load_public_key, (der,)
    if isinstance(obj, ec.EllipticCurve):
        return type(obj), ()
    return NotImplemented


class _StatePickler(pickle.Pickler):
    """A pickler that rebuilds locks, lambda-made ``defaultdict``s and cryptography keys."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is _LOCK_TYPE:
            return threading.Lock, ()
        if kind is _RLOCK_TYPE:
            return threading.RLock, ()
        if kind is threading.Condition:
            return threading.Condition, ()
        if kind is threading.Event:
            return _new_event, (obj.is_set(),)
        if isinstance(obj, defaultdict):
            factory: Any = obj.default_factory
            if factory is not None and _is_local_function(factory):
                factory = _CopyFactory(factory())
            if kind is defaultdict:
                return (_rebuild_defaultdict, (factory, dict(obj))) if factory else NotImplemented
            # A subclass with its own __init__ (moto's ParameterDict) cannot be rebuilt by
            # calling it as defaultdict's reduce does; make it without __init__.
            return _rebuild_dict_subclass, (kind, factory, dict(obj), vars(obj))
        if isinstance(obj, OrderedDict) and kind is not OrderedDict:
            return _rebuild_dict_subclass, (kind, None, dict(obj), vars(obj))
        if kind is weakref.WeakValueDictionary:
            return _rebuild_weak_values, (dict(obj.items()),)
        if kind.__module__.startswith("cryptography"):
            return _reduce_cryptography(obj)
        return NotImplemented


def dumps(obj: Any) -> bytes:
    """Pickle with the state pickler."""
    buffer = io.BytesIO()
    _StatePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# moto's backends


def _backend_dicts() -> Iterator[tuple[str, str, Any]]:
    """(module, attribute, BackendDict) for every moto service in use in this process."""
    from moto.core.base_backend import BackendDict

    instances: list[Any] = list(getattr(BackendDict, "_instances", []))
    for backend_dict in instances:
        module_name = backend_dict.backend.__module__
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for attribute, value in vars(module).items():
            if value is backend_dict:
                yield module_name, attribute, backend_dict
                break


def collect_backends() -> dict[BackendKey, Any]:
    """Every moto backend in use: (module, attribute, account, region) -> backend."""
    backends: dict[BackendKey, Any] = {}
    for module_name, attribute, backend_dict in _backend_dicts():
        for account_id, region, backend in backend_dict.iter_backends():
            backends[(module_name, attribute, account_id, region)] = backend
    return backends


def install_backends(backends: dict[BackendKey, Any]) -> None:
    """Put restored backends where moto looks them up."""
    for (module_name, attribute, account_id, region), backend in backends.items():
        backend_dict = getattr(importlib.import_module(module_name), attribute)
        backend_dict[account_id][region] = backend


def _service(key: BackendKey) -> str:
    module_name, _, account_id, region = key
    return f"{module_name.split('.')[1]} ({account_id}/{region})"


# ---------------------------------------------------------------------------------------------
# Saving and restoring


@dataclass(frozen=True)
class SaveReport:
    """What one save wrote, what it left out, and what it cost."""

    path: Path
    size: int
    backends: int
    skipped: dict[str, str]
    locked_seconds: float
    total_seconds: float


@dataclass(frozen=True)
class RestoreReport:
    """What a restore brought back; ``reason`` says why nothing was if so."""

    restored: bool
    backends: int = 0
    emulator: bool = False
    skipped: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    saved_at: str = ""


def _versions() -> dict[str, str]:
    import moto

    return {
        "moto": str(getattr(moto, "__version__", "unknown")),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }


def _load_emulator_state(emulator: Any, state: Any) -> None:
    """Give a live emulator its saved state (its ``load_state`` if it has one)."""
    loader = getattr(emulator, "load_state", None)
    if callable(loader):
        loader(state)
        return
    # The live lock is shared with the server, and the latency is this run's option.
    kept = {
        name: getattr(emulator, name) for name in ("lock", "latency") if hasattr(emulator, name)
    }
    emulator.__setstate__(state)
    for name, value in kept.items():
        setattr(emulator, name, value)


class StateStore:
    """One state directory: ``save`` an endpoint's state into it, ``restore`` it from it."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    @property
    def state_file(self) -> Path:
        """The pickle."""
        return self.directory / STATE_FILE

    @property
    def summary_file(self) -> Path:
        """The readable summary of the last save."""
        return self.directory / SUMMARY_FILE

    def snapshot(self, endpoint: _Endpoint) -> tuple[bytes, int, dict[str, str], float]:
        """Pickle the endpoint's state under its lock: (bytes, backends, skipped, locked time)."""
        skipped: dict[str, str] = {}
        with endpoint.lock:
            started = time.perf_counter()
            backends = collect_backends()
            emulator_state = endpoint.emulator.__getstate__()
            payload = {"format": FORMAT, "moto": backends, "emulator": emulator_state}
            try:
                data = dumps(payload)
            except Exception:
                # Find the backends that do not pickle, leave them out, and pickle the rest.
                for key, backend in list(backends.items()):
                    try:
                        dumps(backend)
                    except Exception as exc:
                        skipped[_service(key)] = f"{type(exc).__name__}: {exc}"
                        del backends[key]
                data = dumps(payload)
            locked = time.perf_counter() - started
        return data, len(backends), skipped, locked

    def save(self, endpoint: _Endpoint) -> SaveReport:
        """Write the endpoint's state; the previous save stays until the new one is complete."""
        started = time.perf_counter()
        data, count, skipped, locked = self.snapshot(endpoint)
        self.directory.mkdir(parents=True, exist_ok=True)
        summary = {
            "format": FORMAT,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": _versions(),
            "backends": count,
            "bytes": len(data),
            "skipped": skipped,
        }
        header = json.dumps(summary).encode()
        temporary = self.state_file.with_suffix(".tmp")
        with open(temporary, "wb") as stream:
            stream.write(len(header).to_bytes(4, "big"))
            stream.write(header)
            stream.write(data)
        os.replace(temporary, self.state_file)
        summary_tmp = self.summary_file.with_suffix(".tmp")
        summary_tmp.write_text(json.dumps(summary, indent=2) + "\n")
        os.replace(summary_tmp, self.summary_file)
        return SaveReport(
            path=self.state_file,
            size=len(data),
            backends=count,
            skipped=skipped,
            locked_seconds=locked,
            total_seconds=time.perf_counter() - started,
        )

    def restore(self, endpoint: _Endpoint) -> RestoreReport:
        """Load the saved state into moto and the endpoint's emulator, before it serves."""
        if not self.state_file.exists():
            return RestoreReport(False, reason=f"no saved state in {self.directory}")
        raw = self.state_file.read_bytes()
        try:
            length = int.from_bytes(raw[:4], "big")
            summary = json.loads(raw[4 : 4 + length])
        except ValueError as exc:
            raise StackyardError(
                f"the saved local AWS state in {self.state_file} is unreadable",
                hint="move it away to start empty",
            ) from exc
        saved_by = summary.get("versions") or {}
        if saved_by != _versions() or summary.get("format") != FORMAT:
            # Keep it out of the way of the next save, for whoever wants it back.
            kept = self.directory / (
                f"state.moto-{saved_by.get('moto', 'unknown')}"
                f".py-{saved_by.get('python', 'unknown')}.pickle"
            )
            os.replace(self.state_file, kept)
            return RestoreReport(
                False,
                reason=f"saved by moto {saved_by.get('moto')} on Python {saved_by.get('python')}, "
                f"this is moto {_versions()['moto']} on Python {_versions()['python']}: pickles "
                f"of moto's classes do not survive version changes; the save was moved to {kept}",
                saved_at=str(summary.get("saved_at", "")),
            )
        try:
            payload = pickle.loads(raw[4 + length :])
        except Exception as exc:
            raise StackyardError(
                f"the saved local AWS state in {self.state_file} cannot be loaded: {exc}",
                hint="move it away to start empty",
            ) from exc
        with endpoint.lock:
            install_backends(payload["moto"])
            emulator_state = payload.get("emulator")
            if emulator_state is not None:
                _load_emulator_state(endpoint.emulator, emulator_state)
        return RestoreReport(
            True,
            backends=len(payload["moto"]),
            emulator=emulator_state is not None,
            skipped=dict(summary.get("skipped") or {}),
            saved_at=str(summary.get("saved_at", "")),
        )


# ---------------------------------------------------------------------------------------------
# Saving while running


_READ_PREFIXES = ("Describe", "List", "Get", "Head", "BatchGet", "Validate", "Estimate")


def is_mutating(action: str) -> bool:
    """Whether a call changes state: anything but reads (Describe*, List*, Get*, REST GET...)."""
    if action.startswith(("GET ", "HEAD ", "OPTIONS ")):
        return False
    return not action.startswith(_READ_PREFIXES)


class Autosave:
    """Saves every ``interval`` seconds while the endpoint is being changed.

    Call the instance with a WSGI app to get an app that notes mutating calls. After one, saves
    keep coming for ``settle`` seconds, since CloudFormation operations go on after their call.
    """

    def __init__(
        self,
        store: StateStore,
        *,
        interval: float = 5.0,
        settle: float = 60.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.store = store
        self.interval = interval
        self.settle = settle
        self.saves = 0
        self.last: SaveReport | None = None
        self._on_error = on_error
        self._dirty_until = 0.0
        self._dirty = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._endpoint: _Endpoint | None = None

    def mark_dirty(self) -> None:
        """Note a change: save at the next tick, and keep saving for ``settle`` seconds."""
        with self._lock:
            self._dirty = True
            self._dirty_until = time.monotonic() + self.settle

    def __call__(self, app: WSGIApp) -> WSGIApp:
        from stackyard.local.request_info import classify
        from stackyard.local.wsgi import OPS_PREFIX

        def noting_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            path = str(environ.get("PATH_INFO") or "")
            if not path.startswith(OPS_PREFIX):
                info = classify(environ)
                if is_mutating(info.action):
                    self.mark_dirty()
            return app(environ, start_response)

        return noting_app

    def start(self, endpoint: _Endpoint) -> None:
        """Start the saving thread."""
        self._endpoint = endpoint
        self._thread = threading.Thread(target=self._run, name="stackyard-autosave", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                due = self._dirty or time.monotonic() < self._dirty_until
                self._dirty = False
            if due and self._endpoint is not None:
                try:
                    self.last = self.store.save(self._endpoint)
                    self.saves += 1
                except Exception as exc:  # keep serving; report and try again next tick
                    if self._on_error is not None:
                        self._on_error(exc)

    def stop(self) -> None:
        """Stop the saving thread (the final save is the caller's, after the server stops)."""
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._thread.join()
            self._thread = None
