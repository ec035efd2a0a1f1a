"""README's benchmark figures are the ones printed by the benchmark run it names.

README quotes one run of `make bench` (its results file is committed under ``bench/results``):
every ratio, range and target value it quotes must be in that file, so a new run cannot
leave README quoting an older one.
"""

from __future__ import annotations

import re
from pathlib import Path

EN_DASH = "\N{EN DASH}"  # README writes ranges with it
ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## How it compares", 1)[1].split("\n## ", 1)[0]
PROSE = " ".join(SECTION.split())  # the sentences, whatever their line breaks


def _results() -> str:
    named = re.findall(r"bench/results/[\w.-]+\.md", SECTION)
    assert len(set(named)) == 1, f"README's comparison should name one results file: {named}"
    return (ROOT / named[0]).read_text(encoding="utf-8")


def _rows(text: str) -> list[list[str]]:
    """A markdown table's rows (its header first), without the |---| line."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|") and not line.startswith(("|--", "|:"))
    ]


def _table(results: str, title: str) -> dict[tuple[str, str, str], dict[str, str]]:
    """A ratio table of the results file: (stacks, latency, scenario) → peer → cell."""
    block = results.split(title, 1)[1].split("\n\n", 2)[1]
    header, *rows = _rows(block)
    return {
        (row[0], row[1], row[2]): {
            peer: cell for peer, cell in zip(header[3:], row[3:], strict=True) if cell
        }
        for row in rows
    }


def _target(results: str, starts: str) -> list[float]:
    for row in _rows(results):
        if row[0].startswith(starts):
            return [float(v) for v in row[1].split(", ")]
    raise AssertionError(f"no target row {starts!r} in the results file")


def test_the_comparison_table_is_the_results_files() -> None:
    results = _results()
    walls = _table(results, "Wall time of the command:")
    calls = _table(results, "CloudFormation calls:")
    table = SECTION.split("\n\n| stacks")[1].split("\n\n", 1)[0]
    header, *rows = _rows("| stacks" + table)
    peers = [h.split(":")[0] for h in header[3:]]
    checked = 0
    for row in rows:
        key = (row[0], row[1], row[2])
        for peer, cell in zip(peers, row[3:], strict=True):
            if not cell:
                continue
            (column,) = [c for c in walls[key] if c.split(" (")[0] == peer]
            wall, call = (part.strip() for part in cell.split("/"))
            assert wall == walls[key][column].replace("-", EN_DASH), (key, peer)
            assert call == calls[key][column].split(" ")[0], (key, peer)
            checked += 1
    assert checked >= 10


def test_the_targets_quoted_are_the_results_files() -> None:
    results = _results()
    quoted = {
        "makespan ÷ nominal": r"÷ the nominal critical path ([\d.]+)\N{EN DASH}([\d.]+)",
        "makespan ÷ measured": r"÷ the measured critical path ([\d.]+)\N{EN DASH}([\d.]+)",
        "first stack operation": r"first stack operation ([\d.]+)\N{EN DASH}([\d.]+) s",
    }
    for row, pattern in quoted.items():
        found = re.search(pattern, PROSE)
        assert found, f"README should quote {row!r}"
        values = _target(results, row)
        assert (float(found[1]), float(found[2])) == (min(values), max(values)), row
    worst = re.search(r"in every pair \(worst ([\d.]+)\)", PROSE)
    assert worst and [float(worst[1])] == _target(results, "CFN calls")
    helped = re.search(r"`stackyard --help` ([\d.]+) s", PROSE)
    assert helped and [float(helped[1])] == _target(results, "`stackyard --help`")


def test_the_scale_figures_quoted_are_the_results_files() -> None:
    results = _results()
    found = re.search(
        r"no-op rebuild of 1,000 stacks takes ([\d.]+) s and (\d+) calls \(([\d.]+) ms per "
        r"extra stack from 300 to 1,000; peak (\d+) MiB\)",
        PROSE,
    )
    assert found, "README should quote the 1,000-stack no-op rebuild"
    (row,) = [r for r in _rows(results) if r[:2] == ["no-op rebuild", "1000"]]
    assert [row[2], row[5], row[4], row[7]] == [found[1], found[2], found[3], found[4]]


def test_the_canary_figures_quoted_are_the_results_files() -> None:
    figures = {row[0]: row[1] for row in _rows(_results()) if len(row) == 2}
    found = re.search(
        r"read back from the listener ([\d.]+ s) after `apps deploy -e stage/canary` starts "
        r"\(([\d.]+ s) when the deploy first creates the canary's stack\), ([\d.]+ s) after "
        r".* costs (\d+) read calls .* and (\d+) ModifyRule",
        PROSE,
    )
    assert found, "README should quote the canary rollout figures"
    assert found[1] == figures["deploy to first step's weight confirmed, updating it (median)"]
    assert found[2] == figures["deploy to first step's weight confirmed, creating the canary"]
    assert found[3] == figures["of which after the ECS deployments completed (median)"]
    assert figures["read calls per rollout step (median)"].startswith(found[4] + " ")
    assert figures["ModifyRule calls per step"] == found[5]
