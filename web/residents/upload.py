"""Importing the resident registry from the panel: upload → preview with every problem → confirm.

The uploaded file waits on the server (``UploadStore``), named by a random token the session
holds, until it is imported, cancelled or an hour old. The preview is the same validation the
import repeats at confirmation (the jurisdictions may have changed in between). With "skip
invalid rows" the good rows are imported and the bad ones offered as a spreadsheet.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import current_app, flash, redirect, render_template, send_file, session, url_for
from flask.typing import ResponseReturnValue

from bot.clock import local_today
from bot.importing import ImportFileError, ValidationResult, build_error_report_xlsx, build_template_xlsx
from bot.services import resident_import
from bot.services.permissions import Permission
from web.db import get_db, runtime
from web.residents import bp
from web.residents.import_forms import CancelForm, ConfirmForm, UploadForm
from web.residents.uploads import UploadStore
from web.roles import actor, require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PENDING = "resident_import"  # session: {"token", "name", "skip", "report"}
REPORT = "resident_import_report"  # session: token of the last import's rejected rows
ERRORS_SHOWN = 1000


def _store() -> UploadStore:
    store = current_app.extensions.get("lanxi_uploads")
    if store is None:
        configured = current_app.config.get("LANXI_UPLOAD_DIR")
        store = UploadStore(Path(configured) if configured else None)
        current_app.extensions["lanxi_uploads"] = store
    return store


def _validate(data: bytes, name: str) -> ValidationResult:
    return resident_import.validate_file(get_db(), data, name, today=local_today(runtime().settings.tz))


def _download(data: bytes, name: str) -> ResponseReturnValue:
    response = send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def _keep_report(result: ValidationResult) -> str | None:
    if not result.bad_rows:
        return None
    return _store().put(build_error_report_xlsx(result.headers, result.bad_rows))


@bp.route("/import")
@require(Permission.IMPORT_RESIDENTS)
def import_form() -> ResponseReturnValue:
    return render_template("residents/import.html", form=UploadForm(formdata=None))


@bp.route("/import/template.xlsx")
@require(Permission.IMPORT_RESIDENTS)
def import_template() -> ResponseReturnValue:
    return _download(build_template_xlsx(), "外出人员登记表模板.xlsx")


def _forget_pending() -> None:
    pending = session.pop(PENDING, None) or {}
    _store().delete(pending.get("token"))
    _store().delete(pending.get("report"))


@bp.route("/import", methods=["POST"])
@require(Permission.IMPORT_RESIDENTS)
def import_preview() -> ResponseReturnValue:
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("residents/import.html", form=form), 400
    upload = form.file.data
    name = Path(upload.filename or "upload.xlsx").name[:120]
    data = upload.read()
    try:
        result = _validate(data, name)
    except ImportFileError as exc:
        form.file.errors = [exc.message_zh]
        return render_template("residents/import.html", form=form), 400
    _forget_pending()
    token = _store().put(data)
    session[PENDING] = {
        "token": token,
        "name": name,
        "skip": bool(form.skip_invalid.data),
        "report": _keep_report(result),
    }
    return render_template(
        "residents/import_preview.html",
        result=result,
        name=name,
        skip=bool(form.skip_invalid.data),
        errors_shown=ERRORS_SHOWN,
        confirm_form=ConfirmForm(formdata=None, token=token),
        cancel_form=CancelForm(formdata=None, token=token),
    )


def _pending(form: ConfirmForm | CancelForm) -> dict[str, Any] | None:
    pending = session.get(PENDING)
    if (
        not form.validate_on_submit()
        or not isinstance(pending, dict)
        or pending.get("token") != form.token.data
    ):
        return None
    return pending


@bp.route("/import/errors.xlsx")
@require(Permission.IMPORT_RESIDENTS)
def import_errors() -> ResponseReturnValue:
    """The rejected rows, each with what is wrong: of the upload in preview, else of the last import."""
    pending = session.get(PENDING) or {}
    report = _store().get(pending.get("report")) or _store().get(session.get(REPORT))
    if report is None:
        flash("没有可下载的错误行（文件已导入或已超过 1 小时），请重新上传。", "error")
        return redirect(url_for("residents.import_form"))
    return _download(report, "未导入的行.xlsx")


@bp.route("/import/cancel", methods=["POST"])
@require(Permission.IMPORT_RESIDENTS)
def import_cancel() -> ResponseReturnValue:
    if _pending(CancelForm()) is not None:
        _forget_pending()
    flash("已取消导入。")
    return redirect(url_for("residents.import_form"))


@bp.route("/import/confirm", methods=["POST"])
@require(Permission.IMPORT_RESIDENTS)
def import_confirm() -> ResponseReturnValue:
    pending = _pending(ConfirmForm())
    data = _store().get(pending.get("token")) if pending else None
    if pending is None or data is None:
        flash("上传的文件已失效（已导入、已取消或超过 1 小时），请重新上传。", "error")
        return redirect(url_for("residents.import_form"))
    db = get_db()
    try:
        result = _validate(data, pending["name"])
        summary = resident_import.apply(
            db, actor(), result, skip_invalid=pending["skip"], source=pending["name"]
        )
    except (ImportFileError, resident_import.ImportRefused) as exc:
        db.rollback()
        flash(f"未导入：{getattr(exc, 'message_zh', exc)}", "error")
        return redirect(url_for("residents.import_form"))
    db.commit()
    _forget_pending()
    report = _keep_report(result)
    session[REPORT] = report
    return render_template("residents/import_done.html", summary=summary, name=pending["name"], report=report)
