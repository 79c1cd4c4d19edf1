"""The `lanxi` command tree (the parts that need no web app; web.cli adds serve and demo)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from bot.config import ConfigError, Settings, load_settings
from bot.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


def load_or_exit(config_path: str | None) -> Settings:
    try:
        return load_settings(config_path)
    except ConfigError as exc:
        click.echo(f"lanxi: configuration error: {exc}", err=True)
        sys.exit(2)


def with_runtime(command: F) -> F:
    """Adds ``--config`` to a command and passes it a Runtime built from the settings."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="TOML configuration file (default: $LANXI_CONFIG, ./config.toml, built-in demo set-up).",
    )
    @click.pass_context
    @functools.wraps(command)
    def wrapped(ctx: click.Context, config_path: str | None, *args: Any, **kwargs: Any) -> Any:
        path = config_path or (ctx.obj or {}).get("config_path")
        rt = Runtime.from_settings(load_or_exit(path))
        try:
            return ctx.invoke(command, rt, *args, **kwargs)
        finally:  # close the pool's connections now, not whenever the collector gets to them
            rt.engine.dispose()

    return wrapped  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML configuration file for every command.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Lanxi Outreach: WeChat check-ins, advisories and rumor tips for the county bureau."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


def register(group: click.Group) -> None:
    from bot.cli_commands import advisories, db, ops, registry, staff

    group.add_command(db.db)
    group.add_command(staff.users)
    group.add_command(staff.tokens)
    group.add_command(ops.jobs)
    group.add_command(ops.scheduler)
    group.add_command(ops.worker)
    group.add_command(ops.fake_wechat)
    group.add_command(advisories.advisories)
    group.add_command(registry.residents)
    group.add_command(registry.jurisdictions)


register(cli)
