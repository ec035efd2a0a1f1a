"""Environment settings the command line makes for itself, and the environment its children get.

pydantic looks for plugins among every installed package's entry points when it builds its
first model: about 20 ms of each command's start, for plugins stackyard never uses. The
command line turns that search off unless the user set ``PYDANTIC_DISABLE_PLUGINS``
themselves; the commands it runs for hooks get the user's environment, without it.

Python's cyclic garbage collector is held off while a command starts (see
:func:`defer_collection`).
"""

from __future__ import annotations

import gc
import os
import threading

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


#: How long a command starts with the cyclic garbage collector off.
STARTUP_SECONDS = 1.0


def defer_collection(seconds: float = STARTUP_SECONDS) -> None:
    """Keep the cyclic garbage collector off for the first ``seconds`` of the process.

    A command's start allocates mostly objects that live as long as it does: modules,
    classes, pydantic's validators, botocore's service models, the rendered templates.
    Each collection of the oldest generation walks all of them and frees almost nothing;
    while they pile up, those collections come every time the heap grows by a quarter,
    about 20 ms of a 40-stack build's first 0.3 s. Reference counting still frees everything
    that is not in a cycle, so holding the collector off for a moment costs little memory.
    When the moment ends, what exists by then is moved out of the collector's sight for
    good (``gc.freeze``) and collection resumes for what comes after.
    """
    if not gc.isenabled():
        return  # the user (or an embedding program) manages the collector
    gc.disable()
    timer = threading.Timer(seconds, _resume_collection)
    timer.daemon = True  # never keeps a finished command waiting
    timer.start()


def _resume_collection() -> None:
    gc.freeze()
    gc.enable()
