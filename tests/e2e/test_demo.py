"""`make demo`, the README's first command, runs to the end on the local AWS."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

STACKYARD = Path(sys.executable).with_name("stackyard")

DEMO = Path(__file__).resolve().parents[2] / "examples" / "ops" / "demo.sh"
PASSWORD = "/ops-stage/database/master-password"


def test_demo_builds_the_stage_environment(tmp_path: Path) -> None:
    team_database = tmp_path / "team.db"
    env = {
        **os.environ,
        "STACKYARD": str(STACKYARD),
        "STACKYARD_HOME": str(tmp_path),
        # the user's own settings: the demo must leave them alone
        "STACKYARD_DATABASE_URL": f"sqlite:///{team_database}",
        "STACKYARD_SERVER": "http://127.0.0.1:9",
    }
    demo_home = tmp_path / "demo"
    # what a demo run against a local AWS that has since stopped left: not a database the
    # new run could use (were it opened, the demo would fail)
    demo_home.mkdir()
    (demo_home / "apps.db").write_bytes(b"releases of a local AWS that is gone")
    in_demo = {**env, "STACKYARD_HOME": str(demo_home)}
    del in_demo["STACKYARD_DATABASE_URL"], in_demo["STACKYARD_SERVER"]
    try:
        result = subprocess.run(
            ["bash", str(DEMO)], capture_output=True, text=True, timeout=300, env=env
        )
        # Rerunnable without rotating the database password.
        again = subprocess.run(
            ["bash", str(DEMO)], capture_output=True, text=True, timeout=300, env=env
        )
        history = subprocess.run(
            [str(STACKYARD), "secrets", "history", "--local", PASSWORD],
            capture_output=True,
            text=True,
            env=in_demo,
        )
    finally:
        subprocess.run([str(STACKYARD), "local", "down"], env=in_demo, capture_output=True)
    # The demo's state is its own: the user's database and local AWS folder are untouched.
    assert not team_database.exists() and not (tmp_path / "apps.db").exists()
    assert not (tmp_path / "local").exists() and (demo_home / "apps.db").is_file()
    assert f"export STACKYARD_HOME={demo_home}" in result.stdout
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "build: 11 complete, 1 no change" in out
    assert "build: 12 no change" in out
    assert "CloudFormation calls: 1 (1 reads, 0 writes)" in out
    assert "database      CREATE_COMPLETE" in out
    assert "Traceback" not in out + result.stderr
    # The command shown is the command run.
    assert "head -c 16 /dev/urandom" in out and "openssl" not in out

    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert f"{PASSWORD} is already stored; kept" in again.stdout
    assert "build: 12 no change" in again.stdout
    assert history.returncode == 0, history.stderr
    versions = [r.split()[0] for r in history.stdout.splitlines() if r.strip()[:1].isdigit()]
    assert versions == ["1"], history.stdout
    # the app on the cluster: placed by pool, scaled, a secret config var, deployed, rolled back
    assert "api stage v1: succeeded" in out
    assert re.search(r"^worker +\S+ +RUNNING +v1 +t3.medium +worker ", out, re.M)
    assert len(re.findall(r"^web +\S+ +RUNNING +v2 +t3.small +web ", out, re.M)) == 3
    assert "DATABASE_URL=secret:/ops-stage/api/database-url" in out
    assert "api stage v5: succeeded" in out and "rollback to v3" in out
    # the canary: stage/canary takes about 10% of 1,000 simulated requests and is promoted;
    # then a release that starts failing its health checks is rolled back on its own
    assert "api stage/canary v1: succeeded" in out and "api stage/canary: 10% of the traffic" in out
    share = re.search(r"^  stage/canary +(\d+) of 1000 requests", out, re.M)
    # 1,000 requests at 10%: 100 expected, a standard deviation of 9.5; 45 off is 4.7 of them
    # (a share that is not 10% shows in the 10,000-request integration tests, within 3 points)
    assert share and abs(int(share.group(1)) - 100) <= 45, out
    assert "api stage v6: succeeded" in out and "api stage/canary: weight 0%" in out
    assert re.search(r"api stage/canary v2: failed \(step 1 \(10%\): web: ", out)
    assert "api stage/canary: weight 0%, rolled back: v3 succeeded" in out
    assert "(exit 1: a rollback is a failure)" in out
    assert re.search(r"last rollout: v2 steps 10,50 bake 4s: rolled_back at step 1", out)
