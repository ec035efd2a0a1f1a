"""A deploy saved for review: the release it would make and the plan of its stack.

``apps plan -o FILE`` writes a :class:`DeployPlan`; ``approve FILE`` signs its digest (the
SHA-256 of its canonical JSON, release and stack plan together); ``apps apply FILE`` makes
the release again from what the plan recorded it was asked for, and executes it only when
both the release (:func:`release_moved` names what differs) and the stack plan
(``plan.moved``) are exactly the saved ones.

The release holds what releases hold: config values as stored, so a secret appears only as
its ``secret:/path`` reference. The JSON form is versioned:
``{"format": "stackyard-apps-plan", "version": 1, ...}`` with sorted keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from stackyard.apps.render import ReleaseSpec
from stackyard.errors import StackyardError
from stackyard.plan.model import Plan, StackPlan

__all__ = ["FORMAT", "VERSION", "DeployHeld", "DeployPlan", "PlannedRelease", "release_moved"]

FORMAT = "stackyard-apps-plan"
VERSION = 1


class DeployHeld(StackyardError):
    """A saved deploy whose protected changes no signed approval covers (exit 3). Nothing is
    recorded, so the same plan can be approved and applied."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, exit_code=3)


@dataclass(frozen=True)
class PlannedRelease:
    """The release a deploy would make: its contents, the version it would become, the
    current version it replaces (None: the first), and the image as it was asked for
    (None: the current release's image), so applying can resolve it again."""

    app: str
    environment: str
    version: int
    replaces: int | None
    requested_image: str | None
    image: str
    manifest: dict[str, Any]
    config: dict[str, str]
    formation: dict[str, dict[str, int | None]]

    @classmethod
    def of(
        cls, spec: ReleaseSpec, replaces: int | None, requested_image: str | None
    ) -> PlannedRelease:
        """The planned release of ``spec``."""
        return cls(
            app=spec.app,
            environment=spec.environment,
            version=spec.version,
            replaces=replaces,
            requested_image=requested_image,
            image=spec.image,
            manifest=spec.manifest,
            config=spec.config,
            formation=spec.formation,
        )

    def spec(self) -> ReleaseSpec:
        """The release's contents, as the renderer and the database take them."""
        return ReleaseSpec(
            self.app,
            self.environment,
            self.version,
            self.image,
            self.manifest,
            self.config,
            self.formation,
        )


@dataclass(frozen=True)
class DeployPlan:
    """A deploy made into data: the release and the plan of its stack."""

    release: PlannedRelease
    plan: Plan
    created_at: str
    region: str | None = None

    @property
    def needing_approval(self) -> tuple[StackPlan, ...]:
        """The stacks whose changes need approval (what ``approve`` signs)."""
        return self.plan.needing_approval

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "created_at": self.created_at,
            "region": self.region,
            "release": asdict(self.release),
            "plan": self.plan.to_dict(),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The plan file's text: sorted keys, so its digest is stable."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> DeployPlan:
        """Read what ``to_json`` wrote; anything else is refused (exit 2)."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise StackyardError(
                f"not a stackyard apps plan (not JSON: {exc})", exit_code=2
            ) from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StackyardError("not a stackyard apps plan", exit_code=2)
        if data.get("version") != VERSION:
            raise StackyardError(
                f"apps plan format version {data.get('version')!r} is not supported "
                f"(this stackyard reads version {VERSION})",
                hint="make the plan again with this version of stackyard",
                exit_code=2,
            )
        try:
            release = _release(data["release"])
            return cls(
                release=release,
                plan=Plan.from_dict(data["plan"]),
                created_at=str(data["created_at"]),
                region=None if data.get("region") is None else str(data["region"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StackyardError(f"malformed apps plan: {exc}", exit_code=2) from exc


def _release(data: Mapping[str, Any]) -> PlannedRelease:
    def optional_int(value: Any) -> int | None:
        return None if value is None else int(value)

    def optional_str(value: Any) -> str | None:
        return None if value is None else str(value)

    manifest = data["manifest"]
    if not isinstance(manifest, dict):
        raise TypeError("release manifest: expected an object")
    return PlannedRelease(
        app=str(data["app"]),
        environment=str(data["environment"]),
        version=int(data["version"]),
        replaces=optional_int(data["replaces"]),
        requested_image=optional_str(data["requested_image"]),
        image=str(data["image"]),
        manifest=manifest,
        config={str(k): str(v) for k, v in data["config"].items()},
        formation={
            str(p): {str(k): optional_int(v) for k, v in f.items()}
            for p, f in data["formation"].items()
        },
    )


def _version(number: int | None) -> str:
    return f"v{number}" if number is not None else "none"


def release_moved(saved: PlannedRelease, now: PlannedRelease) -> list[str]:
    """What differs between the saved release and the one a deploy would make now, one line
    each, naming config keys and processes but never a config value (empty: the same)."""
    out: list[str] = []
    if saved.replaces != now.replaces:
        out.append(
            f"the current release moved: planned to replace {_version(saved.replaces)}, "
            f"now {_version(now.replaces)} runs"
        )
    if saved.version != now.version:
        out.append(
            f"another release was made since the plan: planned v{saved.version}, "
            f"the next is now v{now.version}"
        )
    if saved.image != now.image:
        asked = saved.requested_image or "the current release's image"
        out.append(f"image: {asked} was planned as {saved.image}, is now {now.image}")
    if saved.manifest != now.manifest:
        processes = sorted(
            name
            for name in set(saved.manifest.get("processes", {}))
            | set(now.manifest.get("processes", {}))
            if saved.manifest.get("processes", {}).get(name)
            != now.manifest.get("processes", {}).get(name)
        )
        which = f" (processes {', '.join(processes)})" if processes else ""
        out.append(f"the app's manifest changed{which}")
    for key in sorted(set(saved.config) | set(now.config)):
        if key not in now.config:
            out.append(f"config {key}: unset since the plan")
        elif key not in saved.config:
            out.append(f"config {key}: set since the plan")
        elif saved.config[key] != now.config[key]:
            out.append(f"config {key}: changed since the plan")
    for process in sorted(set(saved.formation) | set(now.formation)):
        before, after = saved.formation.get(process), now.formation.get(process)
        if before != after:
            out.append(f"formation {process}: planned {_scale(before)}, now {_scale(after)}")
    if not out and saved != now:
        out.append(
            f"the release differs from the planned one (app {saved.app}, {saved.environment})"
        )
    return out


def _scale(scale: Mapping[str, int | None] | None) -> str:
    if scale is None:
        return "(not set)"
    return ", ".join(f"{k} {v}" for k, v in sorted(scale.items()) if v is not None) or "(not set)"
