"""The apps database on SQLite and on a real PostgreSQL server: migrations and the lock."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, inspect, select, text

from stackyard.apps.db.database import Database, current_revision, migrate
from stackyard.apps.db.locks import LockHeld, deploy_lock
from stackyard.apps.db.models import App, CanaryRollout, Environment, Lock, Release

HEAD = "0004"


def test_migrates_from_empty_to_head(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        assert current_revision(db.engine) == HEAD
        tables = set(inspect(db.engine).get_table_names())
        assert {"apps", "environments", "releases", "config_vars", "formation"} <= tables
        assert {"events", "locks", "rollouts", "alembic_version"} <= tables
    finally:
        db.close()


def test_upgrades_from_the_previous_revision_keeping_data(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate(engine, "0001")
    assert current_revision(engine) == "0001"
    assert "locks" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO apps (id, name, manifest, created_at, created_by)"
                " VALUES (1, 'api', '{}', CURRENT_TIMESTAMP, 'me')"
            )
        )
        conn.execute(text("INSERT INTO environments (id, app_id, name) VALUES (1, 1, 'stage')"))
        conn.execute(
            text(
                "INSERT INTO releases (environment_id, version, image, manifest, config,"
                " formation, description, status, created_at, created_by) VALUES"
                " (1, 1, 'app:v1', '{}', '{}', '{}', 'first', 'succeeded',"
                " CURRENT_TIMESTAMP, 'me')"
            )
        )
    engine.dispose()
    db = Database.open(database_url)
    try:
        assert current_revision(db.engine) == HEAD
        with db.session() as session:
            release = session.scalars(select(Release)).one()
            assert (release.version, release.image, release.reason) == (1, "app:v1", "")
            env = session.scalars(select(Environment)).one()
            assert session.get(App, env.app_id) is not None
            session.add(Lock(name="api/stage", holder="me"))
    finally:
        db.close()


def test_upgrades_from_0002_adding_canary_rollouts_and_back(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate(engine, "0002")
    assert "rollouts" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO apps (id, name, manifest, created_at, created_by)"
                " VALUES (1, 'api', '{}', CURRENT_TIMESTAMP, 'me')"
            )
        )
        conn.execute(
            text("INSERT INTO environments (id, app_id, name) VALUES (1, 1, 'prod/canary')")
        )
    engine.dispose()
    db = Database.open(database_url)
    try:
        assert current_revision(db.engine) == HEAD
        with db.session() as session:
            env = session.scalars(select(Environment)).one()
            session.add(
                CanaryRollout(environment_id=env.id, release=1, steps=[5, 25], bake_seconds=300.0)
            )
        with db.session() as session:
            row = session.scalars(select(CanaryRollout)).one()
            assert (row.steps, row.status, row.step, row.weight) == ([5, 25], "running", 0, 0)
        from alembic import command

        from stackyard.apps.db.database import _alembic_config

        with db.engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0002")
        assert "rollouts" not in inspect(db.engine).get_table_names()
        assert current_revision(db.engine) == "0002"
    finally:
        db.close()


def test_a_session_rolls_back_on_error(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        with pytest.raises(RuntimeError), db.session() as session:
            session.add(App(name="gone", manifest={}))
            session.flush()
            raise RuntimeError("boom")
        with db.session() as session:
            assert session.scalars(select(App)).all() == []
    finally:
        db.close()


def test_two_holders_of_one_lock_are_serialised(database_url: str) -> None:
    db = Database.open(database_url)
    spans: list[tuple[str, float, float]] = []
    waited: list[str] = []

    def deploy(who: str) -> None:
        with deploy_lock(db, "api/stage", who, on_wait=waited.append):
            start = time.monotonic()
            time.sleep(0.4)
            spans.append((who, start, time.monotonic()))

    try:
        threads = [threading.Thread(target=deploy, args=(w,)) for w in ("alice", "bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        (_, _, first_end), (_, second_start, _) = sorted(spans, key=lambda s: s[1])
        assert second_start >= first_end
        assert len(waited) == 1 and waited[0] in {"alice", "bob"}
        with db.session() as session:
            assert session.scalars(select(Lock)).all() == []
    finally:
        db.close()


def test_a_held_lock_refuses_without_waiting(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        with (
            deploy_lock(db, "api/prod", "alice"),
            pytest.raises(LockHeld, match="locked by alice"),
            deploy_lock(db, "api/prod", "bob", wait=0),
        ):
            pass
        with deploy_lock(db, "api/prod", "bob", wait=0):
            pass
    finally:
        db.close()
