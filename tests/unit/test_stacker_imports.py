"""``stacker.*`` imports are stackyard's own modules, not second copies of their files."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from stackyard.stacker_imports import ALIASES

CHECK = """
import importlib, json, sys
from stackyard.stacker_imports import ALIASES, install
install()
out = {}
for alias, target in sorted(ALIASES.items()):
    module = importlib.import_module(alias)
    own = importlib.import_module(target)
    out[alias] = [module is own, own.__spec__.name == target, sys.modules[alias] is own]
import stacker.blueprints.base as base, stacker.blueprints.variables.types as types
from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.variables.types import CFNString
out["classes"] = [base.Blueprint is Blueprint, types.CFNString is CFNString]
print(json.dumps(out))
"""


def test_every_alias_is_the_stackyard_module_itself_in_a_fresh_interpreter() -> None:
    # A fresh interpreter: the first import of each name is the one that matters.
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHECK)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    import json

    found = json.loads(done.stdout)
    assert found.pop("classes") == [True, True]
    assert found == {alias: [True, True, True] for alias in ALIASES}


def test_an_installed_stacker_is_never_shadowed(tmp_path) -> None:
    package = tmp_path / "stacker" / "blueprints"
    package.mkdir(parents=True)
    (tmp_path / "stacker" / "__init__.py").write_text("REAL = True\n")
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text("class Blueprint:\n    pass\n")
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from stackyard.stacker_imports import install; install()\n"
        "import stacker, stacker.blueprints.base as base\n"
        "print(stacker.REAL, base.__file__.startswith(sys.argv[1]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == ["True", "True"]
