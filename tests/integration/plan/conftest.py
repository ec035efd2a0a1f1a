"""Fixtures for planner tests on the local endpoint."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from plan_helpers import BUCKET, PARAM, Lab

from stackyard.local.runner import LocalEndpoint


@pytest.fixture
def lab(local_endpoint: LocalEndpoint, tmp_path: Path) -> Lab:
    for name, body in (("param.json", PARAM), ("bucket.json", BUCKET)):
        (tmp_path / name).write_text(json.dumps(body))
    return Lab(local_endpoint.url, tmp_path, f"pl{uuid.uuid4().hex[:8]}")
