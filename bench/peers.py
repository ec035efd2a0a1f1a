"""Install stackyard's peers, each in its own virtualenv under ``bench/.peers/<name>``.

    python -m bench.peers            # install what is missing
    python -m bench.peers --force    # recreate every virtualenv
    python -m bench.peers stacker    # only one

stacker 1.7.2 predates Python 3.10, where the ABC aliases on ``collections``
(``collections.Mapping``...) were removed; its virtualenv gets a ``.pth`` file that puts them
back, in that virtualenv only, and schematics 2.1.1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PEERS", "Peer", "install", "peer_bin", "peers_dir"]

SHIM_MODULE = "_stackyard_collections_shim"
COLLECTIONS_SHIM = '''"""Aliases of collections.abc names on collections, for stacker 1.7."""

import collections
import collections.abc

for _name in collections.abc.__all__:
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))
'''


@dataclass(frozen=True)
class Peer:
    """One peer tool: what to pip install, the command it runs, and any shim it needs.

    ``no_deps`` are installed without their declared dependencies, which ``requirements``
    then name explicitly (stacker 1.7.2 pins schematics below 2.1, which the shim replaces).
    """

    name: str
    requirements: tuple[str, ...]
    command: str
    no_deps: tuple[str, ...] = ()
    collections_shim: bool = False
    env: dict[str, str] = field(default_factory=dict)


PEERS: dict[str, Peer] = {
    "stacker": Peer(
        "stacker",
        (
            # stacker 1.7.2's own dependencies, with schematics 2.1.1 instead of <2.1.
            "schematics==2.1.1",
            "future",
            "troposphere>=3.2,<5",
            "awacs>=1.0",
            "boto3>=1.28,<2",
            "PyYAML>=5.4",
            "gitpython>=2.0,<3.0",
            "jinja2>=2.7,<3.0",
            "markupsafe<2.1",
            "formic2",
            "python-dateutil>=2.0,<3.0",
        ),
        "stacker",
        no_deps=("stacker==1.7.2",),
        collections_shim=True,
    ),
    "sceptre": Peer("sceptre", ("sceptre==4.7.0",), "sceptre"),
    "runway": Peer("runway", ("runway==2.8.4",), "runway"),
}


def peers_dir() -> Path:
    """``bench/.peers`` (gitignored)."""
    return Path(__file__).resolve().parent / ".peers"


def peer_bin(peer: Peer) -> Path:
    """The virtualenv's ``bin`` directory."""
    return peers_dir() / peer.name / "bin"


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


def _base_python() -> str:
    """A Python to make virtualenvs from: this one's base interpreter, not a venv's shim."""
    base = Path(sys.base_prefix) / "bin" / f"python{sysconfig.get_python_version()}"
    return str(base) if base.exists() else sys.executable


def install(peer: Peer, *, force: bool = False, quiet: bool = True) -> Path:
    """Create the peer's virtualenv and install it; return the path of its command."""
    venv = peers_dir() / peer.name
    command = venv / "bin" / peer.command
    if command.exists() and not force:
        return command
    peers_dir().mkdir(parents=True, exist_ok=True)
    subprocess.run([_base_python(), "-m", "venv", "--clear", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("--quiet")
    subprocess.run([*pip, "--upgrade", "pip", "setuptools<70", "wheel"], check=True)
    if peer.collections_shim:
        # Before installing, so that install-time imports of the package find the aliases too.
        site_packages = _site_packages(python)
        (site_packages / f"{SHIM_MODULE}.py").write_text(COLLECTIONS_SHIM)
        (site_packages / f"{SHIM_MODULE}.pth").write_text(f"import {SHIM_MODULE}\n")
    env = {**os.environ, **peer.env}
    subprocess.run([*pip, *peer.requirements], check=True, env=env)
    if peer.no_deps:
        subprocess.run([*pip, "--no-deps", *peer.no_deps], check=True, env=env)
    if not command.exists():
        raise SystemExit(f"{peer.name}: installed, but {command} is missing")
    return command


def main(argv: list[str] | None = None) -> int:
    """Install the named peers (all by default)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", choices=[[], *PEERS], default=[])
    parser.add_argument("--force", action="store_true", help="recreate the virtualenvs")
    args = parser.parse_args(argv)
    failed = 0
    for name in args.names or list(PEERS):
        peer = PEERS[name]
        try:
            command = install(peer, force=args.force)
        except (subprocess.CalledProcessError, SystemExit) as exc:
            print(f"{name}: install FAILED: {exc}", file=sys.stderr)
            failed += 1
            continue
        version = subprocess.run(
            [str(command), "--version"], capture_output=True, text=True, check=False
        )
        print(f"{name}: {command} ({(version.stdout or version.stderr).strip()})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
