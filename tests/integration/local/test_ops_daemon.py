"""``stackyard local up|status|down`` as a user runs them (subprocesses, loopback ports only)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from stackyard.errors import StackyardError
from stackyard.local.embedded import local_endpoint_url


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stackyard.local", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "STACKYARD_HOME": str(home)},
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("STACKYARD_HOME", str(tmp_path))
    yield tmp_path
    run(tmp_path, "down")  # never leave a daemon behind


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_up_status_down(home: Path) -> None:
    started = run(home, "up", "--port", "0", "--faults", "seed=1,sqs=throttle:0.01")
    assert started.returncode == 0, started.stderr
    assert "local AWS running at http://127.0.0.1:" in started.stdout
    record = json.loads((home / "local" / "daemon.json").read_text())
    url = record["url"]
    # `up` returns only once the endpoint has warmed up: the first caller pays nothing.
    with urllib.request.urlopen(f"{url}/_stackyard/health") as answer:
        assert json.loads(answer.read())["status"] == "ok"

    again = run(home, "up", "--port", "0")
    assert again.returncode == 1
    assert f"already running at {url}" in again.stderr

    ssm = boto3.client(
        "ssm",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ssm.put_parameter(Name="/daemon/p", Value="v", Type="String")
    with local_endpoint_url(start_if_missing=False) as found:
        assert found == url

    status = run(home, "status")
    assert status.returncode == 0, status.stderr
    assert f"url        {url}" in status.stdout
    assert f"pid        {record['pid']}" in status.stdout
    assert "ssm 1" in status.stdout
    assert "recorded-only resource types: none" in status.stdout
    document = json.loads(run(home, "status", "--json").stdout)
    assert document["pid"] == record["pid"]
    assert document["calls"]["services"] == {"ssm": {"PutParameter": 1}}
    assert document["faults"]["spec"] == "seed=1,sqs=throttle:0.01"
    assert document["unsupported_types"] == {}

    stopped = run(home, "down")
    assert stopped.returncode == 0
    assert f"stopped the local AWS endpoint at {url}" in stopped.stdout
    assert not (home / "local" / "daemon.json").exists()
    after = run(home, "status")
    assert after.returncode == 1
    assert "no local AWS endpoint is running" in after.stdout
    assert "no local AWS endpoint is running" in run(home, "down").stdout


def test_up_on_a_taken_port_says_so(home: Path, taken_port: int) -> None:
    result = run(home, "up", "--port", str(taken_port))
    assert result.returncode == 1
    assert f"port {taken_port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr


def test_serve_on_a_taken_port_says_so(home: Path, taken_port: int) -> None:
    result = run(home, "serve", "--port", str(taken_port))
    assert result.returncode == 1
    assert f"port {taken_port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--host", "0.0.0.0"), "loopback only"),
        (("--faults", "ssm=explode"), "unknown fault"),
        (("--latency", "resource=fast"), "invalid duration"),
    ],
)
def test_up_refuses_bad_options_before_starting(
    home: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(home, "up", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (home / "local" / "daemon.json").exists()


def test_local_endpoint_url_starts_one_for_the_command_when_none_runs(home: Path) -> None:
    with local_endpoint_url() as url:
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert "Buckets" in s3.list_buckets()
    with (
        pytest.raises(StackyardError, match="no local AWS endpoint is running"),
        local_endpoint_url(start_if_missing=False),
    ):
        pass


def test_a_recorded_endpoint_that_does_not_answer_is_reported_as_such(home: Path) -> None:
    from stackyard.local import daemon
    from stackyard.local.cli import render_status

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    record = {
        "pid": os.getpid(),  # alive, but nothing answers HTTP on the port
        "url": f"http://127.0.0.1:{closed_port}",
        "started": 0,
        "log": "",
        "options": {},
    }
    (home / "local").mkdir(parents=True)
    (home / "local" / "daemon.json").write_text(json.dumps(record))
    document = daemon.status(home=home / "local")
    assert document is not None and document["health"] == "not answering"
    assert render_status(document).startswith("local AWS: not answering")
    with pytest.raises(StackyardError, match="recorded, but not answering"):
        daemon.up(daemon.ServeOptions(port=0), home=home / "local")
    (home / "local" / "daemon.json").unlink()  # so that teardown's `down` leaves us alone
