"""`lanxi db upgrade|current`."""

from __future__ import annotations

import click

from bot import migrate
from bot.cli import with_runtime
from bot.runtime import Runtime


@click.group()
def db() -> None:
    """Database migrations (Alembic)."""


@db.command()
@with_runtime
def upgrade(rt: Runtime) -> None:
    """Apply every pending migration."""
    migrate.upgrade(rt.engine)
    click.echo(f"database at revision {migrate.current_revision(rt.engine)}")


@db.command()
@with_runtime
def current(rt: Runtime) -> None:
    """Print the database's revision and the code's head."""
    current_rev = migrate.current_revision(rt.engine) or "(empty)"
    heads = ", ".join(migrate.head_revisions())
    click.echo(f"current: {current_rev}\nhead:    {heads}")
    if current_rev not in migrate.head_revisions():
        click.echo("the database is behind: run `lanxi db upgrade`")
