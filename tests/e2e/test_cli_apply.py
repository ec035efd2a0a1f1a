"""The installed CLI, as a user runs it: build, info, rebuild, destroy against `stackyard local`."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from cli_helpers import cli_in

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apply"
STACKYARD = Path(sys.executable).with_name("stackyard")


def test_build_info_rebuild_destroy_with_local(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    shutil.copytree(FIXTURES, folder)
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "160",
        "STACKYARD_HOME": str(tmp_path / "home"),
    }

    run = cli_in(folder, env, timeout=120)

    up = run("local", "up", "--port", "0", "--latency", "resource=0s")
    if up.returncode != 0:
        pytest.fail(f"stackyard local up failed: {up.stderr}")
    try:
        config = ["-e", "namespace=e2e", "diamond.env", "diamond.yaml"]
        built = run("build", "--local", "--stats", *config)
        assert built.returncode == 0, built.stdout + built.stderr
        assert "build: 7 complete" in built.stdout
        assert "CreateStack" in built.stdout  # --stats

        info = run("info", "--local", "--json", *config)
        assert info.returncode == 0, info.stderr
        stacks = {s["name"]: s for s in json.loads(info.stdout)["stacks"]}
        assert {s["drift"] for s in stacks.values()} == {"in sync"}
        assert stacks["d"]["outputs"]["Value"] == "alpha-b+alpha-c"

        again = run("build", "--local", "-j", "2", "--stats", *config)
        assert again.returncode == 0
        assert "build: 7 no change" in again.stdout
        # One listing; the templates this machine submitted are cached, so no GetTemplate.
        assert "CloudFormation calls: 1 (1 reads, 0 writes)" in again.stdout
        assert "GetTemplate" not in again.stdout

        refused = run("destroy", "--local", *config, stdin="")
        assert refused.returncode == 2
        assert "e2e-a" in refused.stdout and "--yes" in refused.stderr

        gone = run("destroy", "--local", "--force", *config)
        assert gone.returncode == 0, gone.stdout + gone.stderr
        assert "destroy: 7 complete" in gone.stdout

        info = run("info", "--local", *config)
        assert info.returncode == 0 and "missing" in info.stdout

        bad = run("build", "--local", "-e", "namespace=e2e", "nope.yaml")
        assert bad.returncode == 2
    finally:
        run("local", "down")
