"""The app manifest: extended Procfile YAML, plain Procfile, and file:line:key errors."""

from __future__ import annotations

import pytest

from stackyard.apps.manifest import manifest_data, manifest_of, parse_manifest
from stackyard.errors import ConfigError

FULL = """\
processes:
  web:
    command: bin/web --port 8080
    port: 8080
    exposed: {host: api.example.com, path: /api/*}
    health: {path: /health, interval: 10, healthy: 2, unhealthy: 3, grace: 30}
    cpu: 256
    memory: 512
    scale: 2
    placement:
      constraints: [{type: memberOf, expression: "attribute:profile == web"}]
      strategy: [{type: spread, field: instanceId}]
    env: {LOG_LEVEL: info}
  worker:
    command: bin/worker
"""


def test_an_extended_procfile_round_trips_through_release_data() -> None:
    manifest = parse_manifest(FULL, "app.yaml")
    web = manifest.processes["web"]
    assert (web.port, web.scale, web.health.grace) == (8080, 2, 30)
    assert web.exposed is not None and web.exposed.path == "/api/*"
    assert web.placement.constraints[0].expression == "attribute:profile == web"
    assert manifest.processes["worker"].scale == 1
    assert manifest_of(manifest_data(manifest)) == manifest


def test_a_plain_procfile_is_accepted() -> None:
    manifest = parse_manifest("web: bin/web\n# a comment\nworker: bin/worker -q\n", "Procfile")
    assert {n: p.command for n, p in manifest.processes.items()} == {
        "web": "bin/web",
        "worker": "bin/worker -q",
    }


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        (
            "processes:\n  web:\n    command: x\n    prot: 80\n",
            4,
            "processes.web.prot",
            "unknown key",
        ),
        (
            "processes:\n  web:\n    command: x\n    scale: -1\n",
            4,
            "processes.web.scale",
            "greater",
        ),
        ("processes:\n  web:\n    port: 80\n", 2, "processes.web.command", "Field required"),
        (
            "processes:\n  web:\n    command: x\n    placement:\n      constraints:\n"
            "        - {type: memberof}\n",
            6,
            "processes.web.placement.constraints[0].type",
            "memberOf",
        ),
        (
            "processes:\n  web:\n    command: x\n    exposed: {path: /}\n",
            4,
            "processes.web.exposed",
            "needs a port",
        ),
        ("processes:\n  Web_1:\n    command: x\n", 2, "processes.Web_1", "lowercase"),
        ("web:\n  command: x\n", 1, None, "'processes' is missing"),
    ],
)
def test_errors_name_file_line_and_key(text: str, line: int, key: str | None, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_manifest(text, "app.yaml")
    err = caught.value
    assert (err.file, err.line, err.key) == ("app.yaml", line, key)
    assert message in err.message
