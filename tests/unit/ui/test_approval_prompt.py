"""The approval prompt shows its choices as written: rich must not read "[y]" as markup."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from stackyard.ui.approval import PROMPT, ask_once


def test_prompt_keeps_its_brackets(monkeypatch: Any) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    assert ask_once(console)([]) is False
    assert "[y]es / [n]o / [s]how full diff" in out.getvalue()
    assert PROMPT in out.getvalue()
