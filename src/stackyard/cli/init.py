"""``stackyard init [FOLDER]``: write a minimal working project."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite the starter files if they exist.")
def init(folder: str, force: bool) -> None:
    """Write a minimal project into FOLDER (default: here): a config, an environment file,
    one Python blueprint and one raw template, ready for `validate` and `build --local`."""
    from stackyard.scaffold import write_project

    for path in write_project(Path(folder), force=force):
        click.echo(f"wrote {path}")
    click.echo(f"next: cd {folder} && stackyard validate stage.env stackyard.yaml")
