"""The command line's own settings stay out of the commands it runs for the user."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stackyard import process_env
from stackyard.hooks.command import run_command


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_env, "_set_here", set())
    for key in process_env.CLI_SETTINGS:
        monkeypatch.delenv(key, raising=False)


def _child_sees(key: str) -> str:
    script = f"import os; print(os.environ.get({key!r}, '<unset>'))"
    result = run_command(command=[sys.executable, "-c", script], capture=True)
    assert isinstance(result, dict)
    return str(result["stdout"]).strip()


@pytest.mark.usefixtures("clean_settings")
def test_the_cli_turns_plugin_search_off_but_hooks_do_not_inherit_it() -> None:
    process_env.apply_cli_settings()
    assert os.environ["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
    assert _child_sees("PYDANTIC_DISABLE_PLUGINS") == "<unset>"


@pytest.mark.usefixtures("clean_settings")
def test_a_users_own_setting_is_kept_and_passed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "logfire")
    process_env.apply_cli_settings()
    assert os.environ["PYDANTIC_DISABLE_PLUGINS"] == "logfire"
    assert _child_sees("PYDANTIC_DISABLE_PLUGINS") == "logfire"


def test_a_raw_template_renders_without_importing_troposphere(tmp_path: os.PathLike[str]) -> None:
    # A project of raw templates must not pay for troposphere's import at start.
    template = '{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}'
    script = f"""
import sys
from pathlib import Path
from stackyard.blueprints.raw import RawTemplateBlueprint
path = Path({str(tmp_path)!r}) / "t.json"
path.write_text({template!r})
blueprint = RawTemplateBlueprint("t", None, path)
print(blueprint.to_json({{}})[:20].replace("\\n", " "))
print("troposphere" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert "Resources" in out[0]
    assert out[1] == "False"


def _python(script: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_collection_is_held_off_at_start_then_resumes_past_what_start_made() -> None:
    out = _python(
        """
import gc, time
from stackyard.process_env import defer_collection
defer_collection(0.2)
print(gc.isenabled(), gc.get_freeze_count())
time.sleep(0.6)
print(gc.isenabled(), gc.get_freeze_count() > 1000)
"""
    )
    assert out == ["False", "0", "True", "True"]


def test_a_collector_someone_else_turned_off_stays_theirs() -> None:
    out = _python(
        """
import gc, time
gc.disable()
from stackyard.process_env import defer_collection
defer_collection(0.1)
time.sleep(0.4)
print(gc.isenabled(), gc.get_freeze_count())
"""
    )
    assert out == ["False", "0"]


def test_the_console_script_starts_with_collection_held_off() -> None:
    # What the command sees at its end, when it ends within the start window.
    out = _python(
        """
import atexit, gc, sys
atexit.register(lambda: print("collecting:", gc.isenabled()))
sys.argv = ["stackyard", "--version"]
from stackyard.cli.entry import main
main()
"""
    )
    assert out[-2:] == ["collecting:", "False"]


@pytest.mark.parametrize("moment", ["loading", "after the command"])
def test_a_ctrl_c_outside_the_command_exits_130_quietly(
    moment: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A Ctrl-C lands on whatever bytecode runs: while the CLI imports, or after main()
    # has handled the command's outcome but before the process exits.
    import stackyard.cli.main
    from stackyard.cli import entry

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(process_env, "defer_collection", lambda: None)
    monkeypatch.setattr(process_env, "apply_cli_settings", lambda: None)
    if moment == "loading":
        monkeypatch.setattr("builtins.__import__", _interrupting_import(__import__))
    else:
        monkeypatch.setattr(stackyard.cli.main, "main", interrupted)
    # (a KeyboardInterrupt escaping would stop the test session: catch it to fail this test)
    with pytest.raises((SystemExit, KeyboardInterrupt)) as exited:
        entry.main()
    assert isinstance(exited.value, SystemExit) and exited.value.code == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def _interrupting_import(real: object) -> object:
    def importing(name: str, *args: object, **kwargs: object) -> object:
        if name == "stackyard.cli.main":
            raise KeyboardInterrupt
        return real(name, *args, **kwargs)  # type: ignore[operator]

    return importing
