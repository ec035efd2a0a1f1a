"""Load on ``stackyard server`` over loopback: concurrent signed Slack slash commands and
status reads.

A server (the installed command, SQLite by default or ``--database-url``) is seeded with
users, apps, releases and locks. Each round sends ``--concurrency`` signed slash commands
(``where``, ``check``, ``latest``, and ``lock``/``unlock`` on apps of their own: reads and
writes) together with as many status reads (the dashboard's ``/api/v1/status`` and an app's
releases through the API, with a token), all at once, on that many connections. The figures
per kind: p50, p95 and p99 latency as the client saw it, and errors (any answer but 200, or
a Slack reply that is not the command's answer). Target: no errors, and p99 of reads under
50 ms.

    python -m bench.bench_server [--concurrency 200] [--rounds 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

SECRET = "bench-signing-secret"
STACKYARD = Path(sys.executable).with_name("stackyard")


class Conn:
    """One kept-alive HTTP/1.1 connection on asyncio streams: a client that costs little
    per request, so the figures are the server's (httpx spends milliseconds per request
    under this much concurrency, on the same two cores)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            sock = self.writer.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        return status, await self.reader.readexactly(length)


class Pool:
    """Connections handed out one request at a time."""

    def __init__(self, url: str, size: int) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.free: asyncio.Queue[Conn] = asyncio.Queue()
        for _ in range(size):
            self.free.put_nowait(Conn(host, int(port)))

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        conn = await self.free.get()
        try:
            return await conn.request(method, path, headers, body)
        finally:
            self.free.put_nowait(conn)


