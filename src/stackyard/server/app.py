"""The ASGI application: the JSON API, Slack's slash commands, GitHub's webhooks, and the
dashboard, on FastAPI (its request models give the OpenAPI schema at ``/openapi.json``)."""

import asyncio
import dataclasses
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from stackyard import __version__
from stackyard.errors import StackyardError, UsageError
from stackyard.server import auth, cd, envlocks, slack
from stackyard.server.auth import Forbidden, Principal
from stackyard.server.core import Server
from stackyard.server.jobs import Runner, enqueue, get_job

log = logging.getLogger("stackyard.server")
HERE = Path(__file__).resolve().parent
COOKIE = "stackyard_token"
STATUS_SECONDS = 1.0
SLACK_THREADS = 4


# -- request bodies ---------------------------------------------------------------------------
class DeployRequest(BaseModel):
    """A deploy: an image, or a ref the app's template turns into one (neither: the current
    image again). ``force`` deploys past another's lock on the environment."""

    env: str
    image: str | None = None
    ref: str | None = None
    description: str = ""
    lock_wait: float = 900.0
    force: bool = False
    steps: list[int] | None = Field(None, description="a sub-environment's canary weights")
    bake: float | None = Field(None, description="seconds each canary step bakes")


class RollbackRequest(BaseModel):
    env: str
    version: int | None = Field(None, description="default: the release before the current")


class RestartRequest(BaseModel):
    env: str
    process: str | None = None


class PromoteRequest(BaseModel):
    env: str = Field(description="the sub-environment to promote, e.g. prod/canary")
    release: int | None = Field(None, description="refuse unless the canary runs this one")


class ConfigChange(BaseModel):
    set: dict[str, str] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)


class ScaleItem(BaseModel):
    process: str
    count: int = Field(ge=0)
    cpu: int | None = None
    memory: int | None = None


class ScaleRequest(BaseModel):
    scales: list[ScaleItem]


class LockRequest(BaseModel):
    message: str = ""
    steal: bool = False


class AppRequest(BaseModel):
    name: str
    manifest: dict[str, Any]


class UserRequest(BaseModel):
    name: str
    scopes: list[str] = Field(default_factory=list)
    slack_id: str | None = None
    github_login: str | None = None


class TokenRequest(BaseModel):
    user: str
    name: str
    scopes: list[str] | None = None


