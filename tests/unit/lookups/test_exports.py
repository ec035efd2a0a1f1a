from __future__ import annotations

import stackyard.lookups as lookups


def test_all_is_sorted_and_importable() -> None:
    assert lookups.__all__ == sorted(lookups.__all__)
    for name in lookups.__all__:
        assert hasattr(lookups, name), name


def test_public_members_are_exported() -> None:
    public = {
        name
        for name, value in vars(lookups).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("stackyard.")
    }
    assert public == set(lookups.__all__)
