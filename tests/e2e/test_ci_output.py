"""Output without a terminal (CI logs, pipes) is never hard-wrapped or truncated."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from cli_helpers import cli_in

STACKYARD = Path(sys.executable).with_name("stackyard")

RESOURCE = (
    "arn:aws:s3:::a-bucket-with-a-very-long-name-for-the-team-reports-and-exports/"
    "reports/2026/quarterly/*"
)
TEMPLATE = f"""\
Resources:
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: ["s3:GetObject"]
            Resource: "{RESOURCE}"
"""


def test_piped_diff_keeps_a_long_iam_row_whole(tmp_path: Path) -> None:
    assert len(RESOURCE) > 100
    (tmp_path / "iam.yaml").write_text(TEMPLATE)
    (tmp_path / "c.yaml").write_text(
        "namespace: t\nstacks:\n  - name: iam\n    template_path: iam.yaml\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    env["STACKYARD_HOME"] = str(tmp_path / "home")

    run = cli_in(tmp_path, env, timeout=120)

    assert run("local", "up", "--port", "0").returncode == 0
    try:
        result = run("diff", "--local", "c.yaml", "--no-color")
    finally:
        run("local", "down")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "s3:GetObject" in line]
    assert rows and all(RESOURCE in row for row in rows), result.stdout
    assert "…" not in result.stdout
    assert "\x1b[" not in result.stdout
    # Headings are a title and a short rule, not a line as wide as the unbounded console.
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) < 1000
    assert re.search(r"^iam \(t-iam\) ─+$", result.stdout, re.MULTILINE)
