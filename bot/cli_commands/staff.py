"""`lanxi users create` and `lanxi tokens create`."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from bot.cli import with_runtime
from bot.models import JurisdictionKind, Role, StaffUser
from bot.runtime import Runtime
from bot.services import jurisdictions, staff
from bot.services.audit import CLI


@click.group()
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option(
    "--jurisdiction",
    "where",
    default=None,
    help="Name or code of the township or station; default the whole county.",
)
@click.option("--display-name", default="")
@with_runtime
def create_user(rt: Runtime, username: str, role: str, where: str | None, display_name: str) -> None:
    """Create a staff account. The password is read from stdin, or generated and printed once."""
    password = _password_from_stdin()
    generated = password is None
    password = password or staff.generate_password()
    try:
        with rt.session() as db:
            place = jurisdictions.find(db, where) if where else jurisdictions.county(db)
            if Role(role) == Role.STATION_OFFICER and place.kind != JurisdictionKind.STATION:
                raise click.UsageError("a station_officer needs --jurisdiction naming a police station")
            staff.create_user(
                db,
                CLI,
                username=username,
                role=Role(role),
                jurisdiction=place,
                password=password,
                display_name=display_name,
            )
    except (staff.StaffError, jurisdictions.JurisdictionError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {username} ({role}) in {place.name}")
    if generated:
        click.echo(f"password (shown once): {password}")


def _password_from_stdin() -> str | None:
    if sys.stdin is None or sys.stdin.isatty():
        return None
    value = sys.stdin.readline().rstrip("\n")
    return value or None


@click.group()
def tokens() -> None:
    """API bearer tokens."""


@tokens.command("create")
@click.option("--username", required=True)
@click.option("--label", default="")
@with_runtime
def create_token(rt: Runtime, username: str, label: str) -> None:
    """Print a new API bearer token for a user (shown once; stored only as a hash)."""
    with rt.session() as db:
        user = db.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            raise click.ClickException(f"no such user: {username}")
        token = staff.create_api_token(db, CLI, user, label)
    click.echo(token)
