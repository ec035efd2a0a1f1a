"""The console's width and colour: unbounded without a terminal, COLUMNS and NO_COLOR obeyed."""

from __future__ import annotations

import io
import os

import pytest

from stackyard.ui.terminal import UNBOUNDED, make_console


def test_without_a_terminal_the_width_is_unbounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert make_console(io.StringIO()).width == UNBOUNDED


def test_columns_chooses_the_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "132")
    assert make_console(io.StringIO()).width == 132


def test_no_color_turns_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    make_console(out).print("[red]red[/]")
    assert out.getvalue() == "red\n"


def test_the_no_color_flag_sets_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    from stackyard.cli.main import main

    monkeypatch.delenv("NO_COLOR", raising=False)
    with pytest.raises(SystemExit):
        main(["--version", "--no-color"])
    assert os.environ.get("NO_COLOR") == "1"
