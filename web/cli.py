"""`lanxi`: the bot's command tree plus the commands that serve the web app."""

from __future__ import annotations

import time

import click

from bot import demo as demo_data
from bot import migrate
from bot.cli import cli, load_or_exit
from bot.config import Settings, WebSettings, replace
from bot.runtime import Runtime


def _listening(settings: Settings, host: str | None, port: int | None) -> Settings:
    """Settings whose public address follows --host/--port when it was the default one."""
    host, port = host or settings.web.host, port or settings.web.port
    if settings.web.public_base_url == WebSettings.public_base_url:
        settings = replace(settings, web={"public_base_url": f"http://{host}:{port}"})
    return replace(settings, web={"host": host, "port": port})


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default [web] host).")
@click.option("--port", default=None, type=int, help="Port (default [web] port).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Panel + WeChat callbacks + scheduler + inline delivery, one process."""
    from web.server import serve as run_server

    settings = _listening(load_or_exit((ctx.obj or {}).get("config_path")), host, port)
    click.echo(f"serving on http://{settings.web.host}:{settings.web.port}/  (Ctrl-C to stop)")
    run_server(settings, settings.web.host, settings.web.port)


@cli.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--residents", default=demo_data.DEMO_RESIDENTS, show_default=True, help="How many residents.")
@click.option("--no-serve", is_flag=True, help="Load the data and exit.")
@click.pass_context
def demo(ctx: click.Context, host: str | None, port: int | None, residents: int, no_serve: bool) -> None:
    """Demo database with realistic data (idempotent), then serve; prints URL and login."""
    settings = _listening(load_or_exit((ctx.obj or {}).get("config_path")), host, port)
    host, port = settings.web.host, settings.web.port
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
        from web.server import serve as run_server

        click.echo(f"chat as a resident at http://{host}:{port}/simulator")
        run_server(settings, host, port, rt)


def main() -> None:
    cli(prog_name="lanxi")


if __name__ == "__main__":
    main()
