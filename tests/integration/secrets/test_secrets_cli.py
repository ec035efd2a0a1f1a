"""``stackyard secrets`` end to end on the local AWS, and the leak test.

Commands run in-process through the real entry point (``main``), so errors are
rendered exactly as a user sees them.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest

from stackyard.cli.main import main
from stackyard.local.runner import LocalEndpoint

SECRET = "s3cr3t-Value-that-must-never-leak-7fa2"


@pytest.fixture
def run(
    local_endpoint: LocalEndpoint,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[int, str, str]]:
    """``run("put", "/ns/a/B", stdin="v")`` -> (exit code, stdout, stderr)."""

    def invoke(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        argv = ["secrets", *args, "--endpoint-url", local_endpoint.url, "-r", "us-east-1"]
        capsys.readouterr()
        try:
            main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_commands_round_trip_and_never_show_the_value(
    run: Callable[..., tuple[int, str, str]],
    namespace: str,
    make_key: Callable[[str], str],
    aws: Callable[[str], Any],
) -> None:
    ns = namespace
    make_key(f"alias/{ns}/secrets")
    old_key = make_key(f"alias/{ns}/old-role-key")
    other_key = make_key(f"alias/{ns}/next")
    name = f"/{ns}/web/DB_PASSWORD"
    outputs: list[str] = []

    def step(*args: str, stdin: str = "", code: int = 0) -> str:
        got, out, err = run(*args, stdin=stdin)
        assert got == code, (args, out, err)
        outputs.extend([out, err])
        return out + err

    assert f"created {name} version 1" in step("put", name, stdin=SECRET + "\n")
    assert "already exists (version 1)" in step("put", name, stdin=SECRET, code=1)
    assert "--overwrite" in outputs[-1]
    assert "version 2" in step("put", name, "--overwrite", stdin=SECRET)
    aws("ssm").put_parameter(
        Name=f"/{ns}/legacy/API", Value=SECRET, Type="SecureString", KeyId=old_key
    )

    assert "****" in step("get", name)
    assert json.loads(step("get", name, "--json"))["value"] == "****"
    listed = json.loads(step("list", f"/{ns}", "--json"))
    assert [s["name"] for s in listed] == [f"/{ns}/legacy/API", name]
    assert name in step("list", "-n", ns)
    history = json.loads(step("history", name, "--json"))
    assert [v["version"] for v in history] == [1, 2]
    assert "VERSION" in step("history", name)
    dry = json.loads(
        step(
            "migrate",
            "--from-key",
            f"alias/{ns}/old-role-key",
            "--to-key",
            f"alias/{ns}/secrets",
            "-n",
            ns,
            "--dry-run",
            "--json",
        )
    )
    assert [m["status"] for m in dry["moves"]] == ["would move"]
    assert "moved 1" in step(
        "migrate", "--from-key", old_key, "--to-key", f"alias/{ns}/secrets", "-n", ns
    )
    moved = json.loads(
        step(
            "migrate",
            "--from-key",
            f"alias/{ns}/secrets",
            "--to-key",
            other_key,
            "--prefix",
            f"/{ns}/web",
            "--json",
        )
    )
    assert [m["name"] for m in moved["moves"]] == [name]
    assert json.loads(step("audit", f"/{ns}", "--json", "--role-path", f"/{ns}/"))[
        "unreadable"
    ] == [f"/{ns}/legacy/API", name]
    assert "no role can read" in step("audit", "-n", ns, "--role-path", f"/{ns}/")

    # bad input: each a clear message, exit code, and no value
    assert "outside the namespace" in step("put", "/other/x/Y", "-n", ns, stdin=SECRET, code=2)
    assert "not found" in step("put", f"/{ns}/x/Y", "--key", "alias/none", stdin=SECRET, code=1)
    assert "7600 bytes" in step("put", f"/{ns}/x/BIG", stdin=SECRET * 200, code=1)
    assert "no secret named" in step("get", f"/{ns}/x/MISSING", code=1)
    assert "no secret named" in step("rm", f"/{ns}/x/MISSING", "--yes", code=1)
    # Without a terminal nobody can answer: exit 2 naming the flag, as destroy does.
    assert "pass --yes" in step("rm", name, stdin="n\n", code=2)
    assert f"deleted /{ns}/legacy/API" in step("rm", f"/{ns}/legacy/API", "--yes")

    # only get --reveal prints the value, and nothing else
    code, out, err = run("get", name, "--reveal")
    assert (code, out, err) == (0, SECRET + "\n", "")
    assert json.loads(run("get", name, "--reveal", "--json")[1])["value"] == SECRET

    leaked = [text for text in outputs if SECRET in text]
    assert leaked == []


def test_put_reads_from_a_file_and_never_takes_the_value_as_an_argument(
    run: Callable[..., tuple[int, str, str]],
    namespace: str,
    make_key: Callable[[str], str],
    tmp_path: Any,
) -> None:
    make_key(f"alias/{namespace}/secrets")
    path = tmp_path / "value.txt"
    path.write_text("from-file\n")
    code, out, err = run("put", f"/{namespace}/a/F", "--from-file", str(path))
    assert code == 0, err
    assert run("get", f"/{namespace}/a/F", "--reveal")[1] == "from-file\n\n"
    code, out, err = run("put", f"/{namespace}/a/G", "the-value")
    assert code == 2 and "unexpected extra argument" in err.lower()
    assert "the-value" not in out