# -- the application --------------------------------------------------------------------------
def create_app(server: Server, *, grace: float = 30.0, run_jobs: bool = True) -> FastAPI:
    """The application over ``server``; ``run_jobs`` False: queue jobs, run none (tests)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runner = Runner(server) if run_jobs else None
        server.runner = runner  # type: ignore[attr-defined]
        stop = threading.Event()
        if runner is not None:
            runner.start()
        sweeper = asyncio.create_task(_sweep(server, stop))
        try:
            yield
        finally:
            stop.set()
            sweeper.cancel()
            if runner is not None:
                handed = await run_in_threadpool(runner.stop, grace)
                if handed:
                    log.warning("handed back jobs %s: a server follows them when it starts", handed)

    app = FastAPI(
        title="stackyard server",
        version=__version__,
        description="Apps, environments, releases, config, formation, deploys, locks and "
        "events over the stackyard apps database; Slack slash commands; GitHub delivery.",
        lifespan=lifespan,
    )
    app.state.server = server
    # Slash commands take a few threads, not the whole pool: reads stay quick under a burst.
    # On SQLite sessions queue in this process anyway: one thread, and the event loop
    # contends with no more than it for the interpreter.
    slack_limiter = anyio.CapacityLimiter(1 if server.db.dialect == "sqlite" else SLACK_THREADS)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(StackyardError)
    async def _stackyard_error(_request: Request, exc: StackyardError) -> JSONResponse:
        from stackyard.apps.db.locks import LockHeld

        status = 400
        if isinstance(exc, Forbidden):
            status = 403
        elif isinstance(exc, LockHeld):
            status = 409
        elif not isinstance(exc, UsageError) and exc.exit_code == 1:
            status = 500 if type(exc) is StackyardError else 400
        return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=status)

    def caller(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        token = token or request.cookies.get(COOKIE, "")
        found = auth.authenticate(server.db, token, server.guarded) if token else None
        if found is None:
            raise HTTPException(401, "a valid API token is needed (Authorization: Bearer …)")
        return found

    def reader(request: Request) -> Principal:
        anonymous = not request.headers.get("authorization") and not request.cookies.get(COOKIE)
        if server.settings.public_dashboard and anonymous:
            return Principal("anonymous", ("read:*",), "public dashboard")
        return caller(request)

    Caller = Annotated[Principal, Depends(caller)]
    Env = Annotated[str, Query(description="the environment (aliases apply)")]

    def env_of(name: str) -> str:
        env = server.environment(name)
        if not server.known_environment(env):
            raise UsageError(
                f"no environment {env!r}",
                hint="environments: " + ", ".join(server.environment_names()),
            )
        return env

    def unlocked(who: Principal, app_name: str, env: str, force: bool) -> None:
        lock = envlocks.get(server.db, app_name, env)
        if lock is not None and lock.holder != who.name and not force:
            raise HTTPException(409, f"{env} on {app_name} is {lock.describe()}")

    # -- meta ------------------------------------------------------------------------------
    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, Any]:
        runner = getattr(server, "runner", None)
        return {"ok": True, "server": server.ident, "jobs": len(runner.active) if runner else 0}

    @app.get("/api/v1/whoami", tags=["meta"])
    def whoami(who: Caller) -> dict[str, Any]:
        return {"name": who.name, "via": who.via, "scopes": list(who.scopes)}

    # -- apps ------------------------------------------------------------------------------
    svc = server.service

    @app.get("/api/v1/apps", tags=["apps"])
    def list_apps(who: Caller) -> list[dict[str, Any]]:
        rows = server.reader(who.actor).apps()
        for row in rows:
            row["environments"] = {
                e: v for e, v in row["environments"].items() if who.may("read", e)
            }
        return rows

    @app.post("/api/v1/apps", tags=["apps"], status_code=201)
    def create_app_(body: AppRequest, who: Caller) -> dict[str, Any]:
        from stackyard.apps.manifest import manifest_of

        who.require("admin")
        svc(who.actor).create(body.name, manifest_of(body.manifest))
        return {"name": body.name}

    @app.get("/api/v1/apps/{app_name}", tags=["apps"])
    def app_info(app_name: str, who: Caller) -> dict[str, Any]:
        data = server.reader(who.actor).info(app_name)
        data["environments"] = {e: v for e, v in data["environments"].items() if who.may("read", e)}
        return data

    @app.get("/api/v1/apps/{app_name}/config", tags=["config"])
    def config_get(app_name: str, env: Env, who: Caller) -> dict[str, str]:
        """Config vars; a secret is only ever its ``secret:/path`` reference."""
        env = env_of(env)
        who.require("read", env)
        return server.reader(who.actor).config_get(app_name, env)

    @app.patch("/api/v1/apps/{app_name}/config", tags=["config"])
    def config_change(app_name: str, env: Env, body: ConfigChange, who: Caller) -> dict[str, Any]:
        """Set and unset config vars (the next deploy makes them a release)."""
        env = env_of(env)
        who.require("deploy", env)
        svc(who.actor).config_change(app_name, env, body.set, body.unset)
        return {"set": sorted(body.set), "unset": body.unset}

    @app.get("/api/v1/apps/{app_name}/formation", tags=["formation"])
    def formation(app_name: str, env: Env, who: Caller) -> dict[str, Any]:
        env = env_of(env)
        who.require("read", env)
        return server.reader(who.actor)._formation(app_name, env)

    @app.post("/api/v1/apps/{app_name}/formation", tags=["formation"])
    def scale(app_name: str, env: Env, body: ScaleRequest, who: Caller) -> dict[str, Any]:
        """Record new counts and sizes (the next deploy makes them a release)."""
        from stackyard.apps.formation import Scale

        env = env_of(env)
        who.require("deploy", env)
        scales = [Scale(s.process, s.count, s.cpu, s.memory) for s in body.scales]
        svc(who.actor).scale_formation(app_name, env, scales)
        return svc(who.actor)._formation(app_name, env)

    @app.get("/api/v1/apps/{app_name}/releases", tags=["releases"])
    def releases(app_name: str, env: Env, who: Caller) -> list[dict[str, Any]]:
        env = env_of(env)
        who.require("read", env)
        return [dataclasses.asdict(r) for r in server.reader(who.actor).releases(app_name, env)]

    @app.post("/api/v1/apps/{app_name}/deploys", tags=["deploys"], status_code=202)
    def deploy(app_name: str, body: DeployRequest, who: Caller) -> dict[str, Any]:
        """Queue a deploy; follow it at ``/api/v1/jobs/{id}``."""
        env = env_of(body.env)
        who.require("deploy", env)
        svc(who.actor).info(app_name)  # a UsageError when there is no such app
        unlocked(who, app_name, env, body.force)
        job = enqueue(
            server,
            app=app_name,
            env=env,
            actor=who.actor,
            ref=body.ref or "",
            image=body.image or "",
            options={
                "description": body.description,
                "lock_wait": body.lock_wait,
                "holder": who.name,
                **({"steps": body.steps} if body.steps else {}),
                **({"bake": body.bake} if body.bake is not None else {}),
            },
        )
        return {"job": job, "url": f"/api/v1/jobs/{job}"}

    @app.post("/api/v1/apps/{app_name}/rollback", tags=["deploys"], status_code=202)
    def rollback(app_name: str, body: RollbackRequest, who: Caller) -> dict[str, Any]:
        """Queue a new release made from an old one."""
        env = env_of(body.env)
        who.require("deploy", env)
        unlocked(who, app_name, env, False)
        version = body.version or svc(who.actor).previous_version(app_name, env)
        job = enqueue(
            server,
            app=app_name,
            env=env,
            actor=who.actor,
            options={"rollback_to": version, "holder": who.name},
        )
        return {"job": job, "url": f"/api/v1/jobs/{job}", "version": version}

    @app.post("/api/v1/apps/{app_name}/restart", tags=["deploys"], status_code=202)
    def restart(app_name: str, body: RestartRequest, who: Caller) -> dict[str, Any]:
        env = env_of(body.env)
        who.require("deploy", env)
        job = enqueue(
            server,
            app=app_name,
            env=env,
            actor=who.actor,
            kind="restart",
            options={"process": body.process},
        )
        return {"job": job, "url": f"/api/v1/jobs/{job}"}

    @app.post("/api/v1/apps/{app_name}/promote", tags=["deploys"], status_code=202)
    def promote(app_name: str, body: PromoteRequest, who: Caller) -> dict[str, Any]:
        """Promote a canary sub-environment's release to its environment."""
        env = env_of(body.env)
        who.require("deploy", env.split("/")[0])
        service = svc(who.actor)
        if not hasattr(service, "promote"):
            raise HTTPException(501, "this build has no canary sub-environments to promote")
        unlocked(who, app_name, env.split("/")[0], False)
        job = enqueue(
            server,
            app=app_name,
            env=env,
            actor=who.actor,
            kind="promote",
            options={"release": body.release, "holder": who.name},
        )
        return {"job": job, "url": f"/api/v1/jobs/{job}"}

    @app.get("/api/v1/apps/{app_name}/ps", tags=["apps"])
    def ps(app_name: str, env: Env, who: Caller) -> list[dict[str, Any]]:
        env = env_of(env)
        who.require("read", env)
        service = server.service(who.actor, server.gateway())
        return [dataclasses.asdict(t) for t in service.ps(app_name, env)]

    @app.get("/api/v1/apps/{app_name}/events", tags=["events"])
    def events(
        app_name: str, who: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[dict[str, Any]]:
        rows = server.reader(who.actor).events(app_name, limit)
        return [
            dataclasses.asdict(e)
            for e in rows
            if not e.environment or who.may("read", e.environment)
        ]

    # -- jobs ------------------------------------------------------------------------------
    @app.get("/api/v1/jobs/{job_id}", tags=["deploys"])
    def job(job_id: int, who: Caller) -> dict[str, Any]:
        found = get_job(server.db, job_id)
        if found is None:
            raise HTTPException(404, f"no job {job_id}")
        who.require("read", found["environment"])
        return found

    # -- locks -----------------------------------------------------------------------------
    @app.get("/api/v1/locks", tags=["locks"])
    def locks(who: Caller) -> list[dict[str, Any]]:
        return [
            {**dataclasses.asdict(lk), "since": lk.since.isoformat(timespec="seconds")}
            for lk in envlocks.all_locks(server.db)
            if who.may("read", lk.environment)
        ]

    @app.put("/api/v1/apps/{app_name}/lock", tags=["locks"])
    def lock(app_name: str, env: Env, body: LockRequest, who: Caller) -> dict[str, Any]:
        """Lock an environment of an app; ``steal`` takes another's lock (they are told)."""
        env = env_of(env)
        who.require("deploy", env)
        svc(who.actor).info(app_name)
        outcome = envlocks.lock(
            server.db, app_name, env, who.name, body.message, steal=body.steal, actor=who.actor
        )
        if outcome.outcome == "held":
            raise HTTPException(409, f"{env} on {app_name} is {outcome.lock.describe()}")
        if outcome.previous is not None:
            from stackyard.server.outbound import notify

            notify(
                server.settings.slack.notify_url,
                f"{slack._mention(server, outcome.previous.holder)}: {who.name} stole your lock "
                f"on `{env}` for {app_name}.",
            )
        return {"outcome": outcome.outcome, "holder": who.name, "message": outcome.lock.message}

    @app.delete("/api/v1/apps/{app_name}/lock", tags=["locks"])
    def unlock(app_name: str, env: Env, who: Caller) -> dict[str, Any]:
        env = env_of(env)
        who.require("deploy", env)
        removed = envlocks.unlock(server.db, app_name, env, who.actor)
        return {"unlocked": removed is not None, "holder": removed.holder if removed else None}

    # -- users and tokens ------------------------------------------------------------------
    @app.get("/api/v1/users", tags=["users"])
    def users(who: Caller) -> list[dict[str, Any]]:
        who.require("admin")
        return auth.users(server.db)

    @app.post("/api/v1/users", tags=["users"], status_code=201)
    def add_user(body: UserRequest, who: Caller) -> dict[str, Any]:
        who.require("admin")
        auth.add_user(
            server.db,
            body.name,
            body.scopes,
            slack_id=body.slack_id,
            github_login=body.github_login,
            actor=who.actor,
        )
        return {"name": body.name, "scopes": body.scopes}

    @app.post("/api/v1/tokens", tags=["users"], status_code=201)
    def add_token(body: TokenRequest, who: Caller) -> dict[str, Any]:
        """A new token, shown once (the server keeps only its SHA-256)."""
        who.require("admin")
        token = auth.create_token(server.db, body.user, body.name, body.scopes, who.actor)
        return {"token": token, "prefix": token[:10]}

    # -- continuous delivery and the dashboard's data --------------------------------------
    @app.get("/api/v1/commits", tags=["delivery"])
    def commits(
        who: Caller, app_name: Annotated[str | None, Query(alias="app")] = None
    ) -> list[dict[str, Any]]:
        return [c for c in cd.commits(server.db, app_name) if who.may("read", c["environment"])]

    # The dashboard's data, kept a second per set of scopes: every open dashboard polls it,
    # and a burst of readers costs one collection.
    status_cache: dict[tuple[str, ...], tuple[float, bytes]] = {}
    status_lock = asyncio.Lock()

    @app.get("/api/v1/status", tags=["dashboard"])
    async def status(request: Request) -> Response:
        """What the dashboard shows (at most a second old)."""
        from stackyard.server.dashboard import status as collect

        header = request.headers.get("authorization", "")
        seen = auth.peek(header[7:].strip()) if header.lower().startswith("bearer ") else None
        who: Principal = seen if seen is not None else await run_in_threadpool(reader, request)
        key = tuple(sorted(who.scopes))
        now = time.monotonic()
        hit = status_cache.get(key)
        if hit is None or now - hit[0] > STATUS_SECONDS:
            async with status_lock:
                hit = status_cache.get(key)
                if hit is None or time.monotonic() - hit[0] > STATUS_SECONDS:
                    data = await run_in_threadpool(collect, server, who)
                    hit = (time.monotonic(), json.dumps(data).encode())
                    status_cache[key] = hit
        return Response(hit[1], media_type="application/json")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard(request: Request) -> HTMLResponse:
        from stackyard.server.dashboard import render

        try:
            who = reader(request)
        except HTTPException:
            who = None
        return HTMLResponse(render(server, who, fragment=request.query_params.get("part") == "1"))

    # -- Slack -----------------------------------------------------------------------------
    @app.post("/slack/commands", tags=["slack"])
    async def slack_command(request: Request) -> JSONResponse:
        """A Slack slash command (signed with the app's signing secret)."""
        body = await request.body()
        timestamp = request.headers.get("x-slack-request-timestamp")
        given = request.headers.get("x-slack-signature")
        try:
            slack.verify(server.secrets.slack_signing_secret, timestamp, given, body)
            await anyio.to_thread.run_sync(
                slack.remember, server.db, given or "", limiter=slack_limiter
            )
        except slack.BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        try:
            reply = await anyio.to_thread.run_sync(
                slack.handle, server, form, limiter=slack_limiter
            )
        except StackyardError as exc:
            reply = slack.Reply(exc.message + (f" ({exc.hint})" if exc.hint else ""))
        return JSONResponse(reply.body())

    # -- GitHub ----------------------------------------------------------------------------
    @app.post("/hooks/github", tags=["delivery"])
    async def github_hook(request: Request) -> JSONResponse:
        """GitHub webhooks: push, status, check_run (signed with X-Hub-Signature-256)."""
        body = await request.body()
        try:
            cd.verify(
                server.secrets.github_webhook_secret,
                request.headers.get("x-hub-signature-256"),
                body,
            )
        except cd.BadSignature as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        try:
            payload = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        event = request.headers.get("x-github-event", "")
        done = await run_in_threadpool(cd.handle, server, event, payload)
        return JSONResponse(done)

    return app


async def _sweep(server: Server, stop: threading.Event) -> None:
    """Forget old Slack signatures now and then."""
    while not stop.is_set():
        try:
            await run_in_threadpool(slack.forget_old, server.db)
        except Exception:
            log.exception("sweeping Slack signatures failed")
        await asyncio.sleep(60)
