"""Fixtures for build/destroy/info tests on the local endpoint."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from apply_helpers import FIXTURES, Apply

from stackyard.local.runner import LocalEndpoint

_names = itertools.count()


@pytest.fixture
def apply(local_endpoint: LocalEndpoint, tmp_path: Path) -> Apply:
    folder = tmp_path / "project"
    shutil.copytree(FIXTURES, folder)
    namespace = f"it{next(_names)}-{tmp_path.name[-12:].strip('_-').lower().replace('_', '-')}"
    return Apply(local_endpoint.url, folder, namespace, {"namespace": namespace})
