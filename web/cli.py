"""`lanxi`: the bot's command tree plus the commands that serve the web app."""

from __future__ import annotations

import time

import click

from bot import demo as demo_data
from bot import migrate
from bot.cli import cli, load_or_exit, with_runtime
from bot.config import replace
from bot.runtime import Runtime


def _serve(rt: Runtime, host: str, port: int) -> None:
    from waitress import serve as waitress_serve

    from web import create_app

    app = create_app(rt.settings, engine=rt.engine)
    click.echo(f"serving on http://{host}:{port}/  (Ctrl-C to stop)")
    waitress_serve(app, host=host, port=port, threads=8, ident="lanxi")


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default [web] host).")
@click.option("--port", default=None, type=int, help="Port (default [web] port).")
@with_runtime
def serve(rt: Runtime, host: str | None, port: int | None) -> None:
    """Panel + WeChat callbacks, one process."""
    _serve(rt, host or rt.settings.web.host, port or rt.settings.web.port)


@cli.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--residents", default=demo_data.DEMO_RESIDENTS, show_default=True, help="How many residents.")
@click.option("--no-serve", is_flag=True, help="Load the data and exit.")
@click.pass_context
def demo(ctx: click.Context, host: str | None, port: int | None, residents: int, no_serve: bool) -> None:
    """Demo database with realistic data (idempotent), then serve; prints URL and login."""
    settings = load_or_exit((ctx.obj or {}).get("config_path"))
    host, port = host or settings.web.host, port or settings.web.port
    settings = replace(settings, web={"public_base_url": f"http://{host}:{port}"})
    rt = Runtime.from_settings(settings)
    migrate.upgrade(rt.engine)
    started = time.perf_counter()
    with rt.session() as db:
        total = residents * (demo_data.HISTORY_DAYS + 2)
        with click.progressbar(length=total, label="loading demo data", show_eta=True) as bar:
            loaded = demo_data.seed(db, settings, residents=residents, progress=bar.update)
        logins = demo_data.demo_logins(db)
    elapsed = time.perf_counter() - started
    click.echo(
        f"demo data {'loaded' if loaded else 'already present'} in {elapsed:.1f} s ({settings.database.url})"
    )
    click.echo(f"\nOpen http://{host}:{port}/ and sign in with (passwords shown once, new each run):")
    for login in logins:
        click.echo(f"  {login.username:<10} {login.password:<16} {login.role.value}")
    if not no_serve:
        _serve(rt, host, port)


def main() -> None:
    cli(prog_name="lanxi")
