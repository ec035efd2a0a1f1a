"""The dashboard: environments and their sub-environments, each app's current release,
canary weights and health, locks, and the latest events. Rendered on the server (Jinja2);
a few lines of JavaScript fetch the same page's ``?part=1`` fragment every few seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment as Jinja
from jinja2 import FileSystemLoader, select_autoescape
from sqlalchemy import select

from stackyard import __version__
from stackyard.apps.db.models import App, Environment, Event, Release
from stackyard.server import envlocks
from stackyard.server.auth import Principal, root
from stackyard.server.models import Commit, Job

TEMPLATES = Jinja(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def short_image(image: str | None) -> str:
    """An image without its registry host, its digest cut to 12 hex digits."""
    if not image:
        return ""
    head, sep, rest = image.partition("/")
    if sep and ("." in head or ":" in head):
        image = rest
    name, at, digest = image.partition("@sha256:")
    return f"{name}@{digest[:12]}" if at else image


TEMPLATES.filters["short_image"] = short_image


def _canary(session: Any, app: str, env: str) -> dict[str, Any] | None:
    """A sub-environment's traffic weight, step and health: its latest canary rollout, with
    the healthy targets the last server job saw."""
    from stackyard.apps.db.models import CanaryRollout

    rollout = session.scalars(
        select(CanaryRollout)
        .join(Environment, CanaryRollout.environment_id == Environment.id)
        .join(App, Environment.app_id == App.id)
        .where(App.name == app, Environment.name == env)
        .order_by(CanaryRollout.id.desc())
        .limit(1)
    ).first()
    job = session.scalars(
        select(Job)
        .where(Job.app == app, Job.environment == env, Job.kind == "deploy")
        .order_by(Job.id.desc())
        .limit(1)
    ).first()
    seen = dict((job.progress or {}).get("canary") or {}) if job is not None else {}
    if rollout is None and not seen:
        return None
    out = {
        "weight": rollout.weight if rollout is not None else seen.get("weight"),
        "step": rollout.step if rollout is not None else seen.get("step"),
        "status": rollout.status if rollout is not None else seen.get("phase"),
        "healthy": seen.get("healthy"),
        "targets": seen.get("targets"),
    }
    return out


def status(server: Any, who: Principal | None) -> dict[str, Any]:
    """What the dashboard shows, as data (``/api/v1/status``)."""

    def can(env: str) -> bool:
        return who is not None and who.may("read", env)

    with server.reads.session() as session:
        rows = session.execute(
            select(App.name, Environment.name, Environment.current_release)
            .join(Environment, Environment.app_id == App.id, isouter=True)
            .order_by(App.name, Environment.name)
        ).all()
        releases = {
            (app, env): (version, image, status, created_at, created_by)
            for app, env, version, image, status, created_at, created_by in session.execute(
                select(
                    App.name,
                    Environment.name,
                    Release.version,
                    Release.image,
                    Release.status,
                    Release.created_at,
                    Release.created_by,
                )
                .join(Environment, Environment.app_id == App.id)
                .join(Release, Release.environment_id == Environment.id)
                .where(Release.version == Environment.current_release)
            ).all()
        }
        latest = {
            (app, env): (version, status)
            for app, env, version, status in session.execute(
                select(App.name, Environment.name, Release.version, Release.status)
                .join(Environment, Environment.app_id == App.id)
                .join(Release, Release.environment_id == Environment.id)
                .order_by(Release.version)
            ).all()
        }
        apps: dict[str, dict[str, Any]] = {}
        names: set[str] = set(server.environment_names())
        for app, env, current in rows:
            entry = apps.setdefault(app, {"name": app, "environments": {}})
            if env is None or not can(env):
                continue
            names.add(env)
            found = releases.get((app, env))
            last = latest.get((app, env))
            entry["environments"][env] = {
                "release": current,
                "image": found[1] if found else None,
                "status": found[2] if found else None,
                "deployed_at": found[3].isoformat(timespec="seconds") if found else None,
                "deployed_by": found[4] if found else None,
                "latest": {"version": last[0], "status": last[1]} if last else None,
                "canary": _canary(session, app, env) if "/" in env else None,
            }
        events = [
            {
                "time": e.created_at.isoformat(timespec="seconds"),
                "app": e.app,
                "environment": e.environment,
                "kind": e.kind,
                "message": e.message,
                "actor": e.actor,
            }
            for e in session.scalars(select(Event).order_by(Event.id.desc()).limit(80))
            if (not e.environment or can(e.environment)) and who is not None
        ][:20]
        jobs = [
            {
                "id": j.id,
                "app": j.app,
                "environment": j.environment,
                "ref": j.ref,
                "state": j.state,
                "source": j.source,
                "actor": j.actor,
                "result": j.result,
            }
            for j in session.scalars(select(Job).order_by(Job.id.desc()).limit(10))
            if can(j.environment)
        ]
        commits = [
            {"app": c.app, "environment": c.environment, "sha": c.sha[:7], "state": c.state}
            for c in session.scalars(select(Commit).order_by(Commit.id.desc()).limit(10))
            if can(c.environment)
        ]
    locks = [
        {
            "app": lk.app,
            "environment": lk.environment,
            "holder": lk.holder,
            "message": lk.message,
            "since": lk.since.isoformat(timespec="seconds"),
        }
        for lk in envlocks.all_locks(server.reads)
        if can(lk.environment)
    ]
    groups: dict[str, list[str]] = {}
    for env in sorted(n for n in names if can(n)):
        groups.setdefault(root(env), [])
        if "/" in env:
            groups[root(env)].append(env)
    environments = [
        {"name": name, "protected": server.guarded(name), "sub": subs}
        for name, subs in sorted(groups.items())
    ]
    return {
        "version": __version__,
        "environments": environments,
        "apps": sorted(apps.values(), key=lambda a: a["name"]),
        "locks": locks,
        "events": events,
        "jobs": jobs,
        "commits": commits,
    }


def render(server: Any, who: Principal | None, *, fragment: bool = False) -> str:
    """The dashboard page (``fragment``: only the part that refreshes)."""
    data = status(server, who) if who is not None else None
    lock_of = {(lk["app"], lk["environment"]): lk for lk in (data or {}).get("locks", [])}
    template = TEMPLATES.get_template("dashboard.html.j2")
    return template.render(data=data, who=who, fragment=fragment, lock_of=lock_of)
