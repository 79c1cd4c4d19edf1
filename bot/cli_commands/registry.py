"""`lanxi residents import` and `lanxi jurisdictions import`: the registry files townships deliver."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session

from bot.cli import with_runtime
from bot.clock import local_today
from bot.importing import ImportFileError, RowError, build_error_report_xlsx
from bot.runtime import Runtime
from bot.services import jurisdiction_import, resident_import
from bot.services.audit import CLI

ERRORS_SHOWN = 200


@contextmanager
def _unit_of_work(rt: Runtime, *, commit: bool) -> Iterator[Session]:
    """A session that commits on success (or rolls back anyway, for a dry run)."""
    db = rt.sessions()
    try:
        yield db
        if commit:
            db.commit()
        else:
            db.rollback()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def _echo_errors(errors: Sequence[RowError], file_errors: Sequence[str]) -> None:
    for message in file_errors:
        click.echo(f"文件错误：{message}", err=True)
    for error in errors[:ERRORS_SHOWN]:
        shown = f"（{error.value_shown_masked}）" if error.value_shown_masked else ""
        click.echo(f"{error}{shown}", err=True)
    if len(errors) > ERRORS_SHOWN:
        click.echo(f"……另有 {len(errors) - ERRORS_SHOWN} 处错误未列出", err=True)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"无法读取文件 {path}：{exc.strerror}") from None


@click.group()
def residents() -> None:
    """The resident registry."""


@residents.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid rows; write the rejected ones to FILE.errors.xlsx.",
)
@with_runtime
def import_residents(rt: Runtime, file: str, dry_run: bool, skip_invalid: bool) -> None:
    """Import residents from an .xlsx or .csv file (all-or-nothing unless --skip-invalid)."""
    data = _read(file)
    with _unit_of_work(rt, commit=not dry_run) as db:
        try:
            result = resident_import.validate_file(db, data, file, today=local_today(rt.settings.tz))
        except ImportFileError as exc:
            raise click.ClickException(exc.message_zh) from None
        for warning in (*result.file_warnings, *(str(w) for w in result.warnings)):
            click.echo(f"提示：{warning}", err=True)
        _echo_errors(result.errors, result.file_errors)
        if result.file_errors or (not result.ok and not skip_invalid):
            raise click.ClickException(
                f"共 {result.total_rows} 行，{len(result.bad_rows)} 行有错误，未导入任何数据。"
                "改正后重新导入，或加 --skip-invalid 只导入正确的行。"
            )
        with click.progressbar(length=len(result.rows), label="导入中", file=sys.stderr) as bar:
            summary = resident_import.apply(
                db, CLI, result, skip_invalid=skip_invalid, progress=bar.update, source=Path(file).name
            )
    prefix = "试运行（未写入数据库）：将" if dry_run else "已"
    click.echo(
        f"{prefix}新增 {summary.created} 人，更新 {summary.updated} 人，"
        f"{summary.unchanged} 人无变化，跳过 {summary.skipped} 行。"
    )
    if result.bad_rows:
        report = Path(f"{file}.errors.xlsx")
        report.write_bytes(build_error_report_xlsx(result.headers, result.bad_rows))
        click.echo(f"未导入的 {len(result.bad_rows)} 行及错误说明已写入 {report}")


@click.group()
def jurisdictions() -> None:
    """Townships, streets and police stations."""


@jurisdictions.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_runtime
def import_jurisdictions(rt: Runtime, file: str) -> None:
    """Create or update the township/street → police-station tree from an .xlsx or .csv file."""
    data = _read(file)
    with _unit_of_work(rt, commit=True) as db:
        try:
            result = jurisdiction_import.validate_file(data, file)
        except ImportFileError as exc:
            raise click.ClickException(exc.message_zh) from None
        _echo_errors(result.errors, result.file_errors)
        if not result.ok:
            raise click.ClickException(
                f"{len(result.file_errors) + len(result.errors)} 处错误，未导入任何数据。"
            )
        summary = jurisdiction_import.apply(db, CLI, result, source=Path(file).name)
    click.echo(
        f"乡镇街道：新增 {summary.townships_created} 个，已有 {summary.townships_kept} 个；"
        f"派出所：新增 {summary.stations_created} 个，已有 {summary.stations_kept} 个。"
    )