def _signed(text: str, user: str, n: int) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "user_id": user,
            "command": "/deploy",
            "text": text,
            "response_url": "",
            "trigger_id": f"{time.time_ns()}.{n}.{os.urandom(6).hex()}",
        }
    ).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return body, {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def _seed(env: dict[str, str], apps: int) -> str:
    from stackyard.apps.db.database import Database
    from stackyard.apps.db.models import App, Environment, Release, utcnow
    from stackyard.server import envlocks
    from stackyard.server.auth import add_user, create_token

    db = Database.open(
        env.get("STACKYARD_DATABASE_URL") or f"sqlite:///{env['STACKYARD_HOME']}/apps.db"
    )
    try:
        add_user(db, "reader", ["read:*"])
        for n in range(apps):
            add_user(db, f"user{n:03d}", ["read:*", "deploy:*"], slack_id=f"U{n:05d}")
        with db.session() as session:
            for n in range(apps):
                app = App(
                    name=f"app{n:03d}",
                    manifest={"processes": {"web": {"command": "x"}}},
                    created_by="bench",
                )
                session.add(app)
                session.flush()
                for env_name in ("stage", "prod"):
                    e = Environment(app_id=app.id, name=env_name, current_release=10)
                    session.add(e)
                    session.flush()
                    for version in range(1, 11):
                        session.add(
                            Release(
                                environment_id=e.id,
                                version=version,
                                image=f"app:{version}",
                                manifest={},
                                config={},
                                formation={},
                                description="",
                                status="succeeded",
                                created_by="bench",
                                created_at=utcnow(),
                            )
                        )
        for n in range(0, apps, 4):
            envlocks.lock(
                db, f"app{n:03d}", "prod", f"user{n:03d}", "bench", steal=False, actor="bench"
            )
        return create_token(db, "reader", "bench")
    finally:
        db.close()


EXPECT = {
    "where": re.compile(r"^\*app\d+\* is in:"),
    "check": re.compile(r"^`prod` on app\d+ is (not locked|locked by)"),
    "latest": re.compile(r"^The latest release of app\d+ in `stage` is v10"),
    "lock": re.compile(r"^(Locked `stage` on app\d+|You already hold)"),
    "unlock": re.compile(r"^(Unlocked `stage` on app\d+|`stage` on app\d+ is not locked)"),
}


async def _slash(client: Pool, n: int, apps: int, round_no: int) -> tuple[str, float, bool]:
    verbs = ["where", "check", "latest", "lock" if round_no % 2 == 0 else "unlock"]
    verb = verbs[n % len(verbs)]
    app = f"app{n % apps:03d}"
    text = {
        "where": f"where {app}",
        "check": f"check prod on {app}",
        "latest": f"latest {app}",
        "lock": f"lock stage on {app}: bench",
        "unlock": f"unlock stage on {app}",
    }[verb]
    body, headers = _signed(text, f"U{n % apps:05d}", n)
    started = time.perf_counter()
    code, raw = await client.call("POST", "/slack/commands", headers, body)
    took = time.perf_counter() - started
    ok = code == 200 and bool(EXPECT[verb].match(json.loads(raw).get("text", "")))
    return "slash " + verb, took, ok


async def _read(client: Pool, token: str, n: int, apps: int) -> tuple[str, float, bool]:
    headers = {"Authorization": f"Bearer {token}"}
    status = n % 2 == 0
    path = "/api/v1/status" if status else f"/api/v1/apps/app{n % apps:03d}/releases?env=stage"
    started = time.perf_counter()
    code, _ = await client.call("GET", path, headers)
    took = time.perf_counter() - started
    return ("read status" if status else "read releases"), took, code == 200


async def _round(
    client: Pool, token: str, concurrency: int, apps: int, round_no: int, pace: float
) -> list[tuple[str, float, bool]]:
    """``concurrency`` slash commands at once, and ``concurrency`` reads sent while they are
    answered, one every ``pace`` seconds (a dashboard and API clients reading during a burst
    of commands)."""
    slashes = [asyncio.ensure_future(_slash(client, n, apps, round_no)) for n in range(concurrency)]
    reads = []
    for n in range(concurrency):
        reads.append(asyncio.ensure_future(_read(client, token, n, apps)))
        await asyncio.sleep(pace)
    return list(await asyncio.gather(*slashes, *reads))


async def _burst(
    client: Pool, token: str, concurrency: int, apps: int
) -> list[tuple[str, float, bool]]:
    """``concurrency`` reads at once, nothing else."""
    done = await asyncio.gather(*[_read(client, token, n, apps) for n in range(concurrency)])
    return [("burst " + kind.split()[1], took, ok) for kind, took, ok in done]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def _load(
    url: str, token: str, concurrency: int, rounds: int, apps: int, pace: float
) -> list[tuple[str, float, bool]]:
    out: list[tuple[str, float, bool]] = []
    client = Pool(url, 2 * concurrency)
    await _round(client, token, concurrency, apps, 1, 0.0)  # open and warm the connections
    for r in range(rounds):
        out += await _round(client, token, concurrency, apps, r, pace)
        out += await _burst(client, token, concurrency, apps)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--apps", type=int, default=40)
    parser.add_argument(
        "--pace", type=float, default=0.005, help="Seconds between reads in a round."
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--out", default=None, help="Write the figures as JSON here.")
    args = parser.parse_args(argv)
    home = tempfile.mkdtemp(prefix="bench-server-")
    env = {**os.environ, "STACKYARD_HOME": home, "STACKYARD_SLACK_SIGNING_SECRET": SECRET}
    if args.database_url:
        env["STACKYARD_DATABASE_URL"] = args.database_url
    token = _seed(env, args.apps)
    proc = subprocess.Popen(
        [str(STACKYARD), "server", "--port", "0"],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"(http://\S+)", line)
        if not found:
            raise SystemExit(f"the server did not start: {line}{proc.stderr.read()}")
        url = found.group(1)
        for _ in range(100):
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        started = time.perf_counter()
        samples = asyncio.run(
            _load(url, token, args.concurrency, args.rounds, args.apps, args.pace)
        )
        wall = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    kinds = sorted({k for k, _, _ in samples})
    rows = []
    for kind in [*kinds, "all slash", "all reads"]:
        picked = [
            s
            for s in samples
            if s[0] == kind
            or (kind == "all slash" and s[0].startswith("slash"))
            or (kind == "all reads" and s[0].startswith("read"))
        ]
        took = [t for _, t, _ in picked]
        rows.append(
            {
                "kind": kind,
                "requests": len(picked),
                "errors": sum(1 for *_, ok in picked if not ok),
                "p50_ms": round(_pct(took, 0.50), 1),
                "p95_ms": round(_pct(took, 0.95), 1),
                "p99_ms": round(_pct(took, 0.99), 1),
                "mean_ms": round(statistics.fmean(took) * 1000, 1),
            }
        )
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"stackyard server, {database}, {args.concurrency} slash commands at once with "
        f"{args.concurrency} reads among them, then {args.concurrency} reads at once; "
        f"{args.rounds} rounds, {len(samples)} requests in {wall:.1f} s "
        f"({len(samples) / wall:.0f}/s), {os.cpu_count()} cores"
    )
    print(f"{'kind':<16} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for row in rows:
        n, bad, p50, p95, p99 = (
            row[k] for k in ("requests", "errors", "p50_ms", "p95_ms", "p99_ms")
        )
        print(f"{row['kind']:<16} {n:>8} {bad:>6} {p50:>8} {p95:>8} {p99:>8}")
    reads = next(r for r in rows if r["kind"] == "all reads")
    errors = sum(r["errors"] for r in rows if not r["kind"].startswith("all"))
    verdict = "met" if errors == 0 and reads["p99_ms"] < 50 else "missed"
    print(f"target (no errors, p99 of reads < 50 ms): {verdict}")
    if args.out:
        Path(args.out).write_text(
            json.dumps(
                {
                    "database": database,
                    "concurrency": args.concurrency,
                    "rounds": args.rounds,
                    "wall_s": round(wall, 2),
                    "rows": rows,
                },
                indent=2,
            )
        )
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
