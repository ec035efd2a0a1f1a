"""``stacker.lookups.handlers``: the base class custom lookups written for stacker subclass."""

from __future__ import annotations

from stackyard.lookups.custom import LookupHandler

__all__ = ["LookupHandler"]
