"""Environment settings the command line makes for itself, and the environment its children get.

pydantic looks for plugins among every installed package's entry points when it builds its
first model: about 20 ms of each command's start, for plugins stackyard never uses. The
command line turns that search off unless the user set ``PYDANTIC_DISABLE_PLUGINS``
themselves; the commands it runs for hooks get the user's environment, without it.
"""

from __future__ import annotations

import os

#: What the command line sets for its own process when the user has not.
CLI_SETTINGS: dict[str, str] = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}

_set_here: set[str] = set()


def apply_cli_settings() -> None:
    """Set :data:`CLI_SETTINGS` the user left unset, remembering which."""
    for key, value in CLI_SETTINGS.items():
        if key not in os.environ:
            os.environ[key] = value
            _set_here.add(key)


def for_children() -> dict[str, str]:
    """The environment a command started for the user gets: this process's, without what
    :func:`apply_cli_settings` set."""
    return {k: v for k, v in os.environ.items() if k not in _set_here}
