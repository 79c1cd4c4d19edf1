"""`lanxi advisories send ID`: send an approved advisory now and follow its delivery with a progress bar."""

from __future__ import annotations

import sys
import time

import click

from bot.cli import with_runtime
from bot.clock import now_utc
from bot.db import begin_immediate
from bot.runtime import Runtime
from bot.services import advisories as advisory_service
from bot.services import advisory_sending
from bot.services.advisories import AdvisoryError
from bot.services.advisory_sending import Progress
from bot.services.audit import CLI


@click.group()
def advisories() -> None:
    """Advisory letters pushed to WeChat groups."""


def _start(rt: Runtime, advisory_id: int) -> advisory_sending.Started:
    with rt.session() as db:
        begin_immediate(db)
        advisory = advisory_service.get(db, advisory_id)
        if advisory is None:
            raise click.ClickException(f"倡议书 {advisory_id} 不存在。")
        try:
            return advisory_sending.start(db, rt.settings, CLI, advisory, now_utc())
        except AdvisoryError as exc:
            raise click.ClickException(str(exc)) from None


def _poll(rt: Runtime, advisory_id: int) -> Progress:
    with rt.session() as db:
        begin_immediate(db)
        advisory = advisory_service.get(db, advisory_id)
        assert advisory is not None
        advisory_sending.finish_if_done(db, advisory, now_utc())
        return advisory_sending.progress(db, advisory)


@advisories.command("send")
@click.argument("advisory_id", type=int)
@click.option("--wait/--no-wait", default=True, help="Follow delivery until every target settled (default).")
@click.option("--timeout", type=float, default=600.0, show_default=True, help="Seconds to follow delivery.")
@click.option(
    "--interval", type=float, default=1.0, show_default=True, help="Seconds between progress checks."
)
@with_runtime
def send(rt: Runtime, advisory_id: int, wait: bool, timeout: float, interval: float) -> None:
    """Send an approved (or scheduled) advisory now; running it again sends nothing twice."""
    started = _start(rt, advisory_id)
    click.echo(f"倡议书 {advisory_id}：{started.targets} 个发送对象，本次新排队 {started.queued} 条。")
    if not wait:
        return
    from bot.delivery.setup import start_delivery

    stop = start_delivery(rt)
    rt.notify_outbox()
    deadline = time.monotonic() + timeout
    try:
        with click.progressbar(length=max(started.targets, 1), label="发送进度", show_pos=True) as bar:
            shown = 0
            while True:
                state = _poll(rt, advisory_id)
                bar.update(state.settled - shown)
                shown = state.settled
                if state.settled >= state.total or time.monotonic() > deadline:
                    break
                time.sleep(interval)
    finally:
        stop()
    counts = state.counts
    click.echo(
        f"已发送 {counts['sent']}，失败 {counts['failed']}，待人工转发 {counts['awaiting_forward']}，"
        f"已转发 {counts['forwarded']}，排队中 {counts['queued']}，已撤销 {counts['cancelled']}。"
    )
    if counts["queued"]:
        click.echo("仍有消息在排队（频率限制或重试中），稍后由后台继续发送。", err=True)
        sys.exit(1)
    if counts["failed"]:
        click.echo("有发送失败的目标：可在管理后台查看原因并「重发失败项」。", err=True)
        sys.exit(1)
