"""Helpers for the server's tests: a server on loopback (in this process or as the installed
command), a recording HTTP server (Slack's response_url, the notify webhook, GitHub's API),
and signed Slack and GitHub requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

STACKYARD = Path(sys.executable).with_name("stackyard")
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
GITHUB_SECRET = "gh-webhook-secret-for-tests"


# -- a recording HTTP server ------------------------------------------------------------------
@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Recorder:
    """An HTTP server on loopback that records each request and answers from ``routes``
    (path regex → status and JSON), 200 ``{}`` otherwise."""

    routes: dict[str, Callable[[Seen], tuple[int, Any]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    _server: Any = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> Recorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode()
                seen = Seen(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                status, answer = 200, {}
                for pattern, route in recorder.routes.items():
                    if re.fullmatch(pattern, self.path):
                        status, answer = route(seen)
                        break
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                with recorder._changed:
                    recorder.seen.append(seen)
                    recorder._changed.notify_all()

            do_GET = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, check: Callable[[list[Seen]], bool], timeout: float = 60.0) -> list[Seen]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not check(self.seen):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"not seen in {timeout}s; saw {[(s.path, s.body) for s in self.seen]}"
                    )
                self._changed.wait(left)
            return list(self.seen)

    def texts(self, path: str = "") -> list[str]:
        return [
            str((s.body or {}).get("text", "")) for s in self.seen if s.path.startswith(path or "/")
        ]


@contextmanager
def recorder(**routes: Callable[[Seen], tuple[int, Any]]) -> Iterator[Recorder]:
    rec = Recorder(dict(routes)).start()
    try:
        yield rec
    finally:
        rec.stop()


# -- signed requests --------------------------------------------------------------------------
def slack_headers(
    body: bytes, secret: str = SLACK_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slack_form(text: str, user: str = "U_ALICE", response_url: str = "", **extra: str) -> bytes:
    form = {
        "token": "legacy-ignored",
        "team_id": "T0001",
        "team_domain": "acme",
        "channel_id": "C0001",
        "channel_name": "deploys",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/deploy",
        "text": text,
        "response_url": response_url,
        # Slack makes a new trigger_id for each command: no two requests sign the same
        "trigger_id": f"13345224609.{time.time_ns()}.{os.urandom(8).hex()}",
        **extra,
    }
    return urlencode(form).encode()


def slash(
    base: str,
    text: str,
    user: str = "U_ALICE",
    response_url: str = "",
    client: httpx.Client | None = None,
) -> httpx.Response:
    body = slack_form(text, user, response_url)
    if client is not None:
        return client.post(f"{base}/slack/commands", content=body, headers=slack_headers(body))
    return httpx.post(
        f"{base}/slack/commands", content=body, headers=slack_headers(body), timeout=10
    )


def github_hook(
    base: str, event: str, payload: dict[str, Any], secret: str = GITHUB_SECRET
) -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": f"d-{time.time_ns()}",
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
    }
    return httpx.post(f"{base}/hooks/github", content=body, headers=headers, timeout=10)


def push(
    repository: str, sha: str, message: str = "a change", branch: str = "main"
) -> dict[str, Any]:
    return {
        "ref": f"refs/heads/{branch}",
        "after": sha,
        "deleted": False,
        "repository": {"full_name": repository},
        "head_commit": {"id": sha, "message": message, "author": {"username": "carol"}},
        "pusher": {"name": "carol"},
    }


def status(repository: str, sha: str, context: str, state: str) -> dict[str, Any]:
    return {"sha": sha, "context": context, "state": state, "repository": {"full_name": repository}}


# -- a server in this process -----------------------------------------------------------------
@contextmanager
def serve(server: Any, *, run_jobs: bool = True, grace: float = 5.0) -> Iterator[str]:
    """Run the application over ``server`` on a free loopback port in a thread; its URL."""
    import socket

    import uvicorn

    from stackyard.server.app import create_app

    app = create_app(server, run_jobs=run_jobs, grace=grace)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not runner.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        runner.should_exit = True
        thread.join(timeout=30)
        sock.close()


# -- the installed command --------------------------------------------------------------------
@dataclass
class ServerProcess:
    """``stackyard server`` as a subprocess."""

    proc: subprocess.Popen[str]
    url: str
    log: list[str]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 90) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def start_server(args: list[str], env: dict[str, str], cwd: Path) -> ServerProcess:
    proc = subprocess.Popen(
        [str(STACKYARD), "server", "--port", "0", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log: list[str] = []
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    url = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        log.append(line)
        found = re.search(r"stackyard server on (http://\S+)", line)
        if found:
            url = found.group(1)
            break
    if not url:
        proc.kill()
        raise AssertionError("the server did not start: " + "".join(log))
    stream = proc.stderr

    def drain() -> None:
        for line in stream:
            log.append(line)

    threading.Thread(target=drain, daemon=True).start()
    for _ in range(200):
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    return ServerProcess(proc, url, log)


def server_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "STACKYARD_HOME": str(home),
        "STACKYARD_SLACK_SIGNING_SECRET": SLACK_SECRET,
        "STACKYARD_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
        **extra,
    }
    env.pop("STACKYARD_DATABASE_URL", None)
    env.pop("STACKYARD_SERVER", None)
    return env
