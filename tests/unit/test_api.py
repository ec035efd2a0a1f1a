"""The public API is a contract: a sorted ``__all__`` whose names all exist."""

from __future__ import annotations

import stackyard.api as api


def test_all_is_sorted_and_unique() -> None:
    assert list(api.__all__) == sorted(set(api.__all__))


def test_every_exported_name_exists_and_nothing_public_is_unlisted() -> None:
    for name in api.__all__:
        assert hasattr(api, name), name
    public = {n for n in vars(api) if not n.startswith("_")}
    assert public == set(api.__all__)


def test_errors_share_one_root() -> None:
    errors = [getattr(api, n) for n in api.__all__ if n.endswith(("Error", "Error_", "Failed"))]
    assert errors
    assert all(issubclass(e, api.StackyardError) for e in errors)
