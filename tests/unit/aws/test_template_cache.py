"""The template cache answers only for the same stack id at the same last change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from stackyard.aws.template_cache import TemplateCache

WHEN = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1234"


def test_hit_only_for_same_stack_and_last_change(tmp_path: Path) -> None:
    cache = TemplateCache(tmp_path)
    cache.put(STACK, WHEN, '{"Resources": {}}')
    assert TemplateCache(tmp_path).get(STACK, WHEN) == '{"Resources": {}}'  # survives a run
    assert cache.get(STACK, WHEN + timedelta(seconds=1)) is None  # updated since
    assert cache.get(STACK.replace("1234", "5678"), WHEN) is None  # recreated stack
    assert cache.get(STACK, None) is None


def test_unwritable_folder_is_only_a_miss(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = TemplateCache(blocker / "cache")  # cannot be created: a file is in the way
    cache.put(STACK, WHEN, {"Resources": {}})
    assert cache.get(STACK, WHEN) is None


def test_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    cache = TemplateCache(tmp_path)
    cache.put(STACK, WHEN, {"Resources": {}})
    for entry in tmp_path.glob("*.json"):
        entry.write_text("{not json")
    assert cache.get(STACK, WHEN) is None
