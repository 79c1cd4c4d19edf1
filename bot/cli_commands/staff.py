"""`lanxi users create` and `lanxi tokens create|list|revoke`."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import with_runtime
from bot.models import ApiToken, JurisdictionKind, Role, StaffUser
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


def _user(db: Session, username: str) -> StaffUser:
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise click.ClickException(f"no such user: {username}")
    return user


@tokens.command("create")
@click.option("--username", required=True)
@click.option("--label", default="")
@with_runtime
def create_token(rt: Runtime, username: str, label: str) -> None:
    """Print a new API bearer token for a user (shown once; stored only as a hash)."""
    with rt.session() as db:
        token = staff.create_api_token(db, CLI, _user(db, username), label)
    click.echo(token)


@tokens.command("list")
@click.option("--username", default=None, help="Only this user's tokens.")
@with_runtime
def list_tokens(rt: Runtime, username: str | None) -> None:
    """Every token with its id (for `tokens revoke`), owner, label, and when it was made, used, revoked."""

    def when(moment: datetime | None) -> str:
        return moment.astimezone(rt.settings.tz).strftime("%Y-%m-%d %H:%M") if moment else "-"

    with rt.session() as db:
        rows = staff.api_tokens(db, _user(db, username) if username else None)
        click.echo("id\tuser\tlabel\tcreated\tlast used\trevoked")
        for row in rows:
            fields = (row.id, row.user.username, row.label or "-", when(row.created_at))
            click.echo("\t".join(map(str, (*fields, when(row.last_used_at), when(row.revoked_at)))))


@tokens.command("revoke")
@click.argument("references", nargs=-1, metavar="[TOKEN_ID_OR_TOKEN]...")
@click.option("--username", default=None, help="Revoke all of this user's tokens (or only the ones named).")
@with_runtime
def revoke_tokens(rt: Runtime, references: tuple[str, ...], username: str | None) -> None:
    """Revoke tokens by the id `tokens list` shows or by the token itself, or all of a user's.

    Nothing is revoked when any token named is unknown or belongs to another user than --username."""
    if not references and not username:
        raise click.UsageError("name the tokens to revoke, or --username for all of a user's tokens")
    with rt.session() as db:
        user = _user(db, username) if username else None
        if not references and user is not None:
            count = staff.revoke_api_tokens(db, CLI, user)
            click.echo(f"revoked {count} token(s) of {user.username}")
            return
        named = [_named_token(db, reference, user) for reference in references]
        for token in named:
            done = staff.revoke_api_token(db, CLI, token)
            click.echo(
                f"token {token.id} of {token.user.username}: {'revoked' if done else 'already revoked'}"
            )


def _named_token(db: Session, reference: str, user: StaffUser | None) -> ApiToken:
    token = staff.find_api_token(db, reference)
    shown = reference if reference.isdecimal() else "(the token given)"  # never echo a secret
    if token is None:
        raise click.ClickException(f"no such token: {shown}")
    if user is not None and token.user_id != user.id:
        raise click.ClickException(f"token {token.id} belongs to {token.user.username}, not {user.username}")
    return token
