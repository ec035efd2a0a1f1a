"""Continuous delivery's decisions (no deploy runs here: the jobs are only queued)."""

from __future__ import annotations

from server_support import github_hook, push, status
from sqlalchemy import select

from stackyard.server.models import Commit, Job

SHA1, SHA2, SHA3 = "1" * 40, "2" * 40, "3" * 40


def _state(world, sha: str) -> str:  # type: ignore[no-untyped-def]
    with world.server.db.session() as session:
        return str(session.scalars(select(Commit.state).where(Commit.sha == sha)).one())


def _jobs(world) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with world.server.db.session() as session:
        return [(j.ref, j.source, j.state) for j in session.scalars(select(Job).order_by(Job.id))]


def _pass(world, sha: str) -> None:  # type: ignore[no-untyped-def]
    for context in ("ci/test", "build"):
        assert (
            github_hook(
                world.url, "status", status("acme/api", sha, context, "success")
            ).status_code
            == 200
        )


def test_push_then_passing_checks_deploys_once(world) -> None:  # type: ignore[no-untyped-def]
    answer = github_hook(world.url, "push", push("acme/api", SHA1))
    assert answer.json()["commits"] == [{"app": "api", "sha": SHA1, "state": "pending"}]
    assert (
        github_hook(world.url, "status", status("acme/api", SHA1, "ci/test", "success")).json()[
            "commits"
        ][0]["state"]
        == "pending"
    )
    assert _jobs(world) == []
    # a check run counts like a status
    run = {
        "check_run": {
            "head_sha": SHA1,
            "name": "build",
            "status": "completed",
            "conclusion": "success",
        },
        "repository": {"full_name": "acme/api"},
    }
    assert github_hook(world.url, "check_run", run).json()["commits"][0]["state"] == "deploying"
    assert _jobs(world) == [(SHA1, "cd", "queued")]
    # the same news again (a redelivery, another server): still one deploy
    _pass(world, SHA1)
    assert (
        github_hook(world.url, "push", push("acme/api", SHA1)).json()["commits"][0]["state"]
        == "known"
    )
    assert _jobs(world) == [(SHA1, "cd", "queued")]


def test_other_branches_and_repositories_are_ignored(world) -> None:  # type: ignore[no-untyped-def]
    assert (
        github_hook(world.url, "push", push("acme/api", SHA1, branch="feature")).json()["commits"]
        == []
    )
    assert github_hook(world.url, "push", push("acme/web", SHA1)).json()["commits"] == []
    assert github_hook(world.url, "issues", {}).json()["ignored"] == "issues"


def test_a_failing_check_does_not_deploy(world) -> None:  # type: ignore[no-untyped-def]
    github_hook(world.url, "push", push("acme/api", SHA1))
    github_hook(world.url, "status", status("acme/api", SHA1, "ci/test", "failure"))
    github_hook(world.url, "status", status("acme/api", SHA1, "build", "success"))
    assert _state(world, SHA1) == "failed-checks" and _jobs(world) == []


def test_cd_skip_does_not_deploy(world) -> None:  # type: ignore[no-untyped-def]
    answer = github_hook(world.url, "push", push("acme/api", SHA1, "docs only [cd skip]"))
    assert answer.json()["commits"][0]["state"] == "skipped"
    _pass(world, SHA1)
    assert _state(world, SHA1) == "skipped" and _jobs(world) == []


def test_a_locked_environment_does_not_deploy_and_notifies(world) -> None:  # type: ignore[no-untyped-def]
    from stackyard.server import envlocks

    envlocks.lock(world.server.db, "api", "stage", "alice", "load test", steal=False, actor="alice")
    github_hook(world.url, "push", push("acme/api", SHA1))
    _pass(world, SHA1)
    assert _state(world, SHA1) == "locked" and _jobs(world) == []
    note = world.notify.wait_for(lambda seen: len(seen) == 1)[0].body["text"]
    assert note.startswith(
        f"Continuous delivery did not deploy api {SHA1[:7]} to `stage`: it is locked by alice: load test"
    )


def test_a_newer_commit_supersedes_an_older_one(world) -> None:  # type: ignore[no-untyped-def]
    github_hook(world.url, "push", push("acme/api", SHA1))
    github_hook(world.url, "push", push("acme/api", SHA2))
    assert _state(world, SHA1) == "superseded"
    _pass(world, SHA1)  # the older one's checks finish late: it stays superseded
    assert _state(world, SHA1) == "superseded" and _jobs(world) == []
    _pass(world, SHA2)
    assert _jobs(world) == [(SHA2, "cd", "queued")]
    # a third commit passes while the second's deploy is still queued: it takes its place
    github_hook(world.url, "push", push("acme/api", SHA3))
    _pass(world, SHA3)
    assert _jobs(world) == [(SHA2, "cd", "superseded"), (SHA3, "cd", "queued")]
    assert _state(world, SHA2) == "superseded" and _state(world, SHA3) == "deploying"


def test_progress_lines_name_step_weight_and_healthy_targets() -> None:
    from stackyard.server.jobs import describe_rollout

    plain = {"process": "web", "state": "IN_PROGRESS", "running": 1, "desired": 2, "reason": ""}
    assert describe_rollout(plain) == "web 1/2 running: IN_PROGRESS"
    canary = {**plain, "step": 2, "weight": 25, "healthy": 3}
    assert describe_rollout(canary) == (
        "step 2, web 1/2 running, weight 25%, 3 healthy targets: IN_PROGRESS"
    )
    failed = {**plain, "state": "FAILED", "reason": "rolled back"}
    assert describe_rollout(failed) == "web 1/2 running: FAILED (rolled back)"
