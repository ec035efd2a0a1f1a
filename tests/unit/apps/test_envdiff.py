"""``apps env diff``: two environments key by key, values masked where they are credentials."""

from __future__ import annotations

import pytest

from stackyard.apps.envdiff import EnvView, diff, formation_entries, mask


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("DATABASE_URL", "secret:/ops/api/db", "secret:/ops/api/db"),
        ("API_TOKEN", "abc123", "****"),
        ("db_password", "hunter2", "****"),
        ("DATABASE_URL", "postgres://app:hunter2@db:5432/x", "postgres://app:****@db:5432/x"),
        ("LOG_LEVEL", "debug", "debug"),
    ],
)
def test_masking(key: str, value: str, shown: str) -> None:
    assert mask(key, value) == shown


def test_rows_compare_real_values_and_show_masked_ones() -> None:
    left = EnvView(
        "prod",
        {
            "config": {"API_TOKEN": ("one", "own"), "MODE": ("live", "own")},
            "formation": formation_entries({"web": {"count": 10, "cpu": 512}}),
        },
    )
    right = EnvView(
        "prod/canary",
        {
            "config": {"API_TOKEN": ("two", "own"), "MODE": ("live", "inherited")},
            "formation": formation_entries(
                {"web": {"count": 1, "cpu": None}}, {"web": {"count": 10, "cpu": 512}}
            ),
        },
    )
    rows = {(r.section, r.key): r for r in diff(left, right)}
    token = rows[("config", "API_TOKEN")]
    assert (token.left, token.right, token.same) == ("****", "****", False)
    assert rows[("config", "MODE")].same and rows[("config", "MODE")].right_origin == "inherited"
    count, cpu = rows[("formation", "web.count")], rows[("formation", "web.cpu")]
    assert (count.right, count.right_origin, count.same) == ("1", "own", False)
    assert (cpu.right, cpu.right_origin, cpu.same) == ("512", "inherited", True)
    changed = diff(left, right, only_changes=True)
    assert [(r.section, r.key) for r in changed] == [
        ("config", "API_TOKEN"),
        ("formation", "web.count"),
    ]
