"""`lanxi jobs`, `lanxi scheduler`, `lanxi worker`, `lanxi fake-wechat`."""

from __future__ import annotations

import json
import signal
import sys
from types import FrameType

import click

from bot.cli import load_or_exit, with_runtime
from bot.jobs import JOBS, run_job
from bot.runtime import Runtime


@click.group()
def jobs() -> None:
    """The scheduler's declared jobs."""


@jobs.command("list")
@with_runtime
def list_jobs(rt: Runtime) -> None:
    """Show every declared job and when it runs."""
    for spec in JOBS:
        when = f"daily {spec.daily_at(rt.settings)}" if spec.daily_at else f"every {spec.every_seconds}s"
        click.echo(f"{spec.id:<20} {when:<14} {spec.description}")


@jobs.command("run")
@click.argument("job_id")
@with_runtime
def run(rt: Runtime, job_id: str) -> None:
    """Run one job now, by the same code path as the schedule."""
    if job_id not in {spec.id for spec in JOBS}:
        raise click.BadParameter(f"unknown job; known: {', '.join(s.id for s in JOBS)}", param_hint="JOB_ID")
    from bot.delivery.setup import start_delivery

    stop = start_delivery(rt, threads=False)
    try:
        summary = run_job(rt, job_id)
    finally:
        stop()
    click.echo(json.dumps(summary, ensure_ascii=False, default=str))


@click.command()
@click.option("--exit-if-running", is_flag=True, help="Exit with status 3 instead of waiting for the lease.")
@with_runtime
def scheduler(rt: Runtime, exit_if_running: bool) -> None:
    """The scheduler alone. Exactly one runs: a second waits (or exits) while the first lives."""
    from bot.delivery.setup import start_delivery
    from bot.scheduler import SingleScheduler

    single = SingleScheduler(rt)
    stop_delivery = start_delivery(rt, threads=False)

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        single.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        single.run(
            wait=not exit_if_running,
            on_waiting=lambda holder: click.echo(f"another scheduler is running ({holder}); waiting"),
        )
    except RuntimeError as exc:
        click.echo(f"lanxi scheduler: {exc}", err=True)
        sys.exit(3)
    finally:
        stop_delivery()


@click.command()
@click.option(
    "--concurrency", type=int, default=None, help="Delivery threads (default [delivery] concurrency)."
)
@with_runtime
def worker(rt: Runtime, concurrency: int | None) -> None:
    """Outbound delivery worker: Celery on the broker when [delivery] backend = "celery"."""
    settings = rt.settings
    if settings.delivery.backend == "celery":
        from bot.delivery.celery_backend import run_worker

        run_worker(settings, concurrency)
        return
    from bot.delivery.setup import run_inline_forever

    click.echo("delivery backend is inline: delivering from this process until stopped")
    run_inline_forever(rt, concurrency)


@click.command("fake-wechat")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8091, type=int, show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None)
@click.pass_context
def fake_wechat(ctx: click.Context, host: str, port: int, config_path: str | None) -> None:
    """The local stand-in for WeChat's API servers (credentials from the configuration)."""
    from bot.fake_wechat import configured_state, main

    settings = load_or_exit(config_path or (ctx.obj or {}).get("config_path"))
    click.echo(
        f"fake WeChat on http://{host}:{port}/ (app {settings.wechat.app_id}, corp {settings.wecom.corp_id})"
    )
    main(configured_state(settings), host=host, port=port)
