"""One answer to "where does stackyard keep its files?" for every part that keeps some."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.apps.db.database import default_url
from stackyard.aws.change_set_journal import default_journal_dir
from stackyard.aws.model_cache import default_model_cache_dir
from stackyard.aws.template_cache import default_cache_dir
from stackyard.home import cache_dir, state_home
from stackyard.local.daemon import home_dir


def test_stackyard_home_is_used_with_its_tilde_expanded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("STACKYARD_HOME", "~/state")
    monkeypatch.delenv("STACKYARD_DATABASE_URL", raising=False)
    home = tmp_path / "state"
    assert state_home() == home
    assert cache_dir("x") == home / "cache" / "x"
    assert default_cache_dir() == home / "cache" / "templates"
    assert default_journal_dir() == home / "cache" / "change-sets"
    assert default_model_cache_dir().parent == home / "cache" / "botocore"
    assert home_dir() == home / "local"
    assert default_url() == f"sqlite:///{home / 'apps.db'}"


def test_without_it_the_folder_is_in_the_users_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("STACKYARD_HOME", raising=False)
    assert state_home() == tmp_path / ".stackyard"
