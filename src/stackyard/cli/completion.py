"""``stackyard completion bash|zsh|fish``: the shell script that completes commands and options.

Click writes the script; this command prints it so it can be sourced or saved::

    eval "$(stackyard completion bash)"          # in ~/.bashrc
    stackyard completion fish > ~/.config/fish/completions/stackyard.fish
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    For bash add `eval "$(stackyard completion bash)"` to ~/.bashrc; for zsh the same
    with zsh in ~/.zshrc; for fish save it as ~/.config/fish/completions/stackyard.fish.
    """
    from click.shell_completion import get_completion_class

    from stackyard.cli.main import cli

    completer = get_completion_class(shell)
    assert completer is not None  # click ships all three
    script = completer(cli, {}, "stackyard", "_STACKYARD_COMPLETE").source()
    click.echo(script)
