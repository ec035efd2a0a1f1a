"""botocore's JSON data files, kept decoded in a cache so a command's first client is quicker.

Every command's first client reads botocore's endpoint table (1.2 MB of JSON) and the
service's model (600 KB) and decodes them: about 15 ms of its start. Decoded once and kept
in ``marshal``'s format under ``cache/botocore/<botocore version>/``, they load in about a
third of that. An entry is used only while its source file has the same path, size and
modification time; anything else (a missing, stale, truncated or foreign entry) is decoded
from the JSON again and the entry rewritten. ``marshal`` is used rather than ``pickle``
because loading it cannot run code. It stores plain dicts where botocore's own loader makes
``OrderedDict``s: both keep the file's key order and compare equal, which is all botocore
relies on.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

import botocore
from botocore.loaders import JSONFileLoader

from stackyard.home import cache_dir

__all__ = ["CachedFileLoader", "default_model_cache_dir"]

# The cache's own format; bump it when what an entry holds changes.
_FORMAT = 1


def default_model_cache_dir() -> Path:
    """``<state home>/cache/botocore/<botocore version>``."""
    return cache_dir("botocore") / botocore.__version__


class CachedFileLoader(JSONFileLoader):  # type: ignore[misc]
    """botocore's ``JSONFileLoader``, reading decoded copies from ``folder`` when current."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_file(self, file_path: str) -> Any:
        """The data of ``file_path`` (+ ``.json`` or ``.json.gz``), None if neither exists."""
        source = _source(file_path)
        if source is None:
            return None
        stat = os.stat(source)
        stamp = (_FORMAT, source, stat.st_size, stat.st_mtime_ns)
        entry = self.folder / (hashlib.sha256(source.encode()).hexdigest()[:32] + ".marshal")
        try:
            recorded, data = marshal.loads(entry.read_bytes())
            if recorded == stamp:
                return data
        except (OSError, ValueError, EOFError, TypeError):
            pass  # no entry yet, or one this code cannot read: decode the JSON
        data = super().load_file(file_path)
        if data is not None:
            _write(entry, marshal.dumps((stamp, _plain(data))))
        return data


def _source(file_path: str) -> str | None:
    for extension in (".json", ".json.gz"):  # botocore's order
        if os.path.isfile(file_path + extension):
            return file_path + extension
    return None


def _plain(value: Any) -> Any:
    """``value`` with ``OrderedDict``s as dicts (``marshal`` stores only the built-in types)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _write(entry: Path, payload: bytes) -> None:
    """Write ``entry`` whole or not at all; a cache that cannot be written is skipped."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(payload)
            os.replace(temporary, entry)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass
